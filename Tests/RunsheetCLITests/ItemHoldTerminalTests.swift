import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// An open run holding a configuration item, in a real terminal (tmux, TERM=xterm): an operator
/// waiting at, or arriving at, a production step that changes the item sees the hold within a
/// second, and sees it go within a second once the holding run has ended; no key starts the step meanwhile.
@Suite(.serialized) struct ItemHoldTerminalTests {
    let screen = TmuxScreen(prefix: "runsheet-item")

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
        #expect(try screen.tmux(["new-session", "-d", "-s", screen.session, "-x", "100", "-y", "40", command]).status == 0)
        defer { _ = try? screen.tmux(["kill-server"]) }
        try screen.waitFor("▶ Prepare the index")
        try screen.keys("d")
        try screen.waitFor("▶ Reindex the ledger")
        Thread.sleep(forTimeInterval: 0.6)
        #expect(!(try screen.tmux(["capture-pane", "-p", "-t", screen.session]).stdout.contains("ITEM HELD")))
        // A is back while B waits at the production step: the hold shows within a second.
        try FileManager.default.moveItem(at: aside, to: held)
        let shown = try screen.waitFor("ITEM HELD", seconds: 1)
        #expect(shown.contains("payments-db") && shown.contains(first), "\(shown)")
        // No key starts it.
        try screen.keys("d")
        try screen.waitFor("is being changed by run")
        // Arriving at the step again shows it at once.
        try screen.keys("b")
        try screen.waitFor("▶ Prepare the index")
        try screen.waitForNo("ITEM HELD", seconds: 1)
        try screen.keys("d")
        try screen.waitFor("ITEM HELD", seconds: 1)
        // A ends: the hold goes from the screen within a second, and the step starts.
        #expect(try RepositoryRuns.runsheet(["resume", first, "--as", "alice"], in: dir, stdin: "abort not today\n").status == 1)
        try screen.waitForNo("ITEM HELD", seconds: 1)
        try screen.keys("d")
        try screen.waitFor("EXITED-0")
        let second = try #require(ConfigurationItemTests().runs(dir).first { $0 != first })
        let events = try RepositoryRuns.events(dir, id: second)
        #expect(events.contains { ($0["type"] as? String) == "step.completed" && ($0["step"] as? String) == "reindex-the-ledger" })
    }
}
