/// One thing an operator does, or a machine does for them.
public struct Step: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        /// A GitHub task-list item.
        case task
        /// A numbered item, in a file with no task items.
        case procedure
        /// A stand-alone shell block, in a file with neither.
        case command
    }

    public var id: String
    public var title: String
    public var kind: Kind
    /// True when the box was already ticked in the source.
    public var checked: Bool
    public var section: String?
    public var parent: String?
    public var depth: Int
    public var line: Int
    public var column: Int
    /// Byte offset in the file of the character between `[` and `]`, for rewriting the box.
    public var boxOffset: Int?
    /// The step's Markdown body (the item without its marker, annotations and child steps).
    public var body: String
    public var estimateSeconds: Int?
    public var when: Condition?
    public var commands: [Command]
    public var timeoutSeconds: Int?
    /// The front matter's `command-timeout`, on a step with a `run` block and no `Timeout` of its
    /// own (nil otherwise): its commands' limit, covered by the step's hash as `Timeout` is.
    public var commandTimeoutSeconds: Int?
    public var retries: Retries?
    public var poll: Poll?
    public var expectExit: [Int32]
    public var expectOutput: OutputExpectation?
    public var signOffs: [SignOffRule]
    public var separation: [Separation]
    public var onFailure: Target?
    public var onReject: Target?
    public var next: Target?
    public var role: String?
    public var production: Bool
    /// The included runbook's path, relative to this runbook.
    public var include: String?
    /// For steps spliced in from an included runbook: that runbook's path.
    public var origin: String?
    /// Where `runsheet render` puts the step's trail: after this line (the end of the item's first
    /// paragraph), as a bullet whose text starts at this 1-based byte column.
    public var trailLine: Int?
    public var trailColumn: Int?
    /// The last line of the step's item, its children included: `runsheet update` adds steps after it.
    public var endLine: Int?
    /// The line of the step's one-line `Estimate:` annotation, which `runsheet update` rewrites.
    public var estimateLine: Int?
    /// Where `runsheet update` adds an annotation to the step.
    public var annotationAnchor: AnnotationAnchor?
    /// `Lesson:` annotations: what earlier runs taught, shown with the step during a run.
    public var lessons: [String] = []
    /// `Components:`: the configuration items (`.runsheet/inventory.yaml`) the step changes; nil when it names none.
    public var components: [String]?

    /// True when the step waits for sign-offs.
    public var isGate: Bool { !signOffs.isEmpty }

    /// How long each of the step's commands may run: its own `Timeout`, else the front matter's
    /// `command-timeout`; nil for no limit.
    public var commandLimitSeconds: Int? { timeoutSeconds ?? commandTimeoutSeconds }

    /// The gate's rule in words: "2 of sre or dba and 1 of release-manager".
    public var signOffSummary: String { SignOffRule.summary(signOffs) }
}

/// Where a new `Key: value` bullet goes under a step: after `line`, starting with the bytes of
/// `prefixLine` before byte column `column`, copied as they are (`verbatim`, the prefix of an
/// existing annotation bullet, marker included) or as indentation with `- ` added.
public struct AnnotationAnchor: Sendable, Codable, Equatable {
    public var line: Int
    public var prefixLine: Int
    public var column: Int
    public var verbatim: Bool

    public init(line: Int, prefixLine: Int, column: Int, verbatim: Bool) {
        self.line = line
        self.prefixLine = prefixLine
        self.column = column
        self.verbatim = verbatim
    }
}

/// A fenced code block belonging to a step.
public struct Command: Sendable, Codable, Equatable {
    /// The info string's first word, if any.
    public var language: String?
    /// The program that runs the code (`bash -c CODE`).
    public var shell: String
    public var code: String
    /// Only blocks flagged `run` are ever executed.
    public var run: Bool
    /// Flagged `interactive` (with `run`): the command gets the operator's terminal through a
    /// pseudo-terminal; otherwise its standard input is `/dev/null`.
    public var interactive: Bool
    public var line: Int

    public init(language: String?, shell: String, code: String, run: Bool, interactive: Bool = false, line: Int) {
        self.language = language
        self.shell = shell
        self.code = code
        self.run = run
        self.interactive = interactive
        self.line = line
    }

    enum CodingKeys: String, CodingKey { case language, shell, code, run, interactive, line }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        language = try container.decodeIfPresent(String.self, forKey: .language)
        shell = try container.decode(String.self, forKey: .shell)
        code = try container.decode(String.self, forKey: .code)
        run = try container.decode(Bool.self, forKey: .run)
        interactive = try container.decodeIfPresent(Bool.self, forKey: .interactive) ?? false
        line = try container.decode(Int.self, forKey: .line)
    }

    /// `interactive` is written only when set, so a block without it encodes (and hashes) as before.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(language, forKey: .language)
        try container.encode(shell, forKey: .shell)
        try container.encode(code, forKey: .code)
        try container.encode(run, forKey: .run)
        if interactive { try container.encode(true, forKey: .interactive) }
        try container.encode(line, forKey: .line)
    }
}

public struct Retries: Sendable, Codable, Equatable {
    public var count: Int
    public var delaySeconds: Int

    public init(count: Int, delaySeconds: Int) {
        self.count = count
        self.delaySeconds = delaySeconds
    }
}

public struct Poll: Sendable, Codable, Equatable {
    public var intervalSeconds: Int
    public var limitSeconds: Int

    public init(intervalSeconds: Int, limitSeconds: Int) {
        self.intervalSeconds = intervalSeconds
        self.limitSeconds = limitSeconds
    }
}

/// What a command's output must contain.
public enum OutputExpectation: Sendable, Codable, Equatable {
    case contains(String)
    case regex(String)

    enum CodingKeys: String, CodingKey { case contains, regex }
}

/// One `Sign-off:` line: `count` distinct people, each holding any of `roles`.
public struct SignOffRule: Sendable, Codable, Equatable {
    public var count: Int
    public var roles: [String]

    /// Rules in words: "2 of sre or dba and 1 of release-manager".
    public static func summary(_ rules: [SignOffRule]) -> String {
        rules.map { "\($0.count) of \($0.roles.joined(separator: " or "))" }.joined(separator: " and ")
    }

    public init(count: Int, roles: [String]) {
        self.count = count
        self.roles = roles
    }
}

/// People who may not sign a gate.
public enum Separation: String, Sendable, Codable, CaseIterable {
    /// The person who started the run.
    case starter
    /// Anyone who completed a step since the previous gate.
    case executor
}
