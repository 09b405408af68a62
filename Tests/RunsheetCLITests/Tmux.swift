import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// A tmux server of a test's own, named after its session, never one the machine may already
/// run; its socket is in the test process's `ScratchRoot`, since tmux leaves it behind when the
/// server ends. tmux goes through the project's own command runner, which reaps the client itself:
/// Foundation's Process can wait forever on a client whose server, a daemon it forks, inherits
/// the descriptors Process watches. Descriptors above 2 are closed first so the server keeps no
/// other test's pipes open either. Every call has a time limit.
enum Tmux {
    @discardableResult
    static func run(_ arguments: [String], server: String) throws -> ProcessResult {
        let script = """
            unset TMUX
            export TMUX_TMPDIR=\(ShellQuoting.quote(ScratchRoot.path))
            for fd in $(ls /proc/$$/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
            exec /usr/bin/tmux -L \(server) \(arguments.map(ShellQuoting.quote).joined(separator: " "))
            """
        let output = Fixtures.temporaryFile("tmux-output")
        let outcome = try CommandRunner().run(CommandSpec(shell: "bash", script: script, timeoutSeconds: 20, outputPath: output)) { _ in }
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        try? FileManager.default.removeItem(atPath: output)
        return ProcessResult(status: Int32(outcome.exitCode ?? -1), stdout: text, stderr: "")
    }

    /// Reads the session's screen until it shows `text`; records an issue with the screen after `seconds`.
    static func waitFor(_ text: String, server: String, seconds: Double, every interval: Double,
                        sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        var last = ""
        while Date() < deadline {
            last = try run(["capture-pane", "-p", "-t", server], server: server).stdout
            if last.contains(text) { return last }
            Thread.sleep(forTimeInterval: interval)
        }
        Issue.record("screen never showed '\(text)'; it shows:\n\(last)", sourceLocation: sourceLocation)
        return last
    }
}

/// One test suite's tmux session (on a server of its own, `Tmux`): start it, send keys, and read
/// the screen until it shows, or no longer shows, a text.
struct TmuxScreen: Sendable {
    let session: String

    init(prefix: String) { session = "\(prefix)-\(UUID().uuidString.prefix(8))" }

    @discardableResult
    func tmux(_ arguments: [String]) throws -> ProcessResult { try Tmux.run(arguments, server: session) }

    func keys(_ keys: String...) throws { try tmux(["send-keys", "-t", session] + keys) }

    @discardableResult
    func waitFor(_ text: String, seconds: Double = 15, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try Tmux.waitFor(text, server: session, seconds: seconds, every: 0.05, sourceLocation: sourceLocation)
    }

    /// Waits up to `seconds` until the screen no longer shows `text`.
    func waitForNo(_ text: String, seconds: Double, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let deadline = Date().addingTimeInterval(seconds)
        var last = ""
        while Date() < deadline {
            last = try tmux(["capture-pane", "-p", "-t", session]).stdout
            if !last.contains(text) { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        Issue.record("screen still shows '\(text)':\n\(last)", sourceLocation: sourceLocation)
    }
}
