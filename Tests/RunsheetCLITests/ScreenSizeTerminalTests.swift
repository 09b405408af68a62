import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// The screen's size in a real terminal (tmux, TERM=xterm): a step taller than the window
/// scrolls under a head and key bar that stay; the paused summary at 40 columns breaks only at
/// spaces; and a window resized while a command runs is left without stray status text.
@Suite(.serialized) struct ScreenSizeTerminalTests {
    let session = "runsheet-size-\(UUID().uuidString.prefix(8))"

    @discardableResult
    func tmux(_ arguments: [String]) throws -> ProcessResult { try Tmux.run(arguments, server: session) }

    func screen(joined: Bool = false) throws -> String { try tmux(["capture-pane", "-p"] + (joined ? ["-J"] : []) + ["-t", session]).stdout }

    func keys(_ keys: String...) throws { try tmux(["send-keys", "-t", session] + keys) }

    @discardableResult
    func waitFor(_ text: String, seconds: Double = 15, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try Tmux.waitFor(text, server: session, seconds: seconds, every: 0.05, sourceLocation: sourceLocation)
    }

    /// Starts `runsheet run FILE` in a tmux window `width` by `height`, TERM=xterm.
    func start(_ file: String, in dir: URL, width: Int, height: Int) throws -> String {
        #expect(FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux"), "tmux is required (scripts/install-deps installs it)")
        let runs = dir.appendingPathComponent("runs").path
        let command = "cd \(dir.path) && env -u CI TERM=xterm NO_COLOR=1 \(Fixtures.binary.path) run \(file) --runs-dir \(runs) --as bob; echo EXITED-$?; sleep 60"
        #expect(try tmux(["new-session", "-d", "-s", session, "-x", "\(width)", "-y", "\(height)", command]).status == 0)
        return runs
    }

    func rows(_ text: String) -> [String] {
        var rows = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        while rows.last?.trimmingCharacters(in: .whitespaces).isEmpty == true { rows.removeLast() }
        return rows
    }

    @Test func aLongStepScrollsUnderItsHeadAndKeys() throws {
        let dir = try Fixtures.temporaryDirectory()
        try FileManager.default.copyItem(atPath: StepScreenScrollingTests.runbook, toPath: dir.appendingPathComponent("long.md").path)
        _ = try start("long.md", in: dir, width: 40, height: 20)
        defer { _ = try? tmux(["kill-server"]) }
        var shown = try waitFor("more lines below")
        func expectHeadAndKeys(_ shown: String, sourceLocation: SourceLocation = #_sourceLocation) {
            let rows = rows(shown)
            #expect(rows.count <= 18 && rows.first == "Long step demo" && rows.count > 6 && rows[2].contains("elapsed") && rows[5].hasPrefix("▶ Drain the old pool"),
                    "the head stays at the top:\n\(shown)", sourceLocation: sourceLocation)
            #expect(rows.last?.contains("[q]uit") == true && shown.contains("[j/k PgDn/PgUp] scroll"), "the keys stay at the bottom:\n\(shown)", sourceLocation: sourceLocation)
        }
        expectHeadAndKeys(shown)
        #expect(shown.contains("First instruction") && !shown.contains("↑"), "\(shown)")
        for _ in 0..<16 { try keys("NPage") }
        shown = try waitFor("--show-connections")
        expectHeadAndKeys(shown)
        #expect(shown.contains("more lines above") && !shown.contains("below"), "\(shown)")
        try keys("k")
        shown = try waitFor("1 more line below")
        expectHeadAndKeys(shown)
        for _ in 0..<16 { try keys("PPage") }
        shown = try waitFor("First instruction")
        expectHeadAndKeys(shown)
        try keys("q")
        try waitFor("EXITED-3")
    }

    /// At 40 columns the paused summary's first line breaks between words, and the resume command
    /// has a row of its own, whole: no row is one the terminal had to wrap mid-word.
    @Test func thePausedSummaryWrapsAtSpacesAt40Columns() throws {
        let dir = try Fixtures.temporaryDirectory()
        try FileManager.default.copyItem(atPath: WalkThroughScreenTests.demo, toPath: dir.appendingPathComponent("demo.md").path)
        let runs = try start("demo.md", in: dir, width: 40, height: 30)
        defer { _ = try? tmux(["kill-server"]) }
        try waitFor("▶ Read the notes")
        try keys("q")
        try waitFor("EXITED-3")
        let id = try #require(Fixtures.onlyRun(in: runs))
        // -J joins the rows the terminal wrapped itself: the summary's lines are what runsheet wrote.
        let lines = rows(try screen(joined: true))
        let head = try #require(lines.firstIndex { $0.hasSuffix("paused; resume with:") }, "\(lines.joined(separator: "\n"))")
        // The runs folder is the one beside the runbook, which resume finds by itself.
        #expect(lines[head + 1] == "    runsheet resume \(id)", "\(lines.joined(separator: "\n"))")
        #expect(lines.filter { $0.hasPrefix("run ") || $0.hasPrefix("paused") }.allSatisfy { $0.count <= 40 }, "\(lines.joined(separator: "\n"))")
        #expect(!lines.contains { $0.contains("resume with: runsheet") }, "\(lines.joined(separator: "\n"))")
    }

    /// Resized back and forth while `sleep 3` runs: once it is over, no status text is left on
    /// the screen, and the lines that stay are there.
    @Test func aResizeWhileACommandRunsLeavesNoStatusBehind() throws {
        let dir = try Fixtures.temporaryDirectory()
        try "# Resize\n\n- [ ] Wait\n  ```bash run\n  sleep 3\n  ```\n- [ ] Look\n".write(to: dir.appendingPathComponent("wait.md"), atomically: true, encoding: .utf8)
        _ = try start("wait.md", in: dir, width: 40, height: 30)
        defer { _ = try? tmux(["kill-server"]) }
        try waitFor("▶ Wait")
        try keys("r")
        try waitFor("Run this command now? [y/N]")
        try keys("y")
        try waitFor("Ctrl-C stops")
        for width in [100, 45, 120, 41, 100, 45, 120, 41] {
            try tmux(["resize-window", "-t", session, "-x", "\(width)", "-y", "30"])
            Thread.sleep(forTimeInterval: 0.1)
        }
        let shown = try waitFor("press any key")
        for text in ["running", "Ctrl-C stops", "run 00:"] { #expect(!shown.contains(text), "'\(text)' left on the screen:\n\(shown)") }
        #expect(shown.contains("┌ command 1 · gets no input") && shown.contains("✓ commands passed"), "\(shown)")
        try keys("Space")
        try waitFor("▶ Look")
        try keys("q")
        try waitFor("EXITED-3")
    }
}
