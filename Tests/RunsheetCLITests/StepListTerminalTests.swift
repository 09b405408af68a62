import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Issue 15, items 4 and 5, through the real binary in tmux: the step list opens with Tab, the
/// arrow keys move it and Enter goes to a step; a 40-column window keeps `?` and `q`; `c` prints a
/// long command so that copying it from the terminal gives the command.
@Suite(.serialized) struct StepListTerminalTests {
    let tmux = TerminalTests()

    func start(_ dir: URL, width: Int, height: Int) throws {
        let command = "cd \(dir.path) && env -u CI TERM=xterm-256color NO_COLOR=1 \(Fixtures.binary.path) run step-list.md --runs-dir runs --as bob; echo EXITED-$?; sleep 30"
        try tmux.start(["new-session", "-d", "-s", tmux.session, "-x", "\(width)", "-y", "\(height)", command])
    }

    func keys(_ keys: String...) throws { try tmux.tmux(["send-keys", "-t", tmux.session] + keys) }

    @Test func tabOpensTheListArrowsMoveAndEnterGoesThere() throws {
        let dir = try StepListScreenTests.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        try start(dir, width: 90, height: 40)
        defer { _ = try? tmux.tmux(["kill-server"]) }
        _ = try tmux.waitFor("▶ Read the notes")
        try keys("d")
        _ = try tmux.waitFor("▶ Check the disks")
        try keys("s")
        _ = try tmux.waitFor("Reason to skip")
        try keys("-l", "the disks are new")
        try keys("Enter")
        _ = try tmux.waitFor("▶ Approve the change")
        try keys("Tab")
        var shown = try tmux.waitFor("Steps · Step list demo")
        #expect(shown.contains("›  ▶ Approve the change"), "\(shown)")
        #expect(shown.contains("– Check the disks") && shown.contains("✓ Read the notes") && shown.contains("(branch)"))
        try keys("Up")
        _ = try tmux.waitFor("›  – Check the disks")
        try keys("Up")
        _ = try tmux.waitFor("›  ✓ Read the notes")
        try keys("Down")
        _ = try tmux.waitFor("›  – Check the disks")
        try keys("Enter")
        shown = try tmux.waitFor("– Skipped by bob at")
        #expect(shown.contains("▶ Check the disks") && shown.contains("the disks are new"), "\(shown)")
        try keys("q")
        shown = try tmux.waitFor("EXITED-3")
        #expect(shown.contains("paused at: Check the disks (check-the-disks)") && shown.contains("runsheet render"), "the summary stays on the screen:\n\(shown)")
        let id = try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))
        let events = try JournalFile.read(at: dir.appendingPathComponent("runs/\(id)/journal.jsonl").path).events
        #expect(events.contains { $0.type == .cursorMoved && $0.data["reason"]?.string == "goto" && $0.data["to"]?.string == "check-the-disks" })
        #expect(RunState.fold(events).cursor == "check-the-disks")
    }

    @Test func fortyColumnsKeepHelpAndQuit() throws {
        let dir = try StepListScreenTests.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        try start(dir, width: 40, height: 30)
        defer { _ = try? tmux.tmux(["kill-server"]) }
        let shown = try tmux.waitFor("▶ Read the notes")
        for key in ["[?]help", "[q]uit", "[l]esson", "[a]dd", "[Tab/o] steps", "[c]opy"] { #expect(shown.contains(key), "\(key) shows at 40 columns:\n\(shown)") }
        #expect(shown.split(separator: "\n").allSatisfy { $0.count <= 40 })
        try keys("?")
        let help = try tmux.waitFor("Actions (keys on a terminal")
        #expect(!help.contains("…"), "the help wraps:\n\(help)")
        try keys("q")
        _ = try tmux.waitFor("▶ Read the notes")
        try keys("q")
        _ = try tmux.waitFor("EXITED-3")
    }

    @Test func copyShowsALongCommandUnbroken() throws {
        let dir = try StepListScreenTests.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        try start(dir, width: 40, height: 30)
        defer { _ = try? tmux.tmux(["kill-server"]) }
        _ = try tmux.waitFor("▶ Read the notes")
        try keys("d")
        let step = try tmux.waitFor("▶ Check the disks")
        #expect(step.contains("↪"), "the command wraps with a mark:\n\(step)")
        try keys("c")
        _ = try tmux.waitFor("Commands of step 'check-the-disks'")
        // -J joins lines the terminal wrapped: what a selection in the terminal copies.
        let joined = try tmux.tmux(["capture-pane", "-p", "-J", "-t", tmux.session]).stdout
        let command = "df -h /var/lib/postgresql --output=source,size,pcent | grep -v \"Filesystem  Size  Use%\" && echo 'all disks checked for eu-west' --note=https://example.com/runbooks/disks/a-very-long-page-name-that-cannot-fit-anywhere"
        #expect(joined.split(separator: "\n").contains { $0.trimmingCharacters(in: .whitespaces) == command }, "\(joined)")
        try keys("Space")
        _ = try tmux.waitFor("▶ Check the disks")
        try keys("q")
        _ = try tmux.waitFor("EXITED-3")
        let id = try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))
        let events = try JournalFile.read(at: dir.appendingPathComponent("runs/\(id)/journal.jsonl").path).events
        #expect(!events.contains { $0.type == .commandStarted }, "c runs nothing")
    }
}
