import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// A halt declared while an operator waits, in a real terminal (tmux, TERM=xterm): the screen
/// shows who halted, why and since when within a second, whether the operator then arrives at
/// the production step or already waits at it, and no key starts the step.
@Suite(.serialized) struct HaltTerminalTests {
    let screen = TmuxScreen(prefix: "runsheet-halt")

    @Test func aHaltShowsWithinASecondAndNoKeyStartsTheStep() throws {
        #expect(FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux"), "tmux is required (scripts/install-deps installs it)")
        let dir = try HaltTests().repository()
        let runs = dir.appendingPathComponent("runs").path
        let command = "cd \(dir.path) && env -u CI TERM=xterm NO_COLOR=1 \(Fixtures.binary.path) run change.md --runs-dir \(runs) --as olly; echo EXITED-$?; sleep 60"
        #expect(try screen.tmux(["new-session", "-d", "-s", screen.session, "-x", "100", "-y", "40", command]).status == 0)
        defer { _ = try? screen.tmux(["kill-server"]) }
        try screen.waitFor("▶ Prepare")
        // Declared while the operator waits at the step before the production step…
        let halt = try Fixtures.runsheet(["halt", "--as", "rita", "--reason", "INC-2041 checkout errors"], directory: dir)
        #expect(halt.status == 0, "\(halt.stderr)")
        // …they press the key to go on: the production step's screen shows the halt at once.
        try screen.keys("d")
        var shown = try screen.waitFor("HALTED", seconds: 1)
        #expect(shown.contains("▶ Switch traffic") && shown.contains("halted by rita since") && shown.contains("INC-2041"), "\(shown)")
        #expect(shown.contains("a halt never blocks") && shown.contains("rollback steps"), "\(shown)")
        // No key starts it.
        try screen.keys("d")
        try screen.waitFor("step 'switch-traffic' is a production change")
        // Lifted, and halted again while the operator waits at the production step itself.
        #expect(try Fixtures.runsheet(["halt", "--lift", "--as", "rita"], directory: dir).status == 0)
        try screen.waitForNo("HALTED", seconds: 1)
        #expect(try Fixtures.runsheet(["halt", "--as", "rita", "--reason", "INC-2042 second outage"], directory: dir).status == 0)
        shown = try screen.waitFor("INC-2042", seconds: 1)
        #expect(shown.contains("HALTED"), "\(shown)")
        try screen.keys("d")
        try screen.keys("q")
        try screen.waitFor("EXITED-3")
        let id = try #require(Fixtures.onlyRun(in: runs))
        let events = try JournalFile.read(at: runs + "/\(id)/journal.jsonl").events
        #expect(!events.contains { $0.step == "switch-traffic" && ($0.type == .stepCompleted || $0.type == .commandStarted) })
        #expect(events.contains { $0.type == .note && $0.step == "switch-traffic" && ($0.data["text"]?.string ?? "").contains("INC-2042") })
    }
}
