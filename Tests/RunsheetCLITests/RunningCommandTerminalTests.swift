import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Issue 15, items 2 and 3, through the real binary in a real pseudo-terminal (tmux): a running
/// command's status line, keys typed meanwhile, a Timeout counting down, retries with the exit
/// codes of earlier attempts, and a command flagged `interactive` that gets the terminal.
@Suite(.serialized) struct RunningCommandTerminalTests {
    let session = "runsheet-live-\(UUID().uuidString.prefix(8))"

    /// tmux against a server of this test's own (`Tmux.run`).
    @discardableResult
    func tmux(_ arguments: [String]) throws -> ProcessResult { try Tmux.run(arguments, server: session) }

    func screen() throws -> String { try tmux(["capture-pane", "-p", "-t", session]).stdout }

    func keys(_ keys: String...) throws { try tmux(["send-keys", "-t", session] + keys) }

    func type(_ text: String) throws { try tmux(["send-keys", "-t", session, "-l", text]) }

    /// Waits until the screen shows `text`, failing with the screen after `seconds`.
    @discardableResult
    func waitFor(_ text: String, seconds: Double = 15, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try Tmux.waitFor(text, server: session, seconds: seconds, every: 0.05, sourceLocation: sourceLocation)
    }

    /// Starts `runsheet run` on `runbook` (written to a new folder) in a tmux window `width` wide.
    func start(_ runbook: String, width: Int = 100, height: Int = 32) throws -> (dir: URL, runs: String) {
        #expect(FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux"), "tmux is required (scripts/install-deps installs it)")
        let dir = try Fixtures.temporaryDirectory()
        try runbook.write(to: dir.appendingPathComponent("live.md"), atomically: true, encoding: .utf8)
        let runs = dir.appendingPathComponent("runs").path
        let command = "cd \(dir.path) && env -u CI TERM=xterm-256color NO_COLOR=1 \(Fixtures.binary.path) run live.md --runs-dir \(runs) --as bob; echo EXITED-$?; sleep 60"
        let result = try tmux(["new-session", "-d", "-s", session, "-x", "\(width)", "-y", "\(height)", command])
        #expect(result.status == 0, "tmux: \(result.stdout)")
        return (dir, runs)
    }

    func events(_ runs: String) throws -> [RunEvent] {
        let id = try #require(Fixtures.onlyRun(in: runs))
        return try JournalFile.read(at: runs + "/" + id + "/journal.jsonl").events
    }

    /// (a) A quiet command: spinner, its clock moving, "Ctrl-C stops this command" under the
    /// output; keys typed meanwhile are not echoed and do not act once it is over.
    @Test func aRunningCommandIsAliveAndTypedKeysAreDropped() throws {
        let (_, runs) = try start("""
            # Live
            - [ ] Wait for the pool
              ```bash run
              echo draining; sleep 3; echo drained
              ```
            - [ ] Look at it
            """)
        defer { _ = try? tmux(["kill-server"]) }
        try waitFor("▶ Wait for the pool")
        try keys("r")
        try waitFor("Run this command now? [y/N]")
        try keys("y")
        var shown = try waitFor("Ctrl-C stops this command")
        #expect(shown.contains("┌ command 1 · gets no input"), "\(shown)")
        shown = try waitFor("running 0:01")
        #expect(["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"].contains { shown.contains($0) }, "no spinner:\n\(shown)")
        // The status line is the last line written, below the output.
        let lines = shown.split(separator: "\n").map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        #expect(lines.last?.contains("running 0:01") == true, "\(shown)")
        #expect(lines.firstIndex { $0.contains("│ draining") } ?? 99 < lines.count - 1, "\(shown)")
        // Typed while it runs: neither shown nor acted on afterwards (q would quit, x abort, d mark done).
        try type("qxd")
        shown = try waitFor("running 0:02")
        #expect(!shown.contains("qxd") && !shown.contains("^C"), "typed keys were echoed:\n\(shown)")
        shown = try waitFor("press any key")
        #expect(shown.contains("│ drained") && shown.contains("✓ commands passed"), "\(shown)")
        #expect(!shown.contains("Ctrl-C stops this command"), "the status line is left on the screen:\n\(shown)")
        Thread.sleep(forTimeInterval: 0.8)
        shown = try screen()
        #expect(shown.contains("press any key") && !shown.contains("EXITED"), "a typed key acted after the command:\n\(shown)")
        try keys("Space")
        try waitFor("▶ Look at it")
        try keys("q")
        try waitFor("EXITED-3")
        let events = try events(runs)
        #expect(!events.contains { $0.type == .stepCompleted && $0.step == "look-at-it" })
        #expect(!events.contains { $0.type == .runEnded })
        #expect(events.filter { $0.type == .runPaused }.count == 1, "only the q pressed after the screen came back pauses")
        let state = RunState.fold(events)
        #expect(state.record("wait-for-the-pool").status == .done)
        #expect(state.record("wait-for-the-pool").commands.first?.exitCode == 0)
    }

    /// (b) A step's Timeout counts down under the command, and the attempt is recorded timed out.
    @Test func aTimeoutCountsDown() throws {
        let (_, runs) = try start("""
            # Live
            - [ ] Wait too long
              - Timeout: 4s
              ```bash run
              sleep 30
              ```
            """, width: 60)
        defer { _ = try? tmux(["kill-server"]) }
        try waitFor("▶ Wait too long")
        try keys("r")
        try waitFor("Run this command now? [y/N]")
        try keys("y")
        try waitFor("times out in 0:03")
        var shown = try waitFor("times out in 0:01")
        #expect(shown.split(separator: "\n").allSatisfy { $0.count <= 60 })
        shown = try waitFor("timed out after 4s", seconds: 15)
        let events = try events(runs)
        let finished = try #require(events.first { $0.type == .commandFinished })
        #expect(finished.data["timedOut"] == .bool(true), "\(finished.data)")
    }

