import Foundation

/// One shell command to run for a command step.
public struct CommandSpec: Sendable {
    /// Program name looked up in `PATH` (`bash`, `sh`, `zsh`) or a path; run as `shell -c script`.
    public var shell: String
    public var script: String
    /// Added to (and overriding) the runner's own environment.
    public var environment: [String: String]
    /// Empty means the runner's current directory.
    public var workingDirectory: String
    public var timeoutSeconds: Int?
    /// Receives the full, secret-masked output; parent directories are created.
    public var outputPath: String
    /// Values masked as `••••` in everything the runner passes on or keeps.
    public var secrets: [String]
    /// The operator's terminal (a descriptor open for reading, its size read from it), for a
    /// command flagged `interactive`: the command gets a pseudo-terminal of its own, keys typed
    /// there are passed to it and its output comes back through `onOutput` as it is written.
    /// Nil (every other command): its standard input is `/dev/null`.
    public var terminal: Int32?

    public init(
        shell: String = "bash", script: String, environment: [String: String] = [:],
        workingDirectory: String = "", timeoutSeconds: Int? = nil, outputPath: String, secrets: [String] = [],
        terminal: Int32? = nil
    ) {
        self.terminal = terminal
        self.shell = shell
        self.script = script
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.timeoutSeconds = timeoutSeconds
        self.outputPath = outputPath
        self.secrets = secrets
    }
}

/// How a command ended and what it printed.
public struct CommandOutcome: Sendable, Equatable {
    /// Set when the shell exited normally.
    public var exitCode: Int32?
    /// Set when the shell was killed by a signal.
    public var signal: Int32?
    public var timedOut: Bool
    public var interrupted: Bool
    public var durationMs: Int
    /// Bytes of masked output, as written to the output file.
    public var outputBytes: Int
    /// Lowercase hex SHA-256 of the output file's contents.
    public var outputSHA256: String
    /// The last 4 KiB of masked output.
    public var tail: String

    public init(
        exitCode: Int32?, signal: Int32?, timedOut: Bool, interrupted: Bool, durationMs: Int,
        outputBytes: Int, outputSHA256: String, tail: String
    ) {
        self.exitCode = exitCode
        self.signal = signal
        self.timedOut = timedOut
        self.interrupted = interrupted
        self.durationMs = durationMs
        self.outputBytes = outputBytes
        self.outputSHA256 = outputSHA256
        self.tail = tail
    }

    /// Exited with status 0, without timing out or being interrupted.
    public var succeeded: Bool { exitCode == 0 && !timedOut && !interrupted }
}

/// Why a command could not be run, or its output not kept.
public enum CommandRunnerError: Error, Equatable, LocalizedError {
    case shellNotFound(String)
    case workingDirectoryMissing(String)
    case spawnFailed(shell: String, reason: String)
    case pipeFailed(reason: String)
    /// No pseudo-terminal could be opened for an interactive command.
    case noPseudoTerminal(reason: String)
    case outputFileUnavailable(path: String, reason: String)
    case outputWriteFailed(path: String, reason: String)
    case alreadyRunning
    /// The kernel would refuse the command's arguments and environment (E2BIG); says which part.
    case argumentsTooLong(String)

    public var errorDescription: String? {
        switch self {
        case .shellNotFound(let shell):
            "The shell '\(shell)' was not found in PATH; install it or set a different shell for the runbook."
        case .workingDirectoryMissing(let path):
            "The working directory '\(path)' does not exist or is not a directory."
        case .spawnFailed(let shell, let reason):
            "Could not start '\(shell)': \(reason)."
        case .pipeFailed(let reason):
            "Could not create a pipe for the command's output: \(reason)."
        case .noPseudoTerminal(let reason):
            "Could not open a pseudo-terminal for the interactive command: \(reason); nothing was run, and the step is still open."
        case .outputFileUnavailable(let path, let reason):
            "Could not open the output file '\(path)': \(reason)."
        case .outputWriteFailed(let path, let reason):
            "The command ran, but writing its output to '\(path)' failed: \(reason)."
        case .argumentsTooLong(let what):
            "The command cannot be started: \(what), more than Linux passes to a program (E2BIG); nothing was run, and the step is still open."
        case .alreadyRunning:
            "This runner is already running a command; use one runner per concurrent command."
        }
    }
}
