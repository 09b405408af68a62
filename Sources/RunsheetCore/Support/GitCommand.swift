import Foundation

/// Runs `git -C DIRECTORY ARGUMENTS` (through `env`, so PATH finds it) with no input and its
/// errors discarded: its output when Git succeeds; nil otherwise.
public enum GitCommand {
    public static func output(_ arguments: [String], in directory: String) -> String? {
        bytes(arguments, in: directory).map { String(decoding: $0, as: UTF8.self).trimmed }
    }

    /// The output as Git wrote it, byte for byte (a file's content from `git show`).
    public static func bytes(_ arguments: [String], in directory: String) -> [UInt8]? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", directory] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return Array(data)
    }
}
