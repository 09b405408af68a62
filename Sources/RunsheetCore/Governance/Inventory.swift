import Foundation
import Yams

/// The repository's configuration items: `.runsheet/inventory.yaml`, found like the roles file.
///
/// ```yaml
/// items:
///   payments-db: {owner: dba, criticality: critical}
///   checkout-api: {owner: sre, criticality: high}
/// ```
///
/// A runbook names the items it changes (`components:` in its front matter, for all its
/// production steps; `Components:` on a step). Item names are compared as environment lock keys
/// are (`EnvironmentLock.Key.canonical`: letter case, width and invisible characters aside).
public struct Inventory: Sendable, Equatable {
    public static let relativePath = ".runsheet/inventory.yaml"

    /// How much an item matters; the keys the policy's `criticality` may use.
    public enum Criticality: String, Sendable, CaseIterable, Codable {
        case low, high, critical
    }

    public struct Item: Sendable, Equatable, Codable {
        public var name: String
        /// The role whose members own the item.
        public var owner: String
        public var criticality: Criticality
        /// Where the item's owner was written, for `check`.
        public var line: Int
        public var column: Int
    }

    public var path: String
    /// By canonical name.
    public var items: [String: Item]

    public init(path: String, items: [String: Item] = [:]) {
        self.path = path
        self.items = items
    }

    /// The item a runbook's name refers to, if the inventory lists it.
    public func item(_ name: String) -> Item? { items[EnvironmentLock.Key.canonical(name)] }

    /// Names written as a YAML list or one string, or as `a, b` in an annotation; nil for another shape.
    static func names(_ node: Node) -> [String]? {
        let items: [Node]
        if case .sequence(let list) = node { items = Array(list) } else { items = [node] }
        var names: [String] = []
        for item in items {
            guard item.scalar != nil, let text = item.string else { return nil }
            for name in Self.names(text) where !names.contains(name) { names.append(name) }
        }
        return names.isEmpty ? nil : names
    }

    static func names(_ text: String) -> [String] {
        text.split(separator: ",").map { String($0).trimmed.trimmingQuotes }.filter { !EnvironmentLock.Key.canonical($0).isEmpty }
    }

    /// Parses an inventory file; problems are diagnostics at their position in it.
    public static func parse(path: String, text: String) -> (Inventory, [Diagnostic]) {
        var diagnostics: [Diagnostic] = []
        var inventory = Inventory(path: path)
        func problem(_ node: Node?, _ message: String) {
            diagnostics.append(Diagnostic(.error, .inventoryFile, message, path: path, line: node?.mark?.line ?? 1, column: node?.mark?.column ?? 1))
        }
        guard let root = RepositoryFile.compose(text, path: path, code: .inventoryFile, what: "inventory file", into: &diagnostics) else {
            return (inventory, diagnostics)
        }
        guard case .mapping(let top) = root, let itemsNode = top["items"], case .mapping(let entries) = itemsNode else {
            problem(root, "the inventory file must be a mapping with 'items', which maps each configuration item's name to {owner: ROLE, criticality: low|high|critical}")
            return (inventory, diagnostics)
        }
        for (keyNode, _) in top where keyNode.string != "items" {
            problem(keyNode, "unknown key '\(keyNode.string ?? "?")' in the inventory file; it holds 'items'")
        }
        let levels = Criticality.allCases.map(\.rawValue).joined(separator: ", ")
        for (nameNode, value) in entries {
            guard let name = nameNode.string, !EnvironmentLock.Key.canonical(name).isEmpty, !name.contains(",") else {
                problem(nameNode, "a configuration item needs a name without commas")
                continue
            }
            let key = EnvironmentLock.Key.canonical(name)
            if let first = inventory.items[key] {
                problem(nameNode, "configuration item '\(name)' is listed twice (first as '\(first.name)', names compared without regard to case); list each item once")
                continue
            }
            guard case .mapping(let settings) = value else {
                problem(value, "configuration item '\(name)' must be a mapping with 'owner' (a role) and 'criticality' (\(levels))")
                continue
            }
            for (settingNode, _) in settings where !["owner", "criticality"].contains(settingNode.string ?? "") {
                problem(settingNode, "unknown key '\(settingNode.string ?? "?")' for configuration item '\(name)'; use owner and criticality")
            }
            guard let ownerNode = settings["owner"], let owner = ownerNode.string?.trimmed, !owner.isEmpty, ownerNode.scalar != nil else {
                problem(settings["owner"] ?? nameNode, "configuration item '\(name)' needs 'owner': the role whose members own it")
                continue
            }
            guard let levelNode = settings["criticality"] else {
                problem(nameNode, "configuration item '\(name)' needs 'criticality': one of \(levels)")
                continue
            }
            guard let text = levelNode.string, levelNode.scalar != nil, let level = Criticality(rawValue: text) else {
                problem(levelNode, "criticality '\(levelNode.string ?? "?")' of configuration item '\(name)' is not one of \(levels)")
                continue
            }
            inventory.items[key] = Item(name: name, owner: owner, criticality: level,
                                        line: ownerNode.mark?.line ?? 1, column: ownerNode.mark?.column ?? 1)
        }
        return (inventory, diagnostics)
    }

    /// The inventory that applies to a runbook, if any. One that cannot be read, is a symbolic
    /// link or is malformed is an error, and stands in as an inventory listing nothing.
    public static func load(forRunbook path: String, loader: Compiler.Loader = Compiler.disk) -> (Inventory, [Diagnostic])? {
        let refusingLinks: Compiler.Loader = { candidate in
            if candidate.hasSuffix("/" + relativePath) {
                var status = stat()
                if lstat(candidate, &status) == 0, status.st_mode & S_IFMT == S_IFLNK { throw SymbolicLink() }
            }
            return try loader(candidate)
        }
        return RepositoryFile.load(relativePath, forRunbook: path, code: .inventoryFile, what: "inventory file", loader: refusingLinks,
                                   parse: parse, unusable: { Inventory(path: $0) })
    }

    struct SymbolicLink: Error, LocalizedError {
        var errorDescription: String? { "it is a symbolic link, and runsheet reads the inventory only from a regular file in the repository" }
    }
}

extension Runbook {
    /// The configuration items the run's production steps change: the front matter's `components`
    /// (when the runbook has production steps) and each production step's `Components`, as written.
    public var touchedComponents: [String] {
        let production = steps.filter { self.production || $0.production }
        guard !production.isEmpty else { return [] }
        var names: [String] = []
        for name in components + production.flatMap({ $0.components ?? [] })
        where !names.contains(where: { EnvironmentLock.Key.canonical($0) == EnvironmentLock.Key.canonical(name) }) {
            names.append(name)
        }
        return names
    }

    /// The production steps that change `item` (canonical), in order.
    public func productionSteps(touching item: String) -> [Step] {
        let key = EnvironmentLock.Key.canonical(item)
        let all = components.contains { EnvironmentLock.Key.canonical($0) == key }
        return steps.filter { step in
            (production || step.production) && (all || (step.components ?? []).contains { EnvironmentLock.Key.canonical($0) == key })
        }
    }
}