    /// (c) Retries: the attempt, the wait before the next and the exit codes of earlier attempts.
    @Test func retriesShowTheirAttemptsAndEarlierExitCodes() throws {
        let (_, runs) = try start("""
            # Live
            - [ ] Flaky check
              - Retries: 2 every 2s
              ```bash run
              sleep 1; exit 3
              ```
            """, width: 100)
        defer { _ = try? tmux(["kill-server"]) }
        try waitFor("▶ Flaky check")
        try keys("r")
        try waitFor("Run this command now? [y/N]")
        try keys("y")
        var shown = try waitFor("attempt 2 of 3 · next in")
        #expect(shown.contains("earlier: exit 3"), "\(shown)")
        #expect(shown.contains("✗ attempt 1 of 3: exit 3"), "\(shown)")
        shown = try waitFor("┌ command 1, attempt 2")
        shown = try waitFor("earlier: exit 3 ×2", seconds: 10)
        #expect(shown.contains("attempt 3 of 3"), "\(shown)")
        shown = try waitFor("✗ command exited 3 (expected 0)", seconds: 10)
        #expect(shown.contains("✗ attempt 2 of 3: exit 3"), "\(shown)")
        let events = try events(runs)
        let codes = events.filter { $0.type == .commandFinished }.map { $0.data["exit"] }
        #expect(codes == [.int(3), .int(3), .int(3)], "\(codes)")
    }

    /// (d) `run interactive` gets the terminal: its prompt shows, the typed answer reaches it, and
    /// the output file holds the prompt. The same block without the flag gets end of file.
    @Test func anInteractiveCommandGetsTheTerminal() throws {
        let (dir, runs) = try start("""
            # Live
            - [ ] Confirm by hand
              ```bash run interactive
              read -p "Type yes: " a; [ "$a" = yes ]
              ```
            - [ ] Confirm without input
              ```bash run
              read -p "Type yes: " a; [ "$a" = yes ]
              ```
            """, width: 80)
        defer { _ = try? tmux(["kill-server"]) }
        var shown = try waitFor("▶ Confirm by hand")
        #expect(shown.contains("command (bash) · gets the terminal:"), "\(shown)")
        try keys("r")
        try waitFor("Run this command now? [y/N]")
        try keys("y")
        shown = try waitFor("Type yes: ")
        #expect(shown.contains("has the terminal"), "\(shown)")
        try type("yes")
        try keys("Enter")
        shown = try waitFor("press any key")
        #expect(shown.contains("✓ commands passed"), "\(shown)")
        try keys("Space")
        shown = try waitFor("▶ Confirm without input")
        #expect(shown.contains("command (bash) · gets no input:"), "\(shown)")
        try keys("r")
        try waitFor("Run this command now? [y/N]")
        try keys("y")
        shown = try waitFor("exited 1 (expected 0)")
        #expect(shown.contains("┌ command 1 · gets no input"), "\(shown)")

        let events = try events(runs)
        let finished = events.filter { $0.type == .commandFinished }
        #expect(finished.count == 2)
        #expect(finished.first?.step == "confirm-by-hand" && finished.first?.data["exit"] == .int(0))
        #expect(finished.last?.step == "confirm-without-input" && finished.last?.data["exit"] == .int(1))
        let id = try #require(Fixtures.onlyRun(in: runs))
        let file = try #require(finished.first?.data["outputFile"]?.string)
        let log = try Data(contentsOf: URL(fileURLWithPath: runs + "/" + id + "/" + file))
        #expect(String(decoding: log, as: UTF8.self).contains("Type yes: "), "the log: \(String(decoding: log, as: UTF8.self))")
        // The journal's hash is the hash of the output file as written.
        #expect(finished.first?.data["outputSha256"]?.string == SHA256Hex.of(Array(log)))
        let quiet = try #require(finished.last?.data["outputFile"]?.string)
        let quietLog = (try? String(contentsOfFile: runs + "/" + id + "/" + quiet, encoding: .utf8)) ?? ""
        #expect(!quietLog.contains("Type yes"), "without a terminal read -p shows no prompt: \(quietLog)")
        _ = dir
    }
}

extension RunningCommandTerminalTests {
    /// A waiting gate's Timeout counts down on its screen in a real terminal.
    @Test func aGateCountsDownOnItsScreen() throws {
        let dir = try GateCountdownTests.repository(timeout: "90s")
        let runs = dir.appendingPathComponent("runs").path
        let command = "cd \(dir.path) && env -u CI TERM=xterm NO_COLOR=1 \(Fixtures.binary.path) run change.md --runs-dir \(runs) --as alice; echo EXITED-$?; sleep 60"
        #expect(try tmux(["new-session", "-d", "-s", session, "-x", "40", "-y", "30", command]).status == 0)
        defer { _ = try? tmux(["kill-server"]) }
        try waitFor("▶ Prepare")
        try keys("d")
        var shown = try waitFor("times out in 89s")
        shown = try waitFor("times out in 87s")
        #expect(shown.contains("Gate: sign-off by 1 of sre"), "\(shown)")
        #expect(shown.split(separator: "\n").allSatisfy { $0.count <= 40 })
        try keys("q")
        shown = try waitFor("EXITED-3")
        let events = try events(runs)
        #expect(RunState.fold(events).record("approve-the-change").status == .active)
    }
}
