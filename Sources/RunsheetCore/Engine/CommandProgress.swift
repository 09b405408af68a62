import Foundation

/// Where a step's commands are, for a screen that shows them running: which attempt, how long
/// it may take, what the earlier attempts did, and the wait before the next one.
public struct CommandProgress: Sendable, Equatable {
    public enum Phase: Sendable, Equatable {
        /// The attempt is running.
        case running
        /// The attempt ended; the next starts after `seconds`.
        case waiting(seconds: Int)
        /// The attempt ended (`passed` or not) and no other follows for this command.
        case ended(passed: Bool)
    }

    /// 1-based command of the step, of `commands` that run.
    public var command: Int
    public var commands: Int
    /// 1-based attempt of this command.
    public var attempt: Int
    /// All attempts `Retries` allows (count + 1); nil without retries.
    public var attempts: Int?
    /// A `Poll` limit: when it gives up; nil without polling.
    public var pollEndsAt: Date?
    /// How long each attempt may run (`Timeout`, else the front matter's `command-timeout`).
    public var limitSeconds: Int?
    /// How each earlier attempt of this command ended: `exit 1`, `timed out`, `signal 9`.
    public var earlier: [String]
    public var interactive: Bool
    public var phase: Phase
    /// When the phase began: the attempt's start, or the start of the wait.
    public var since: Date

    public init(command: Int, commands: Int, attempt: Int, attempts: Int?, pollEndsAt: Date?, limitSeconds: Int?,
                earlier: [String], interactive: Bool, phase: Phase, since: Date) {
        self.command = command
        self.commands = commands
        self.attempt = attempt
        self.attempts = attempts
        self.pollEndsAt = pollEndsAt
        self.limitSeconds = limitSeconds
        self.earlier = earlier
        self.interactive = interactive
        self.phase = phase
        self.since = since
    }

    /// How an attempt ended, in two or three words.
    public static func ending(_ outcome: CommandOutcome) -> String {
        if outcome.timedOut { return "timed out" }
        if outcome.interrupted { return "interrupted" }
        if let code = outcome.exitCode { return "exit \(code)" }
        return "signal \(outcome.signal ?? 0)"
    }
}
