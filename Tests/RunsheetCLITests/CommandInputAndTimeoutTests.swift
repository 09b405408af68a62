import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Issue 15, items 2 and 3, through the binary: the front matter's `command-timeout`, commands
/// that get no input, and `run interactive` refused where no person is at a terminal.
@Suite struct CommandInputAndTimeoutTests {
    static func folder(_ runbook: String) throws -> URL {
        let dir = try Fixtures.temporaryDirectory()
        try runbook.write(to: dir.appendingPathComponent("r.md"), atomically: true, encoding: .utf8)
        return dir
    }

    static func events(_ dir: URL) throws -> [RunEvent] {
        let runs = dir.appendingPathComponent("runs").path
        let id = try #require(Fixtures.onlyRun(in: runs))
        return try JournalFile.read(at: runs + "/" + id + "/journal.jsonl").events
    }

    /// (e) `command-timeout: 2s` kills a long command of a step without a Timeout, and the journal
    /// records the attempt as timed out; a step's own Timeout wins over it.
    @Test func theFrontMattersCommandTimeoutKillsALongCommand() throws {
        let dir = try Self.folder("""
            ---
            command-timeout: 2s
            ---
            # Timeouts
            - [ ] Hang
              - On failure: continue
              ```bash run
              sleep 60
              ```
            - [ ] Own limit wins
              - Timeout: 4s
              ```bash run
              sleep 3; echo finished
              ```
            """)
        let started = Date()
        let result = try Fixtures.runsheet(["run", "r.md", "--runs-dir", "runs", "--as", "bob"], stdin: "run\nrun\n", directory: dir)
        #expect(Date().timeIntervalSince(started) < 30, "the 60 s command must be killed after 2 s")
        #expect(result.stdout.contains("command timed out after 2s"), "\(result.stdout)\n\(result.stderr)")
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let events = try Self.events(dir)
        let finished = events.filter { $0.type == .commandFinished }
        #expect(finished.count == 2)
        #expect(finished.first?.step == "hang" && finished.first?.data["timedOut"] == .bool(true), "\(finished.first?.data ?? [:])")
        #expect(finished.last?.step == "own-limit-wins" && finished.last?.data["exit"] == .int(0) && finished.last?.data["timedOut"] == .bool(false))
        let state = RunState.fold(events)
        #expect(state.record("hang").reason?.contains("timed out after 2s") == true)
        #expect(state.record("own-limit-wins").status == .done)
    }

