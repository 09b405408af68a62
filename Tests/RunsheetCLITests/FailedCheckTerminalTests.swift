import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// A failed check fixed and run again, through the real binary in a real pseudo-terminal (tmux,
/// 60 columns): the decision under the command's output, then on the step's screen, then `r`.
@Suite(.serialized) struct FailedCheckTerminalTests {
    @Test func aFailedCheckIsFixedAndRetriedInTmux() throws {
        let pty = TerminalTests()
        let dir = try FailedCheckTests.repository()
        let runs = dir.appendingPathComponent("runs")
        let command = "env -u CI TERM=xterm NO_COLOR=1 \(Fixtures.binary.path) run \(dir.appendingPathComponent("fix.md").path) --runs-dir \(runs.path) --as olly; echo EXITED-$?; sleep 30"
        try pty.start(["new-session", "-d", "-s", pty.session, "-x", "60", "-y", "32", command])
        defer { _ = try? pty.tmux(["kill-server"]) }

        _ = try pty.waitFor("▶ Check the release is staged")
        _ = try pty.tmux(["send-keys", "-t", pty.session, "r"])
        _ = try pty.waitFor("Run this command now? [y/N]")
        _ = try pty.tmux(["send-keys", "-t", pty.session, "y"])
        var shown = try pty.waitFor("press r, s, d, f or x")
        #expect(shown.contains("✗ command exited 1 (expected 0)"), "\(shown)")
        #expect(shown.contains("[f] fail: ends the run as failed"), "\(shown)")
        #expect(shown.contains("[s] skip → Deploy the release"), "\(shown)")
        #expect(!shown.contains("EXITED-"), "a failed check must not end the run")

        // Any other key shows the step's screen, with the same decision on it.
        _ = try pty.tmux(["send-keys", "-t", pty.session, "Space"])
        // Waited for by what only the redrawn step screen says: the step's title is on the
        // decision screen too, above the command's output.
        shown = try pty.waitFor("✗ command 1 exited 1; the step stays open")
        #expect(shown.contains("▶ Check the release is staged"), "\(shown)")
        #expect(shown.contains("[x] abort: ends the run as aborted"), "\(shown)")
        #expect(shown.split(separator: "\n").allSatisfy { $0.count <= 60 }, "\(shown)")

        // The operator fixes the cause and presses r: the check passes and the run goes on.
        FailedCheckTests.stage(dir)
        _ = try pty.tmux(["send-keys", "-t", pty.session, "r"])
        _ = try pty.waitFor("Run this command now? [y/N]")
        _ = try pty.tmux(["send-keys", "-t", pty.session, "y"])
        _ = try pty.waitFor("✓ commands passed")
        _ = try pty.tmux(["send-keys", "-t", pty.session, "Space"])
        shown = try pty.waitFor("▶ Deploy the release")
        #expect(shown.contains("1/2"), "\(shown)")
        _ = try pty.tmux(["send-keys", "-t", pty.session, "q"])
        _ = try pty.waitFor("EXITED-3")

        let id = try #require(Fixtures.onlyRun(in: runs.path))
        let events = try JournalFile.read(at: runs.appendingPathComponent(id + "/journal.jsonl").path).events
        let check = events.filter { $0.step == "check-the-release-is-staged" }
        #expect(check.filter { $0.type == .commandFinished }.map { $0.data["passed"]?.bool } == [false, true])
        #expect(check.contains { $0.type == .stepCompleted } && !check.contains { $0.type == .stepFailed })
        #expect(events.allSatisfy { $0.type != .runEnded })
    }
}
