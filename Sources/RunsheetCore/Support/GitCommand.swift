import Foundation

/// Runs `git --no-replace-objects -C DIRECTORY ARGUMENTS` (through `env`, so PATH finds it) with
/// no input: its output when Git succeeds; nil otherwise. Git runs with every `GIT_*` variable
/// removed from its environment and `GIT_NO_REPLACE_OBJECTS=1`, so neither the caller's
/// environment (`GIT_DIR`, `GIT_WORK_TREE`, `GIT_INDEX_FILE`, …) nor replace refs can change which
/// repository is read or what `HEAD` holds (`GitReading`).
public enum GitCommand {
    public static func output(_ arguments: [String], in directory: String) -> String? {
        bytes(arguments, in: directory).map { String(decoding: $0, as: UTF8.self).trimmed }
    }

    /// The output as Git wrote it, byte for byte (a file's content from `git show`).
    public static func bytes(_ arguments: [String], in directory: String) -> [UInt8]? {
        guard let result = run(arguments, in: directory), result.status == 0 else { return nil }
        return result.output
    }

    /// What one Git call gave: its exit status, its output and its first line of errors; nil when
    /// `env` itself could not be started.
    public static func run(_ arguments: [String], in directory: String) -> (status: Int32, output: [UInt8], error: String)? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "--no-replace-objects", "-C", directory] + arguments
        process.environment = environment
        let pipe = Pipe(), errors = Pipe()
        process.standardOutput = pipe
        process.standardError = errors
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        do { try process.run() } catch { return nil }
        // Errors are read on another thread while the output is read here, so neither pipe fills and blocks Git.
        let collected = ErrorText()
        let reader = Thread { collected.set(errors.fileHandleForReading.readDataToEndOfFile()) }
        reader.start()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = collected.wait()
        let first = String(decoding: text.prefix(4096), as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        return (process.terminationStatus, Array(data), first.trimmed)
    }

    /// This process's environment without any `GIT_*` variable, and with replace refs off.
    static var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("GIT_") }
        environment["GIT_NO_REPLACE_OBJECTS"] = "1"
        return environment
    }

    /// Git's error output, handed from the thread that reads it.
    private final class ErrorText: @unchecked Sendable {
        private let done = DispatchSemaphore(value: 0)
        private var data = Data()
        func set(_ data: Data) { self.data = data; done.signal() }
        func wait() -> Data { done.wait(); return data }
    }
}
