import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// The walk-through in tmux (the helpers and the serialized suite are TerminalTests'): a note an
/// older runsheet recorded with a terminal escape (`\e[8m` hides what follows) shows escaped on
/// the real screen, never as the escape itself.
extension TerminalTests {
    @Test func aNoteWithAnEscapeFromAnOlderJournalShowsEscapedOnTheScreen() throws {
        let suite = ShownTextTests()
        let dir = try suite.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try suite.startedRun(dir, actions: "note first\nquit\n")
        let journal = try JournalFile(path: dir.appendingPathComponent("runs/\(id)/journal.jsonl").path)
        let mallory = Actor(name: "mallory\u{1B}[8m", host: "ops", via: "terminal")
        _ = try journal.append(RunEvent(by: mallory, step: "prepare", .note(NoteTaken(text: "before \u{1B}[8mhidden\u{1B}[0m after"))))
        journal.close()

        let command = "cd \(dir.path) && env -u CI -u RUNSHEET_USER TERM=xterm-256color NO_COLOR=1 \(Fixtures.binary.path) resume \(id) --runs-dir runs --as alice; echo EXITED-$?; sleep 30"
        try start(["new-session", "-d", "-s", session, "-x", "120", "-y", "40", command])
        defer { _ = try? tmux(["kill-server"]) }
        let shown = try waitFor("▶ Prepare")
        #expect(shown.contains("note (mallory\\x1b[8m): before \\x1b[8mhidden\\x1b[0m after"), "\(shown)")
        // Without colour nothing on the screen is an escape sequence: the note's did not reach the terminal.
        let raw = try capture(escapes: true)
        #expect(!raw.contains("\u{1B}[8m"), "\(raw.debugDescription)")
        try keys("q")
        _ = try waitFor("EXITED-3")
    }
}
