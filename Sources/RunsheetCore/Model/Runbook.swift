/// The compiled form of one runbook: a step graph with everything the engine needs.
/// Its JSON encoding is the documented, versioned intermediate representation.
public struct Runbook: Sendable, Codable, Equatable {
    public static let schema = "runsheet.runbook/1"

    public var schema: String = Runbook.schema
    public var path: String
    public var id: String
    public var title: String
    public var version: String?
    public var owner: String?
    public var description: String?
    public var releaseClass: ReleaseClass
    public var service: String?
    public var environment: String?
    public var shell: String
    public var production: Bool
    public var params: [Parameter]
    public var roles: [String]
    public var sections: [Section]
    /// Steps in walk order (document pre-order, includes spliced in).
    public var steps: [Step]
    /// The first step of the normal flow, or nil when the runbook has no steps.
    public var start: String?
    public var edges: [Edge]
    /// Class policies declared in the front matter (not part of the JSON form).
    public var policy = Policy()
    /// The calendar file the front matter names, and windows and freezes declared inline.
    public var calendarPath: String?
    public var inlineCalendar: ChangeCalendar?
    /// SHA-256 of every file included, at any depth, by path (not part of the JSON form): with
    /// the runbook's own hash, the text a signature approves (`RunPlan`).
    public var includedSHA256: [String: String] = [:]
    /// `concurrent: true`: runs share the environment lock with other concurrent runs instead of
    /// holding it alone (`EnvironmentLock`; not part of the JSON form).
    public var concurrent = false
    /// `components:`: the configuration items every production step of the runbook changes
    /// (`Inventory`; not part of the JSON form).
    public var components: [String] = []

    enum CodingKeys: String, CodingKey {
        case schema, path, id, title, version, owner, description
        case releaseClass = "class"
        case service, environment, shell, production, params, roles, sections, steps, start, edges
    }

    public func step(_ id: String) -> Step? { steps.first { $0.id == id } }
}

/// Change classes, from the lightest process to the heaviest.
public enum ReleaseClass: String, Sendable, Codable, CaseIterable {
    case standard, normal, emergency, major
}

/// A runbook parameter declared in front matter.
public struct Parameter: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case string, int, number, bool, choice
    }

    public var name: String
    public var type: Kind
    public var defaultValue: String?
    public var choices: [String]?
    public var pattern: String?
    public var secret: Bool
    public var prompt: String?
    public var description: String?

    public var required: Bool { defaultValue == nil }

    enum CodingKeys: String, CodingKey {
        case name, type
        case defaultValue = "default"
        case choices, pattern, secret, prompt, description
    }
}

/// A heading and the content up to the next heading of the same or higher level.
public struct Section: Sendable, Codable, Equatable {
    /// GitHub's anchor slug of the heading.
    public var id: String
    public var title: String
    public var level: Int
    public var line: Int
    /// The id of the enclosing section, if any.
    public var parent: String?
    /// True when the section is entered only through a branch (failure or rejection).
    public var branch: Bool
    public var when: Condition?
    public var onFailure: Target?
    public var next: Target?
}

/// Where a run goes after a step.
public enum Target: Sendable, Codable, Equatable, CustomStringConvertible {
    /// The first step of a section, by anchor.
    case section(String)
    /// Stop the run.
    case abort
    /// Record the failure and go on with the next step.
    case `continue`
    /// End the run normally.
    case end

    public var description: String {
        switch self {
        case .section(let id): "#\(id)"
        case .abort: "abort"
        case .continue: "continue"
        case .end: "end"
        }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        switch text {
        case "abort": self = .abort
        case "continue": self = .continue
        case "end": self = .end
        default: self = .section(text.hasPrefix("#") ? String(text.dropFirst()) : text)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// An edge of the step graph. `to` is nil for the end of the run.
public struct Edge: Sendable, Codable, Equatable, Hashable {
    public enum Kind: String, Sendable, Codable {
        /// The next step in order after success.
        case next
        /// An explicit `Next:` jump after success.
        case jump
        case failure
        case reject
    }

    public var from: String
    public var to: String?
    public var kind: Kind

    public init(from: String, to: String?, kind: Kind) {
        self.from = from
        self.to = to
        self.kind = kind
    }

    enum CodingKeys: String, CodingKey { case from, to, kind }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(from, forKey: .from)
        try container.encode(to, forKey: .to)  // explicit null marks the end of the run
        try container.encode(kind, forKey: .kind)
    }
}
