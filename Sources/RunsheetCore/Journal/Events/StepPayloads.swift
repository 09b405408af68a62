// The `data` of the events of the walk through the steps: steps starting and settling, moves,
// branches, added steps and notes (docs/JOURNAL.md, "Event types and their data").

/// `step.started`: no fields.
public struct StepStarted: Codable, Sendable, Equatable {
    public init() {}
}

/// `step.completed`.
public struct StepCompleted: Codable, Sendable, Equatable, FieldsDecodable {
    /// Where the run goes next; absent at the end.
    public var next: String?

    enum CodingKeys: String, CodingKey { case next }

    public init(next: String?) { self.next = next }

    init(fields c: some PayloadFields<CodingKeys>) throws {
        next = try c.decodeIfPresent(String.self, forKey: .next)
    }
}

/// `step.skipped`: by the operator with a reason, or by runsheet (a condition, a class policy).
public struct StepSkipped: Codable, Sendable, Equatable, FieldsDecodable {
    public var reason: String
    /// Skipped by runsheet, not the operator; written only when true.
    public var automatic: Bool
    public var next: String?

    enum CodingKeys: String, CodingKey { case reason, automatic, next }

    public init(reason: String, automatic: Bool = false, next: String?) {
        self.reason = reason
        self.automatic = automatic
        self.next = next
    }

    init(fields c: some PayloadFields<CodingKeys>) throws {
        reason = try c.decode(String.self, forKey: .reason)
        automatic = try c.decode(Bool.self, forKey: .automatic)
        next = try c.decodeIfPresent(String.self, forKey: .next)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(reason, forKey: .reason)
        if automatic { try c.encode(true, forKey: .automatic) }
        try c.encodeIfPresent(next, forKey: .next)
    }
}

/// `step.failed`.
public struct StepFailed: Codable, Sendable, Equatable, FieldsDecodable {
    public var reason: String
    /// Where the run goes: a branch target, or absent.
    public var next: String?

    enum CodingKeys: String, CodingKey { case reason, next }

    public init(reason: String, next: String?) {
        self.reason = reason
        self.next = next
    }

    init(fields c: some PayloadFields<CodingKeys>) throws {
        reason = try c.decode(String.self, forKey: .reason)
        next = try c.decodeIfPresent(String.self, forKey: .next)
    }
}

/// `step.added`: a step the operator did that the runbook lacks, recorded done. The event's
/// `step` is its id; it belongs between `after` and `before`.
public struct StepAdded: Codable, Sendable, Equatable {
    public var title: String
    /// The step the operator was on.
    public var before: String?
    /// The runbook step before that one.
    public var after: String?

    public init(title: String, before: String?, after: String?) {
        self.title = title
        self.before = before
        self.after = after
    }
}

/// `cursor.moved`: the operator went back or to another step.
public struct CursorMoved: Codable, Sendable, Equatable {
    public var to: String
    /// `back` or `goto`.
    public var reason: String

    public init(to: String, reason: String) {
        self.to = to
        self.reason = reason
    }
}

/// `branch.taken`: an `On failure` or `On reject` target was followed.
public struct BranchTaken: Codable, Sendable, Equatable, FieldsDecodable {
    public var from: String
    /// The target; absent when the branch ends the run.
    public var to: String?
    /// `failure` or `reject`.
    public var kind: String

    enum CodingKeys: String, CodingKey { case from, to, kind }

    public init(from: String, to: String?, kind: String) {
        self.from = from
        self.to = to
        self.kind = kind
    }

    init(fields c: some PayloadFields<CodingKeys>) throws {
        from = try c.decode(String.self, forKey: .from)
        to = try c.decodeIfPresent(String.self, forKey: .to)
        kind = try c.decodeIfPresent(String.self, forKey: .kind) ?? "failure"
    }
}

/// `note`: about the step the event names, or the whole run.
public struct NoteTaken: Codable, Sendable, Equatable, FieldsDecodable {
    public var text: String
    /// Marked by the operator as a lesson for the runbook (`lesson TEXT`); written only when true.
    public var lesson: Bool

    enum CodingKeys: String, CodingKey { case text, lesson }

    public init(text: String, lesson: Bool = false) {
        self.text = text
        self.lesson = lesson
    }

    init(fields c: some PayloadFields<CodingKeys>) throws {
        text = try c.decode(String.self, forKey: .text)
        lesson = try c.decode(Bool.self, forKey: .lesson)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(text, forKey: .text)
        if lesson { try c.encode(true, forKey: .lesson) }
    }
}

/// `step.forced` (format 1.1): a step marked done although its command did not pass or the step
/// had failed. The event's `actor` forced it; the step counts as done, and every report says so.
public struct StepForced: Codable, Sendable, Equatable {
    /// Why the operator marked it done anyway.
    public var reason: String
    /// The exit code of the last attempt of each command that did not pass (null: killed,
    /// timed out or interrupted); empty when the step had failed without a command.
    public var overrode: [Int?]
    /// Where the run goes next; absent at the end.
    public var next: String?

    public init(reason: String, overrode: [Int?], next: String?) {
        self.reason = reason
        self.overrode = overrode
        self.next = next
    }

    /// Overridden exit codes as every view shows them: `1,-` (`-` where there was none).
    public static func exitCodes(_ overrode: [Int?]) -> String {
        overrode.map { $0.map(String.init) ?? "-" }.joined(separator: ",")
    }
}
