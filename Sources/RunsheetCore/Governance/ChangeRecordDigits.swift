import Foundation
import Yams

extension ChangeRecordRule {
    /// A warning at each `change-record` pattern of a policy file that matches a digit with `\d`
    /// or `[[:digit:]]`: ICU's regular expressions take those as any Unicode decimal digit, so
    /// `CHG\d{7}` accepts `CHG١٢٣٤٥٦٧` (Arabic-Indic digits), a reference that looks like none
    /// in the change system. `[0-9]` says what is meant (docs/FORMAT.md, "Change records").
    static func digitWarnings(in root: Node, path: String) -> [Diagnostic] {
        guard case .mapping(let top) = root else { return [] }
        var settings: [Node] = []
        for (key, value) in top {
            if key.string == "change-record" { settings.append(value) }
            if case .mapping(let classSettings) = value {
                settings += classSettings.filter { $0.key.string == "change-record" }.map(\.value)
            }
        }
        return settings.compactMap { setting in
            guard case .mapping(let entries) = setting,
                  let pattern = entries.first(where: { $0.key.string == "pattern" })?.value,
                  let text = pattern.string, let digit = anyScriptDigit(in: text) else { return nil }
            return Diagnostic(.warning, .policyFile,
                              "the change record pattern '\(text)' matches digits with \(digit), which also takes the digits of other scripts (Arabic-Indic, Devanagari and more); write [0-9] for the digits 0 to 9",
                              path: path, line: pattern.mark?.line ?? 1, column: pattern.mark?.column ?? 1)
        }
    }

    /// `\d` (not an escaped backslash before a `d`) or `[:digit:]` in `pattern`, as written; nil when neither.
    static func anyScriptDigit(in pattern: String) -> String? {
        if pattern.contains("[:digit:]") { return "[:digit:]" }
        var escaped = false
        for character in pattern {
            if escaped, character == "d" { return "\\d" }
            escaped = !escaped && character == "\\"
        }
        return nil
    }
}
