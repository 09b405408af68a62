import Foundation

/// The binary running with its standard streams piped, for tests that talk to it while it runs:
/// send it actions, wait for what it prints, kill it. Colour is off (`NO_COLOR=1`) unless
/// `environment` says otherwise.
public final class RunningRunsheet: @unchecked Sendable {
    public let process = Process()
    private let input = Pipe()
    private let stdout: PipeReader
    private let stderr: PipeReader

    /// `user`: run as that OS user id (and group id), through `setpriv`, which runs the binary
    /// in its own place (same pid); only when the tests run as root.
    public init(_ arguments: [String], environment: [String: String] = [:], directory: URL? = nil, user: UInt32? = nil) throws {
        let (executable, prefixed) = Fixtures.command(arguments, user: user)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = prefixed
        process.environment = ProcessInfo.processInfo.environment.merging(["NO_COLOR": "1"].merging(environment) { $1 }) { $1 }
        if let directory { process.currentDirectoryURL = directory }
        let output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        stdout = PipeReader(output.fileHandleForReading)
        stderr = PipeReader(errors.fileHandleForReading)
        Fixtures.ignoreBrokenPipes()
        try process.run()
        ScratchRoot.started(process)
        stdout.start()
        stderr.start()
    }

    /// Standard output so far.
    public var printed: String { String(decoding: stdout.snapshot, as: UTF8.self) }

    /// Standard error so far.
    public var errors: String { String(decoding: stderr.snapshot, as: UTF8.self) }

    /// Writes lines to standard input in one write; false when the process no longer reads
    /// (it ended, or was killed), which is not an error for a test that races it on purpose.
    @discardableResult
    public func send(_ lines: String...) -> Bool {
        let text = lines.map { $0 + "\n" }.joined()
        return (try? input.fileHandleForWriting.write(contentsOf: Data(text.utf8))) != nil
    }

    /// Waits until standard output holds `needle` at least `count` times; false after `seconds`.
    @discardableResult
    public func waitFor(_ needle: String, count: Int = 1, seconds: Double = 20) -> Bool {
        func holds(_ text: String) -> Bool { text.components(separatedBy: needle).count - 1 >= count }
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if holds(printed) { return true }
            if !process.isRunning { return holds(String(decoding: stdout.wait(), as: UTF8.self)) }
            Thread.sleep(forTimeInterval: 0.005)
        }
        return false
    }

    /// Kills the process with SIGKILL and returns all it printed.
    public func kill() -> String {
        sigkill(process.processIdentifier)
        process.waitUntilExit()
        return String(decoding: stdout.wait(), as: UTF8.self)
    }

    /// Closes standard input and waits for the exit status; a process still running after
    /// `seconds` is killed and reported as -1, so a hung run fails its test instead of the suite.
    public func finish(seconds: Double = 120) -> Int32 {
        try? input.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning {
            _ = kill()
            return -1
        }
        process.waitUntilExit()
        _ = stdout.wait()
        _ = stderr.wait()
        return process.terminationStatus
    }
}

/// Outside the class, whose own `kill()` would hide the C function.
private func sigkill(_ pid: pid_t) { kill(pid, SIGKILL) }
