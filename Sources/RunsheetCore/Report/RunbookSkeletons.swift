import Foundation
import Mustache

/// Skeletons for new runbooks, one per kind: `templates/runbooks/KIND.md.mustache`. Their own
/// values use `<% name %>` (set by a delimiter line), so the runbook's `{{param}}` placeholders
/// pass through untouched; the front matter they share is the partial `_front-matter.mustache`.
public enum RunbookSkeletons {
    public struct Kind: Sendable, Equatable {
        public var name: String
        /// The template's first line, `{{! … }}`.
        public var description: String
        /// The part of the description before the colon, used as the default title.
        public var defaultTitle: String
        /// True when the skeleton has a `<% service %>` (or `<% serviceYAML %>`) value.
        public var usesService: Bool
    }

    /// The values a skeleton takes.
    public static let variables = ["title", "id", "owner", "service", "components"]

    public static var kinds: [Kind] {
        BuiltinTemplates.runbooks.keys.sorted().map { name in
            let text = BuiltinTemplates.runbooks[name] ?? ""
            let first = text.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? ""
            var description = first
            if description.hasPrefix("{{!") && description.hasSuffix("}}") {
                description = String(description.dropFirst(3).dropLast(2)).trimmed
            }
            let title = description.split(separator: ":", maxSplits: 1).first.map { String($0).trimmed } ?? name
            return Kind(name: name, description: description, defaultTitle: title, usesService: text.contains("<% service %>") || text.contains("<% serviceYAML %>"))
        }
    }

    public static func kind(_ name: String) -> Kind? { kinds.first { $0.name == name } }

    /// Fills the skeleton of `kind`; `values` holds title, id, owner and service, and may hold
    /// components (configuration items, comma-separated).
    public static func render(kind: String, values: [String: String]) throws -> String {
        guard let text = BuiltinTemplates.runbooks[kind] else {
            throw ReportRenderer.TemplateError(message: "there is no runbook kind '\(kind)'")
        }
        var library = MustacheLibrary()
        for (name, partial) in BuiltinTemplates.runbookPartials { try library.register(partial, named: name) }
        try library.register(text, named: kind)
        // The CONTENT_TYPE: TEXT pragma in every skeleton keeps values unescaped. Front matter
        // takes each value as a YAML double-quoted scalar (a JSON string is one), so a title
        // like "Deploy: part 2" stays a title.
        var context: [String: String] = values
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        for (name, value) in values {
            let quoted = (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
            context[name + "YAML"] = quoted
        }
        context["componentsLine"] = componentsLine(values["components"])
        return library.render(context, withTemplate: kind) ?? ""
    }

    /// The front-matter line naming the configuration items a production skeleton changes: the
    /// given ones as YAML strings, or, when none are given, a comment saying where to name them
    /// (a name the inventory does not list would be an error of `check`).
    static func componentsLine(_ given: String?) -> String {
        let names = (given ?? "").split(separator: ",").map { String($0).trimmed }.filter { !$0.isEmpty }
        guard !names.isEmpty else {
            return "# components: [ITEM]   # the configuration items it changes, as .runsheet/inventory.yaml names them"
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let quoted = names.map { (try? encoder.encode($0)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\"" }
        return "components: [" + quoted.joined(separator: ", ") + "]"
    }
}
