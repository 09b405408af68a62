// The `data` of the events about a step's commands (docs/JOURNAL.md, "Event types and their data").

/// `command.finished`: one attempt of one of a step's commands, and where its output went.
public struct CommandFinished: Codable, Sendable, Equatable, FieldsDecodable {
    /// 1-based position of the command among the step's commands.
    public var index: Int
    /// 1 for the first run, then one more for each retry or poll.
    public var attempt: Int
    /// The command as shown, secrets masked.
    public var command: String
    /// Absent when a signal ended the command.
    public var exit: Int?
    public var signal: Int?
    public var timedOut: Bool
    public var interrupted: Bool
    public var durationMs: Int
    /// What the output file holds; journals of older runsheet versions have none of the three.
    public var outputBytes: Int?
    public var outputSha256: String?
    /// Relative to the run folder.
    public var outputFile: String?
    /// Whether the attempt met the step's expectations (exit code, output).
    public var passed: Bool

    enum CodingKeys: String, CodingKey {
        case index, attempt, command, exit, signal, timedOut, interrupted, durationMs, outputBytes, outputSha256, outputFile, passed
    }

    public init(index: Int, attempt: Int, command: String, exit: Int?, signal: Int? = nil, timedOut: Bool, interrupted: Bool,
                durationMs: Int, outputBytes: Int?, outputSha256: String?, outputFile: String?, passed: Bool) {
        self.index = index
        self.attempt = attempt
        self.command = command
        self.exit = exit
        self.signal = signal
        self.timedOut = timedOut
        self.interrupted = interrupted
        self.durationMs = durationMs
        self.outputBytes = outputBytes
        self.outputSha256 = outputSha256
        self.outputFile = outputFile
        self.passed = passed
    }

    init(fields c: some PayloadFields<CodingKeys>) throws {
        self.init(index: try c.decode(Int.self, forKey: .index),
                  attempt: try c.decodeIfPresent(Int.self, forKey: .attempt) ?? 1,
                  command: try c.decode(String.self, forKey: .command),
                  exit: try c.decodeIfPresent(Int.self, forKey: .exit), signal: try c.decodeIfPresent(Int.self, forKey: .signal),
                  timedOut: try c.decode(Bool.self, forKey: .timedOut), interrupted: try c.decode(Bool.self, forKey: .interrupted),
                  durationMs: try c.decode(Int.self, forKey: .durationMs),
                  outputBytes: try c.decodeIfPresent(Int.self, forKey: .outputBytes),
                  outputSha256: try c.decodeIfPresent(String.self, forKey: .outputSha256),
                  outputFile: try c.decodeIfPresent(String.self, forKey: .outputFile),
                  passed: try c.decode(Bool.self, forKey: .passed))
    }
}

/// `command.started` (format 1.2): the intent, durable before the command is started. An attempt
/// with this event and no `command.finished` may have run: nobody knows how it ended.
public struct CommandStarted: Codable, Sendable, Equatable {
    /// 1-based position of the command among the step's commands.
    public var index: Int
    /// 1 for the first run, then one more for each retry or poll.
    public var attempt: Int
    /// The command as shown, secrets masked.
    public var command: String
    /// Where its output goes, relative to the run folder; a file of its own, never reused.
    public var outputFile: String

    public init(index: Int, attempt: Int, command: String, outputFile: String) {
        self.index = index
        self.attempt = attempt
        self.command = command
        self.outputFile = outputFile
    }
}

/// `command.resolved` (format 1.2): what the operator decided about a command that may have run
/// (`command.started` without a result). Marking the step done or failed instead is recorded as
/// `step.forced` or `step.failed`, which settle it.
public struct CommandResolved: Codable, Sendable, Equatable {
    public static let runAgain = "run again"

    /// The attempt decided about.
    public var index: Int
    public var attempt: Int
    /// `run again`.
    public var decision: String

    public init(index: Int, attempt: Int, decision: String) {
        self.index = index
        self.attempt = attempt
        self.decision = decision
    }
}
