/// How serious a finding is.
public enum Severity: String, Sendable, Codable, Comparable {
    case warning, error

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs == .warning && rhs == .error }
}

/// A problem found in a runbook: a value, printed only by the command-line layer.
public struct Diagnostic: Sendable, Codable, Equatable, Hashable {
    public var severity: Severity
    /// A stable kebab-case code, such as `undefined-param`.
    public var code: String
    public var message: String
    public var path: String
    /// 1-based line and character column.
    public var line: Int
    public var column: Int

    public init(_ severity: Severity, _ code: String, _ message: String, path: String, line: Int, column: Int) {
        self.severity = severity
        self.code = code
        self.message = message
        self.path = path
        self.line = line
        self.column = column
    }

    /// `path:line:col: error: message [code]`
    public var formatted: String {
        "\(path):\(line):\(column): \(severity.rawValue): \(message) [\(code)]"
    }
}

/// Every diagnostic code the compiler emits, with a one-line description (used by SARIF rules and docs).
public enum DiagnosticCode {
    public static let all: [(code: String, summary: String)] = [
        ("invalid-utf8", "The file is not valid UTF-8."),
        ("binary-file", "The file contains a NUL byte, so it is not text."),
        ("front-matter", "The YAML front matter is malformed or has a value of the wrong type."),
        ("unknown-key", "A front matter key is not known but is close to one that is."),
        ("bad-class", "The release class is not standard, normal, emergency or major."),
        ("unknown-annotation", "An annotation key is not known."),
        ("bad-annotation", "A known annotation key has a value that cannot be understood."),
        ("bad-duration", "A duration cannot be read."),
        ("bad-condition", "A When condition cannot be read or names an impossible value."),
        ("dangling-link", "A link to an anchor in this file matches no heading."),
        ("dangling-target", "A branch or jump target matches no section."),
        ("duplicate-id", "Two steps have the same explicit id."),
        ("ambiguous-id", "Steps with the same text in one section got numbered ids."),
        ("undefined-param", "A placeholder or condition names a parameter that is not declared."),
        ("unused-param", "A declared parameter is never used."),
        ("undeclared-placeholder", "An executable command has a placeholder but the runbook declares no parameters."),
        ("unreachable-step", "No path from the first step reaches this step."),
        ("cycle-no-exit", "From this step the run can never reach its end."),
        ("undeclared-role", "A sign-off or role names a role that is not declared."),
        ("include-missing", "An included runbook cannot be read."),
        ("include-cycle", "Runbooks include each other in a cycle."),
        ("include-failed", "An included runbook has errors."),
        ("no-steps", "Nothing in the file became a step."),
        ("roles-file", "The repository roles file is malformed."),
        ("bad-policy", "A class policy in the front matter cannot be understood or names a missing gate or role."),
        ("policy-file", "The repository policy file is malformed."),
        ("bad-calendar", "A change window or freeze in the front matter cannot be understood."),
        ("calendar-file", "The change calendar file is malformed or cannot be read."),
    ]
}
