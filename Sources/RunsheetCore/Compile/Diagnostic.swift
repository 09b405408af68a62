/// How serious a finding is.
public enum Severity: String, Sendable, Codable, Comparable {
    case warning, error

    public static func < (lhs: Severity, rhs: Severity) -> Bool { lhs == .warning && rhs == .error }
}

/// A problem found in a runbook: a value, printed only by the command-line layer.
public struct Diagnostic: Sendable, Codable, Equatable, Hashable {
    public var severity: Severity
    /// A stable kebab-case code, such as `undefined-param`.
    public var code: DiagnosticCode
    public var message: String
    public var path: String
    /// 1-based line and character column.
    public var line: Int
    public var column: Int

    public init(_ severity: Severity, _ code: DiagnosticCode, _ message: String, path: String, line: Int, column: Int) {
        self.severity = severity
        self.code = code
        self.message = message
        self.path = path
        self.line = line
        self.column = column
    }

    /// `path:line:col: error: message [code]`
    public var formatted: String {
        "\(path):\(line):\(column): \(severity.rawValue): \(message) [\(code.rawValue)]"
    }
}

/// Every diagnostic code the compiler emits: a stable kebab-case name, with a one-line summary
/// (SARIF rules). docs/FORMAT.md's "Reference: diagnostic codes" lists the same cases; a test
/// compares the two.
public enum DiagnosticCode: String, Sendable, Codable, CaseIterable, Hashable {
    case invalidUTF8 = "invalid-utf8"
    case binaryFile = "binary-file"
    case controlCharacter = "control-character"
    case frontMatter = "front-matter"
    case unknownKey = "unknown-key"
    case badClass = "bad-class"
    case unknownAnnotation = "unknown-annotation"
    case badAnnotation = "bad-annotation"
    case badDuration = "bad-duration"
    case badCondition = "bad-condition"
    case danglingLink = "dangling-link"
    case danglingTarget = "dangling-target"
    case duplicateID = "duplicate-id"
    case duplicateRunbookID = "duplicate-runbook-id"
    case ambiguousID = "ambiguous-id"
    case undefinedParam = "undefined-param"
    case unusedParam = "unused-param"
    case undeclaredPlaceholder = "undeclared-placeholder"
    case unsafePlaceholder = "unsafe-placeholder"
    case unreachableStep = "unreachable-step"
    case cycleNoExit = "cycle-no-exit"
    case undeclaredRole = "undeclared-role"
    case includeMissing = "include-missing"
    case includeCycle = "include-cycle"
    case includeFailed = "include-failed"
    case noSteps = "no-steps"
    case rolesFile = "roles-file"
    case badPolicy = "bad-policy"
    case policyFile = "policy-file"
    case badCalendar = "bad-calendar"
    case calendarFile = "calendar-file"
    case allowedSigners = "allowed-signers"
    case configFile = "config-file"
    case weakensGovernance = "weakens-governance"
    case interactiveWithoutRun = "interactive-without-run"
    case unnamedLock = "unnamed-lock"
    case includeConcurrent = "include-concurrent"
    case inventoryFile = "inventory-file"
    case unknownItem = "unknown-item"

    /// A problem in a rule file of the repository (roles, policy, calendar) rather than in the
    /// runbook: commands that act on the rules refuse to go on while there is one.
    public var isRuleFile: Bool { self == .rolesFile || self == .policyFile || self == .calendarFile || self == .allowedSigners || self == .configFile || self == .inventoryFile }

    public var summary: String {
        switch self {
        case .invalidUTF8: "The file is not valid UTF-8."
        case .binaryFile: "The file contains a NUL byte, so it is not text."
        case .controlCharacter: "The file contains a control character other than a tab or a line ending."
        case .interactiveWithoutRun: "A code block is flagged interactive without run; only a block that runs gets the terminal."
        case .unnamedLock: "A runbook with production steps names no service or environment, so its runs lock its own id and production."
        case .inventoryFile: "The repository inventory file cannot be read, is a symbolic link, is not UTF-8, or is malformed: an unknown criticality, a duplicate item, an owner role nobody declares."
        case .unknownItem: "Components names a configuration item the inventory does not list, or a critical item's owner sign-off has no gate before the step."
        case .includeConcurrent: "An included runbook with production steps and the including one disagree on concurrent; the including one's lock counts."
        case .frontMatter: "The YAML front matter is malformed or has a value of the wrong type."
        case .unknownKey: "A front matter key is not known but is close to one that is."
        case .badClass: "The release class is not standard, normal, emergency or major."
        case .unknownAnnotation: "An annotation key is not known."
        case .badAnnotation: "A known annotation key has a value that cannot be understood."
        case .badDuration: "A duration cannot be read."
        case .badCondition: "A When condition cannot be read or names an impossible value."
        case .danglingLink: "A link to an anchor in this file matches no heading."
        case .danglingTarget: "A branch or jump target matches no section."
        case .duplicateID: "Two steps have the same explicit id."
        case .duplicateRunbookID: "Two runbooks checked together have the same id, so the runs of one would count for the other."
        case .ambiguousID: "Steps with the same text in one section got numbered ids."
        case .undefinedParam: "A placeholder or condition names a parameter that is not declared."
        case .unusedParam: "A declared parameter is never used."
        case .undeclaredPlaceholder: "An executable command has a placeholder but the runbook declares no parameters."
        case .unsafePlaceholder: "A placeholder stands where the command's shell could run its value as code: anywhere for a shell runsheet knows no quoting rules for, inside quotes for fish and PowerShell."
        case .unreachableStep: "No path from the first step reaches this step."
        case .cycleNoExit: "From this step the run can never reach its end."
        case .undeclaredRole: "A sign-off or role names a role that is not declared."
        case .includeMissing: "An included runbook cannot be read."
        case .includeCycle: "Runbooks include each other in a cycle."
        case .includeFailed: "An included runbook has errors."
        case .noSteps: "Nothing in the file became a step."
        case .rolesFile: "The repository roles file cannot be read, is not UTF-8, or is malformed."
        case .badPolicy: "A class policy in the front matter cannot be understood or names a missing gate or role."
        case .policyFile: "The repository policy file cannot be read, is not UTF-8, or is malformed."
        case .badCalendar: "A change window or freeze in the front matter cannot be understood."
        case .calendarFile: "The change calendar file cannot be read, is not UTF-8, or is malformed."
        case .allowedSigners: "The repository allowed signers file cannot be read, is not UTF-8, has a malformed line, or names a principal not in canonical form; or signatures are required and a role member has no key."
        case .configFile: "The repository config file cannot be read, is not UTF-8, or is malformed: an unknown key, a value of the wrong type, an unknown event kind, or a notify target with both or neither of command and url."
        case .weakensGovernance: "The front matter would lower the repository's policy, calendar or roles, or declares a class the repository policy does not allow."
        }
    }
}
