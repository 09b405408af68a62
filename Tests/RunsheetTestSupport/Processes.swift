import Foundation

/// The result of running a program to completion.
public struct ProcessResult: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public init(status: Int32, stdout: String, stderr: String) {
        self.status = status
        self.stdout = stdout
        self.stderr = stderr
    }
}

extension Fixtures {
    /// The `runsheet` binary built next to the test bundle.
    public static var binary: URL {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            Bundle.main.bundleURL.deletingLastPathComponent(),
            Bundle.main.bundleURL,
            packageRoot.appendingPathComponent(".build/debug"),
        ]
        for directory in candidates {
            let url = directory.appendingPathComponent("runsheet")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return packageRoot.appendingPathComponent(".build/debug/runsheet")
    }

    /// Runs `runsheet` with arguments, optional standard input and extra environment.
    public static func runsheet(
        _ arguments: [String], stdin: String? = nil, environment: [String: String] = [:],
        directory: URL? = nil
    ) throws -> ProcessResult {
        try run(binary.path, arguments, stdin: stdin, environment: environment, directory: directory)
    }

    /// The program and arguments that run `runsheet` with `arguments`, as OS user `user` when
    /// given (`setpriv` changes the user, group and supplementary groups, then runs the binary in
    /// its place; it needs root).
    public static func command(_ arguments: [String], user: UInt32?) -> (String, [String]) {
        guard let user else { return (binary.path, arguments) }
        return ("/usr/bin/setpriv", ["--reuid=\(user)", "--regid=\(user)", "--clear-groups", "--", binary.path] + arguments)
    }

    /// Makes writing to a pipe whose reader has gone an error instead of a signal.
    ///
    /// A test that feeds a child's standard input can lose the race with a child that exits early
    /// (or that the test kills, as the crash test does); with the default disposition the kernel
    /// would then end the whole test process with SIGPIPE. Call before writing to a child.
    public static func ignoreBrokenPipes() {
        _ = brokenPipesIgnored
    }

    private static let brokenPipesIgnored: Bool = {
        signal(SIGPIPE, SIG_IGN)
        return true
    }()

    /// Runs a program and waits for it, collecting both output streams.
    ///
    /// The streams are read on threads of their own, not on a shared pool a busy test run may have
    /// exhausted, and a program still running after `timeout` seconds is killed, so a hung child
    /// fails its test instead of stalling the whole suite.
    public static func run(
        _ executable: String, _ arguments: [String], stdin: String? = nil,
        environment: [String: String] = [:], directory: URL? = nil, timeout: Double = 400
    ) throws -> ProcessResult {
        ignoreBrokenPipes()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        for (key, value) in environment { env[key] = value }
        process.environment = env
        if let directory { process.currentDirectoryURL = directory }
        let outPipe = Pipe(), errPipe = Pipe(), inPipe = Pipe()
        process.standardOutput = outPipe
        process.standardError = errPipe
        process.standardInput = inPipe
        try process.run()
        let readers = [outPipe, errPipe].map { pipe in
            let reader = PipeReader(pipe.fileHandleForReading)
            reader.start()
            return reader
        }
        if let stdin { try? inPipe.fileHandleForWriting.write(contentsOf: Data(stdin.utf8)) }
        try? inPipe.fileHandleForWriting.close()
        let watchdog = Watchdog(pid: process.processIdentifier, seconds: timeout)
        watchdog.start()
        process.waitUntilExit()
        watchdog.cancel()
        if watchdog.fired {
            throw ProcessTimeout(description: "\(executable) \(arguments.joined(separator: " ")) was still running after \(Int(timeout)) s and was killed")
        }
        return ProcessResult(status: process.terminationStatus,
                             stdout: String(decoding: readers[0].wait(), as: UTF8.self),
                             stderr: String(decoding: readers[1].wait(), as: UTF8.self))
    }

    /// The id of the one run in a runs folder (hidden staging folders aside); nil when there is none.
    public static func onlyRun(in runs: String) -> String? {
        (try? FileManager.default.contentsOfDirectory(atPath: runs))?.first { !$0.hasPrefix(".") }
    }

    /// A path for a temporary file that does not exist yet, in the process's `ScratchRoot`
    /// (removed when the test process exits).
    public static func temporaryFile(_ name: String) -> String {
        URL(fileURLWithPath: ScratchRoot.path).appendingPathComponent("\(name)-\(UUID().uuidString)").path
    }

    /// A fresh temporary directory, in the process's `ScratchRoot` (removed when the test process exits).
    public static func temporaryDirectory(_ name: String = "runsheet-test") throws -> URL {
        let url = URL(fileURLWithPath: ScratchRoot.path).appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// A program that outlived its time limit.
public struct ProcessTimeout: Error, CustomStringConvertible {
    public var description: String
}

/// Reads a pipe to its end on a dedicated thread.
final class PipeReader: @unchecked Sendable {
    private let handle: FileHandle
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var data = Data()

    init(_ handle: FileHandle) { self.handle = handle }

    func start() {
        let thread = Thread { [self] in
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                lock.withLock { data.append(chunk) }
            }
            done.signal()
        }
        thread.start()
    }

    /// What the pipe carried: everything up to end of file, or, when a background process the
    /// child left behind still holds the pipe 10 s after the child exited, what arrived until then.
    func wait() -> Data {
        _ = done.wait(timeout: .now() + 10)
        return lock.withLock { data }
    }

    /// What the pipe has carried so far.
    var snapshot: Data { lock.withLock { data } }
}

/// Kills a process that runs longer than its limit.
final class Watchdog: @unchecked Sendable {
    private let pid: Int32
    private let seconds: Double
    private let lock = NSLock()
    private var cancelled = false
    private var didFire = false

    init(pid: Int32, seconds: Double) {
        self.pid = pid
        self.seconds = seconds
    }

    var fired: Bool { lock.withLock { didFire } }

    func start() {
        let thread = Thread { [self] in
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if lock.withLock({ cancelled }) { return }
                Thread.sleep(forTimeInterval: 0.05)
            }
            lock.withLock {
                guard !cancelled else { return }
                didFire = true
                kill(pid, SIGKILL)
            }
        }
        thread.start()
    }

    func cancel() { lock.withLock { cancelled = true } }
}