    /// A value that is not a duration is an error at its place, `path:line:col`, and `run` refuses.
    @Test func aBadCommandTimeoutIsAnErrorAtItsPlace() throws {
        let dir = try Self.folder("---\nid: t\ncommand-timeout: ten minutes\n---\n# T\n- [ ] Go\n  ```bash run\n  true\n  ```\n")
        let check = try Fixtures.runsheet(["check", "r.md"], directory: dir)
        #expect(check.status == 1, "\(check.stdout)\(check.stderr)")
        let output = check.stdout + check.stderr
        #expect(output.contains("r.md:3:18: error: 'command-timeout' is 'ten minutes', not a duration longer than 0"), "\(output)")
        #expect(output.contains("[bad-duration]"))
        let run = try Fixtures.runsheet(["run", "r.md", "--runs-dir", "runs", "--auto"], directory: dir)
        #expect(run.status != 0 && run.status != 3, "\(run.stdout)\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("runs").path)
                || Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path) == nil)
    }

    /// `interactive` only with `run`: otherwise an error at the block's fence.
    @Test func interactiveWithoutRunIsAnError() throws {
        let dir = try Self.folder("# T\n\n- [ ] Ask\n  ```bash interactive\n  read a\n  ```\n- [ ] Ask properly\n  ```bash run interactive\n  read a\n  ```\n")
        let check = try Fixtures.runsheet(["check", "r.md"], directory: dir)
        let output = check.stdout + check.stderr
        #expect(check.status == 1, "\(output)")
        #expect(output.contains("r.md:4:3: error: the flag 'interactive' needs 'run' beside it"), "\(output)")
        #expect(output.contains("[interactive-without-run]"))
        #expect(output.components(separatedBy: "interactive-without-run").count == 2, "only the block without run: \(output)")
        let fixed = try Self.folder("# T\n\n- [ ] Ask properly\n  ```bash run interactive\n  read a\n  ```\n")
        #expect(try Fixtures.runsheet(["check", "r.md"], directory: fixed).status == 0)
        let compiled = try Fixtures.runsheet(["compile", "r.md"], directory: fixed)
        #expect(compiled.stdout.contains("\"interactive\" : true"), "\(compiled.stdout)")
    }

    /// A script of actions has no terminal to give: `run` on an interactive step is refused with
    /// one sentence, nothing is recorded or run, and the step stays open for `skip`.
    @Test func aScriptIsToldAnInteractiveCommandNeedsAPerson() throws {
        let dir = try Self.folder("""
            # T
            - [ ] Confirm by hand
              ```bash run interactive
              touch ran; read -p "Type yes: " a
              ```
            - [ ] After
            """)
        let result = try Fixtures.runsheet(["run", "r.md", "--runs-dir", "runs", "--as", "bob"], stdin: "run\nskip no terminal here\nquit\n", directory: dir)
        #expect(result.status == 3, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("✗ step 'confirm-by-hand' runs an interactive command, which needs a person at a terminal; nothing was run and the step is still open"), "\(result.stdout)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("ran").path))
        let events = try Self.events(dir)
        #expect(!events.contains { $0.type == .commandStarted || $0.type == .commandFinished })
        let state = RunState.fold(events)
        #expect(state.record("confirm-by-hand").status == .skipped)
        #expect(state.cursor == "after")
    }

    /// `--auto` stops at an interactive step as at a manual one: paused, exit 3, nothing run.
    @Test func autoPausesAtAnInteractiveCommand() throws {
        let dir = try Self.folder("""
            # T
            - [ ] First
              ```bash run
              echo first
              ```
            - [ ] Confirm by hand
              ```bash run interactive
              touch ran; read -p "Type yes: " a
              ```
            """)
        let result = try Fixtures.runsheet(["run", "r.md", "--runs-dir", "runs", "--auto"], directory: dir)
        #expect(result.status == 3, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("step 'confirm-by-hand' runs an interactive command, which needs a person at a terminal; --auto never runs it"), "\(result.stdout)")
        #expect(result.stdout.contains("paused; resume with: runsheet resume"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("ran").path))
        let events = try Self.events(dir)
        #expect(events.filter { $0.type == .commandStarted }.map(\.step) == ["first"])
        #expect(events.last?.type == .runPaused)
        #expect(RunState.fold(events).record("confirm-by-hand").status == .active)
    }

    /// A script's output says how each failed attempt ended and when the next one starts, for
    /// Retries ("attempt 1 of 3") and Poll ("check 1") alike.
    @Test func aScriptSaysHowEachAttemptEnded() throws {
        let dir = try Self.folder("""
            # T
            - [ ] Flaky
              - Retries: 2 every 1s
              - On failure: continue
              ```bash run
              exit 3
              ```
            - [ ] Wait for the marker
              - Poll: every 1s for 10s
              ```bash run
              [ -e marker ] || { touch marker; exit 1; }
              ```
            """)
        let result = try Fixtures.runsheet(["run", "r.md", "--runs-dir", "runs", "--as", "bob"], stdin: "run\nrun\n", directory: dir)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("✗ attempt 1 of 3: exit 3 · next in 1s"), "\(result.stdout)")
        #expect(result.stdout.contains("✗ attempt 2 of 3: exit 3 · next in 1s"), "\(result.stdout)")
        #expect(!result.stdout.contains("attempt 3 of 3: exit 3 · next"), "no next attempt after the last")
        #expect(result.stdout.contains("✗ check 1: exit 1 · next in 1s"), "\(result.stdout)")
        let events = try Self.events(dir)
        #expect(events.filter { $0.type == .commandFinished && $0.step == "flaky" }.map { $0.data["exit"] } == [.int(3), .int(3), .int(3)])
        #expect(events.filter { $0.type == .commandFinished && $0.step == "wait-for-the-marker" }.map { $0.data["exit"] } == [.int(1), .int(0)])
    }
}
