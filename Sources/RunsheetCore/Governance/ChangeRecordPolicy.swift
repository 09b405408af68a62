import Foundation
import Yams

/// `change-record: {required: true, pattern: 'CHG[0-9]{7}'}`: whether a run with production
/// steps must name its change record (`run --change`), and the form the reference must take.
/// At the top level of the policy it holds for every class; a class, or a runbook's front
/// matter, may add a requirement or a pattern but never take one back: every layer's pattern
/// must match (the repository is the floor).
public struct ChangeRecordRule: Sendable, Equatable {
    /// nil when no layer says.
    public var required: Bool?
    /// Regular expressions the whole reference must match, one per layer that gave one.
    public var patterns: [String]

    public init(required: Bool? = nil, patterns: [String] = []) {
        self.required = required
        self.patterns = patterns
    }

    public var isRequired: Bool { required == true }

    /// Both layers' rules: a requirement is never taken back, and every pattern applies.
    func overlaid(by other: ChangeRecordRule?) -> ChangeRecordRule {
        guard let other else { return self }
        return ChangeRecordRule(required: ClassPolicy.stricter(required, other.required),
                                patterns: patterns + other.patterns.filter { !patterns.contains($0) })
    }

    static func merged(_ lower: ChangeRecordRule?, _ upper: ChangeRecordRule?) -> ChangeRecordRule? {
        guard let lower else { return upper }
        return lower.overlaid(by: upper)
    }

    /// Why `reference` is not a change reference this rule accepts; nil when it is. A reference
    /// is one word of printable characters, at most 100 of them, and matches every pattern whole.
    public func problem(with reference: String) -> String? {
        if reference.isEmpty { return "the change record reference is empty" }
        if reference.count > 100 { return "the change record reference is longer than 100 characters" }
        if reference.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.properties.generalCategory == .control || $0.properties.generalCategory == .format }) {
            return "the change record reference '\(PersonName.shownWithCodePoints(reference))' holds a space or an invisible character"
        }
        for pattern in patterns where !Self.matchesWhole(pattern, reference) {
            return "the change record reference '\(reference)' does not match the policy's pattern '\(pattern)'"
        }
        return nil
    }

    static func matchesWhole(_ pattern: String, _ text: String) -> Bool {
        guard let regex = try? NSRegularExpression(pattern: "^(?:\(pattern))$") else { return false }
        return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    /// `change-record: {required: true|false, pattern: REGEX}`; `problem` receives each fault.
    static func parse(_ node: Node, problem: (Node, String) -> Void) -> ChangeRecordRule? {
        let shape = "'change-record' must be a mapping with 'required' (true or false) and, optionally, 'pattern' (a regular expression the whole reference matches)"
        guard case .mapping(let entries) = node else {
            problem(node, shape)
            return nil
        }
        var rule = ChangeRecordRule()
        for (keyNode, value) in entries {
            switch keyNode.string ?? "" {
            case "required":
                let tag = value.scalar?.tag.description ?? ""
                guard let text = value.scalar?.string, ["", "!", "?"].contains(tag), text == "true" || text == "false" else {
                    problem(value, "'required' in 'change-record' must be true or false, written as plain lower-case text")
                    return nil
                }
                rule.required = text == "true"
            case "pattern":
                guard let pattern = value.string, !pattern.isEmpty else {
                    problem(value, "'pattern' in 'change-record' must be a regular expression, such as 'CHG[0-9]{7}'")
                    return nil
                }
                do {
                    _ = try NSRegularExpression(pattern: "^(?:\(pattern))$")
                } catch {
                    problem(value, "'pattern' in 'change-record' is not a valid regular expression: '\(pattern)'")
                    return nil
                }
                rule.patterns = [pattern]
            default:
                let key = keyNode.string ?? "?"
                let near = EditDistance.closest(to: key, in: ["required", "pattern"], maximum: 2).map { "; did you mean '\($0)'?" } ?? "; use required and pattern"
                problem(keyNode, "unknown key '\(key)' in 'change-record'\(near)")
                return nil
            }
        }
        return rule
    }
}
