import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// A halt declared while an operator waits, in a real terminal (tmux, TERM=xterm): the screen
/// shows who halted, why and since when within a second, whether the operator then arrives at
/// the production step or already waits at it, and no key starts the step.
@Suite(.serialized) struct HaltTerminalTests {
    let session = "runsheet-halt-\(UUID().uuidString.prefix(8))"

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

    @Test func aHaltShowsWithinASecondAndNoKeyStartsTheStep() throws {
        #expect(FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux"), "tmux is required (scripts/install-deps installs it)")
        let dir = try HaltTests().repository()
        let runs = dir.appendingPathComponent("runs").path
        let command = "cd \(dir.path) && env -u CI TERM=xterm NO_COLOR=1 \(Fixtures.binary.path) run change.md --runs-dir \(runs) --as olly; echo EXITED-$?; sleep 60"
        #expect(try tmux(["new-session", "-d", "-s", session, "-x", "100", "-y", "40", command]).status == 0)
        defer { _ = try? tmux(["kill-server"]) }
        try waitFor("▶ Prepare")
        // Declared while the operator waits at the step before the production step…
        let halt = try Fixtures.runsheet(["halt", "--as", "rita", "--reason", "INC-2041 checkout errors"], directory: dir)
        #expect(halt.status == 0, "\(halt.stderr)")
        // …they press the key to go on: the production step's screen shows the halt at once.
        try keys("d")
        var shown = try waitFor("HALTED", seconds: 1)
        #expect(shown.contains("▶ Switch traffic") && shown.contains("halted by rita since") && shown.contains("INC-2041"), "\(shown)")
        #expect(shown.contains("a halt never blocks") && shown.contains("rollback steps"), "\(shown)")
        // No key starts it.
        try keys("d")
        try waitFor("step 'switch-traffic' is a production change")
        // Lifted, and halted again while the operator waits at the production step itself.
        #expect(try Fixtures.runsheet(["halt", "--lift", "--as", "rita"], directory: dir).status == 0)
        try waitForNo("HALTED", seconds: 1)
        #expect(try Fixtures.runsheet(["halt", "--as", "rita", "--reason", "INC-2042 second outage"], directory: dir).status == 0)
        shown = try waitFor("INC-2042", seconds: 1)
        #expect(shown.contains("HALTED"), "\(shown)")
        try keys("d")
        try keys("q")
        try waitFor("EXITED-3")
        let id = try #require(Fixtures.onlyRun(in: runs))
        let events = try JournalFile.read(at: runs + "/\(id)/journal.jsonl").events
        #expect(!events.contains { $0.step == "switch-traffic" && ($0.type == .stepCompleted || $0.type == .commandStarted) })
        #expect(events.contains { $0.type == .note && $0.step == "switch-traffic" && ($0.data["text"]?.string ?? "").contains("INC-2042") })
    }
}
