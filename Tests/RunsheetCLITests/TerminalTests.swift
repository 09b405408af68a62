import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// The interactive walk-through in a real pseudo-terminal: tmux runs the binary, the test presses
/// keys with send-keys and reads the screen with capture-pane.
@Suite(.serialized) struct TerminalTests {
    let session = "runsheet-test-\(UUID().uuidString.prefix(8))"

    func tmux(_ arguments: [String]) throws -> ProcessResult {
        try Fixtures.run("/usr/bin/tmux", arguments)
    }

    /// Starts the tmux server without handing it our pipes (it would keep them open forever).
    func start(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/tmux")
        process.arguments = arguments
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        try process.run()
        process.waitUntilExit()
    }

    func screen() throws -> String { try tmux(["capture-pane", "-p", "-t", session]).stdout }

    /// Waits until the screen shows `text`, failing with the screen after `seconds`.
    func waitFor(_ text: String, seconds: Double = 15) throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        var last = ""
        while Date() < deadline {
            last = try screen()
            if last.contains(text) { return last }
            Thread.sleep(forTimeInterval: 0.1)
        }
        Issue.record("screen never showed '\(text)'; it shows:\n\(last)")
        return last
    }

    @Test func keysDriveTheRunAndTheJournalRecordsThem() throws {
        #expect(FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux"), "tmux is required (scripts/install-deps installs it)")
        let runs = try Fixtures.temporaryDirectory()
        let fixture = Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/runbooks/run-demo.md").path
        let command = "env -u CI TERM=xterm-256color NO_COLOR=1 \(Fixtures.binary.path) run \(fixture) --runs-dir \(runs.path) --as bob; echo EXITED-$?; sleep 30"
        try start(["new-session", "-d", "-s", session, "-x", "90", "-y", "40", command])
        defer { _ = try? tmux(["kill-session", "-t", session]) }

        var shown = try waitFor("▶ Read the notes")
        #expect(shown.contains("Run demo"))
        #expect(shown.contains("[d]one  [r]un  [s]kip"))
        #expect(shown.contains("0/5"))
        #expect(shown.split(separator: "\n").allSatisfy { $0.count <= 90 })

        _ = try tmux(["send-keys", "-t", session, "d"])
        shown = try waitFor("▶ Say hello")
        #expect(shown.contains("$ echo hello world ••••"))

        _ = try tmux(["send-keys", "-t", session, "r"])
        _ = try waitFor("Run this command now? [y/N]")
        _ = try tmux(["send-keys", "-t", session, "y"])
        shown = try waitFor("press any key")
        #expect(shown.contains("│ hello world ••••"))
        #expect(!shown.contains("s3cr3t-value"))
        _ = try tmux(["send-keys", "-t", session, "Space"])
        _ = try waitFor("▶ Deploy the service")

        _ = try tmux(["send-keys", "-t", session, "s"])
        _ = try waitFor("Reason to skip")
        _ = try tmux(["send-keys", "-t", session, "-l", "done by hand"])
        _ = try tmux(["send-keys", "-t", session, "Enter"])
        // The last step applies only to emergencies, so it is skipped and the run ends.
        shown = try waitFor("EXITED-0")
        #expect(shown.contains("completed"))
        let ids = try FileManager.default.contentsOfDirectory(atPath: runs.path)
        let events = try JournalFile.read(at: runs.appendingPathComponent(ids[0] + "/journal.jsonl").path).events
        let state = RunState.fold(events)
        #expect(state.record("say-hello").status == .done)
        #expect(state.record("deploy-the-service").reason == "done by hand")
        #expect(events.allSatisfy { $0.actor == "bob" && $0.via == "terminal" })
    }

    @Test func quitKeepsTheRunResumable() throws {
        let runs = try Fixtures.temporaryDirectory()
        let fixture = Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/runbooks/run-demo.md").path
        let command = "TERM=xterm NO_COLOR=1 \(Fixtures.binary.path) run \(fixture) --runs-dir \(runs.path); echo EXITED-$?; sleep 30"
        try start(["new-session", "-d", "-s", session, "-x", "80", "-y", "30", command])
        defer { _ = try? tmux(["kill-session", "-t", session]) }
        _ = try waitFor("▶ Read the notes")
        _ = try tmux(["send-keys", "-t", session, "q"])
        let shown = try waitFor("EXITED-3")
        #expect(shown.contains("paused; resume with: runsheet resume"))
    }

    @Test func ctrlCStopsTheCommandNotTheRun() throws {
        let runs = try Fixtures.temporaryDirectory()
        let fixture = Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/runbooks/slow.md").path
        let command = "env -u CI TERM=xterm NO_COLOR=1 \(Fixtures.binary.path) run \(fixture) --runs-dir \(runs.path); echo EXITED-$?; sleep 30"
        try start(["new-session", "-d", "-s", session, "-x", "80", "-y", "30", command])
        defer { _ = try? tmux(["kill-session", "-t", session]) }
        _ = try waitFor("▶ Wait for the cache to warm")
        _ = try tmux(["send-keys", "-t", session, "r"])
        _ = try waitFor("Run this command now? [y/N]")
        _ = try tmux(["send-keys", "-t", session, "y"])
        _ = try waitFor("│ warming")
        _ = try tmux(["send-keys", "-t", session, "C-c"])
        let shown = try waitFor("interrupted; the step is still open", seconds: 10)
        #expect(!shown.contains("EXITED-"))
        _ = try tmux(["send-keys", "-t", session, "Space"])
        _ = try waitFor("▶ Wait for the cache to warm")
        _ = try tmux(["send-keys", "-t", session, "q"])
        _ = try waitFor("EXITED-3")
        let ids = try FileManager.default.contentsOfDirectory(atPath: runs.path)
        let events = try JournalFile.read(at: runs.appendingPathComponent(ids[0] + "/journal.jsonl").path).events
        let record = RunState.fold(events).record("wait-for-the-cache-to-warm")
        #expect(record.commands.first?.interrupted == true)
        #expect(record.status == .active)
    }
}
