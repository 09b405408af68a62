import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// The interactive walk-through in a real pseudo-terminal: tmux runs the binary, the test presses
/// keys with send-keys and reads the screen with capture-pane.
@Suite(.serialized) struct TerminalTests {
    /// A folder with a roles file and `change.md`, whose gate needs 2 of sre and a release-manager,
    /// not the starter: the gate screen's tests (tmux and in process) both walk it.
    static func gateRepository() throws -> URL {
        let dir = try Fixtures.temporaryDirectory()
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        try "roles:\n  sre: [carol, dave]\n  release-manager: [erin]\n"
            .write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        try """
            # Change

            - [ ] Prepare the release
            - [ ] Approve the change
              - Sign-off: 2 of sre
              - Sign-off: release-manager
              - Separation: starter
            - [ ] Deploy
            """.write(to: dir.appendingPathComponent("change.md"), atomically: true, encoding: .utf8)
        return dir
    }

    let session = "runsheet-test-\(UUID().uuidString.prefix(8))"

    /// Runs tmux against a server of this test's own (`Tmux.run`).
    @discardableResult
    func tmux(_ arguments: [String]) throws -> ProcessResult { try Tmux.run(arguments, server: session) }

    /// Starts the session's tmux server with `command` in a window of the given size.
    func start(_ arguments: [String]) throws {
        let result = try tmux(arguments)
        #expect(result.status == 0, "tmux \(arguments.joined(separator: " ")) exited \(result.status): \(result.stdout)")
    }

    func screen() throws -> String { try tmux(["capture-pane", "-p", "-t", session]).stdout }

    /// Waits until the screen shows `text`, failing with the screen after `seconds`.
    func waitFor(_ text: String, seconds: Double = 15, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try Tmux.waitFor(text, server: session, seconds: seconds, every: 0.1, sourceLocation: sourceLocation)
    }

    @Test func keysDriveTheRunAndTheJournalRecordsThem() throws {
        #expect(FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux"), "tmux is required (scripts/install-deps installs it)")
        let runs = try Fixtures.temporaryDirectory()
        let fixture = Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/runbooks/run-demo.md").path
        let command = "env -u CI TERM=xterm-256color NO_COLOR=1 \(Fixtures.binary.path) run \(fixture) --runs-dir \(runs.path) --as bob; echo EXITED-$?; sleep 30"
        try start(["new-session", "-d", "-s", session, "-x", "90", "-y", "40", command])
        defer { _ = try? tmux(["kill-server"]) }

        var shown = try waitFor("▶ Read the notes")
        #expect(shown.contains("Run demo"))
        #expect(shown.contains("[d]one  [r]un  [s]kip"))
        #expect(shown.contains("0/4"), "the rollback step is a branch the run has not taken")
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
        defer { _ = try? tmux(["kill-server"]) }
        _ = try waitFor("▶ Read the notes")
        _ = try tmux(["send-keys", "-t", session, "q"])
        let shown = try waitFor("EXITED-3")
        // Wider than 80 columns with its --runs-dir: the command goes on a line of its own.
        #expect(shown.contains("paused; resume with:\n    runsheet resume "), "\(shown)")
    }

