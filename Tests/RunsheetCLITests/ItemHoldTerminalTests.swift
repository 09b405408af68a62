import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// An open run holding a configuration item, in a real terminal (tmux, TERM=xterm): an operator
/// waiting at, or arriving at, a production step that changes the item sees the hold within a
/// second, and sees it go within a second once the holding run has ended; no key starts the step meanwhile.
@Suite(.serialized) struct ItemHoldTerminalTests {
    let session = "runsheet-item-\(UUID().uuidString.prefix(8))"

    @discardableResult
    func tmux(_ arguments: [String]) throws -> ProcessResult { try Tmux.run(arguments, server: session) }

    func keys(_ keys: String...) throws { try tmux(["send-keys", "-t", session] + keys) }

    @discardableResult
    func waitFor(_ text: String, seconds: Double = 15, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try Tmux.waitFor(text, server: session, seconds: seconds, every: 0.05, sourceLocation: sourceLocation)
    }

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

    @Test func anItemHoldAndItsReleaseShowWithinASecond() throws {
        #expect(FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux"), "tmux is required (scripts/install-deps installs it)")
        let dir = try ConfigurationItemTests().repository(inventory: "items:\n  payments-db: {owner: dba, criticality: low}\n", policy: "normal: {approvers: 1}\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        try ItemHoldInSessionTests.second.write(to: dir.appendingPathComponent("reindex.md"), atomically: true, encoding: .utf8)
        // Run A holds payments-db (open, paused at its gate); B could start only while A's folder was aside.
        #expect(try RepositoryRuns.runsheet(["run", "migrate.md", "--as", "alice", "--auto"], in: dir).status == 3)
        let first = try #require(ConfigurationItemTests().runs(dir).first)
        let held = dir.appendingPathComponent("runs/\(first)"), aside = dir.appendingPathComponent("aside")
        try FileManager.default.moveItem(at: held, to: aside)
        let command = "cd \(dir.path) && env -u CI TERM=xterm NO_COLOR=1 \(Fixtures.binary.path) run reindex.md --runs-dir runs --as bob; echo EXITED-$?; sleep 60"
        #expect(try tmux(["new-session", "-d", "-s", session, "-x", "100", "-y", "40", command]).status == 0)
        defer { _ = try? tmux(["kill-server"]) }
        try waitFor("▶ Prepare the index")
        try keys("d")
        try waitFor("▶ Reindex the ledger")
        Thread.sleep(forTimeInterval: 0.6)
        #expect(!(try tmux(["capture-pane", "-p", "-t", session]).stdout.contains("ITEM HELD")))
        // A is back while B waits at the production step: the hold shows within a second.
        try FileManager.default.moveItem(at: aside, to: held)
        let shown = try waitFor("ITEM HELD", seconds: 1)
        #expect(shown.contains("payments-db") && shown.contains(first), "\(shown)")
        // No key starts it.
        try keys("d")
        try waitFor("is being changed by run")
        // Arriving at the step again shows it at once.
        try keys("b")
        try waitFor("▶ Prepare the index")
        try waitForNo("ITEM HELD", seconds: 1)
        try keys("d")
        try waitFor("ITEM HELD", seconds: 1)
        // A ends: the hold goes from the screen within a second, and the step starts.
        #expect(try RepositoryRuns.runsheet(["resume", first, "--as", "alice"], in: dir, stdin: "abort not today\n").status == 1)
        try waitForNo("ITEM HELD", seconds: 1)
        try keys("d")
        try waitFor("EXITED-0")
        let second = try #require(ConfigurationItemTests().runs(dir).first { $0 != first })
        let events = try RepositoryRuns.events(dir, id: second)
        #expect(events.contains { ($0["type"] as? String) == "step.completed" && ($0["step"] as? String) == "reindex-the-ledger" })
    }
}