    @Test func ctrlCStopsTheCommandNotTheRun() throws {
        let runs = try Fixtures.temporaryDirectory()
        let fixture = Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/runbooks/slow.md").path
        let command = "env -u CI TERM=xterm NO_COLOR=1 \(Fixtures.binary.path) run \(fixture) --runs-dir \(runs.path); echo EXITED-$?; sleep 30"
        try start(["new-session", "-d", "-s", session, "-x", "80", "-y", "30", command])
        defer { _ = try? tmux(["kill-server"]) }
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

    @Test func gateScreenShowsSignaturesAndMovesOnByItself() throws {
        let dir = try TerminalTests.gateRepository()
        let runs = dir.appendingPathComponent("runs").path
        let command = "cd \(dir.path) && env -u CI TERM=xterm NO_COLOR=1 \(Fixtures.binary.path) run change.md --runs-dir \(runs) --as alice; echo EXITED-$?; sleep 30"
        try start(["new-session", "-d", "-s", session, "-x", "80", "-y", "30", command])
        defer { _ = try? tmux(["kill-server"]) }
        _ = try waitFor("▶ Prepare the release")
        try tmux(["send-keys", "-t", session, "d"])
        var shown = try waitFor("Gate: sign-off by 2 of sre and 1 of release-manager")
        #expect(shown.contains("signed: nobody yet; needs 2 more of sre and 1 more of release-manager"))
        #expect(shown.contains("others sign with: runsheet sign"))
        let id = try #require(Fixtures.onlyRun(in: runs))

        // Signatures from other terminals appear on the waiting screen without a keypress.
        #expect(try Fixtures.runsheet(["sign", id, "approve-the-change", "--as", "carol", "--runs-dir", runs], directory: dir).status == 0)
        shown = try waitFor("signed: carol (sre); needs 1 more of sre and 1 more of release-manager")
        // Pressing done early is refused with the reason, and nothing is recorded.
        try tmux(["send-keys", "-t", session, "d"])
        _ = try waitFor("this gate still needs 1 more of sre and 1 more of release-manager")
        // Neither goto nor skip gets past it (issue 12, items 2 and 3), and nothing is recorded.
        try tmux(["send-keys", "-t", session, "g"])
        _ = try waitFor("Go to step id")
        try tmux(["send-keys", "-t", session, "-l", "deploy"])
        try tmux(["send-keys", "-t", session, "Enter"])
        _ = try waitFor("goto would take the run to step 'deploy' past gate 'approve-the-change'")
        try tmux(["send-keys", "-t", session, "s"])
        _ = try waitFor("Reason to skip")
        try tmux(["send-keys", "-t", session, "-l", "approved by mail"])
        try tmux(["send-keys", "-t", session, "Enter"])
        _ = try waitFor("gate 'approve-the-change' applies to this normal run and cannot be skipped")
        let before = try JournalFile.read(at: runs + "/" + id + "/journal.jsonl").events
        #expect(!before.contains { $0.step == "deploy" || $0.type == .stepSkipped || $0.type == .cursorMoved })
        #expect(try Fixtures.runsheet(["sign", id, "approve-the-change", "--as", "dave", "--runs-dir", runs], directory: dir).status == 0)
        #expect(try Fixtures.runsheet(["sign", id, "approve-the-change", "--as", "erin", "--runs-dir", runs], directory: dir).status == 0)
        shown = try waitFor("▶ Deploy")
        #expect(shown.contains("Gate approved."))
        try tmux(["send-keys", "-t", session, "d"])
        shown = try waitFor("EXITED-0")
        let events = try JournalFile.read(at: runs + "/" + id + "/journal.jsonl").events
        let state = RunState.fold(events)
        #expect(state.outcome == .completed)
        #expect(state.record("approve-the-change").status == .done)
        #expect(state.record("approve-the-change").actor == "alice")
        #expect(events.filter { $0.type == .signOff }.map(\.actor) == ["carol", "dave", "erin"])
    }

    @Test func newAsksForMissingValuesOnATerminal() throws {
        let dir = try Fixtures.temporaryDirectory()
        let command = "cd \(dir.path) && TERM=xterm NO_COLOR=1 \(Fixtures.binary.path) new upgrade runbooks/nginx.md --param owner=ops; echo EXITED-$?; sleep 30"
        try start(["new-session", "-d", "-s", session, "-x", "120", "-y", "20", command])
        defer { _ = try? tmux(["kill-server"]) }
        _ = try waitFor("title [Upgrade checklist]:")
        try tmux(["send-keys", "-t", session, "-l", "Upgrade nginx to 1.27"])
        try tmux(["send-keys", "-t", session, "Enter"])
        _ = try waitFor("service [my-service]:")
        try tmux(["send-keys", "-t", session, "-l", "edge-proxy"])
        try tmux(["send-keys", "-t", session, "Enter"])
        let shown = try waitFor("EXITED-")
        #expect(shown.contains("EXITED-0"))
        #expect(shown.contains("created runbooks/nginx.md (upgrade, "))
        #expect(!shown.contains("owner ["), "a value given with --param is not asked for")
        let text = try String(contentsOf: dir.appendingPathComponent("runbooks/nginx.md"), encoding: .utf8)
        #expect(text.contains("title: \"Upgrade nginx to 1.27\"\n"))
        #expect(text.contains("id: \"upgrade-nginx-to-127\"\n"))
        #expect(text.contains("owner: \"ops\"\n"))
        #expect(text.contains("- [ ] Back up edge-proxy and its configuration"))
    }
}
