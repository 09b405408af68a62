import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Retries, polling, expected output and timeouts, walked in process (`InProcess`) with real shells.
@Suite struct CommandStepTests {
    static let fixture = Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/runbooks/health-checks.md").path

    @Test func retriesPollingAndTimeoutsDecideTheOutcome() throws {
        let runs = try Fixtures.temporaryDirectory()
        let started = Date()
        let result = try InProcess.runsheet(["run", Self.fixture, "--runs-dir", runs.path, "--param", "marker=m", "--auto"])
        #expect(result.status == 3, "\(result.stdout)\n\(result.stderr)")
        #expect(Date().timeIntervalSince(started) < 25, "the 30 s command must be killed by its 1 s timeout")
        let id = try #require(try FileManager.default.contentsOfDirectory(atPath: runs.path).first)
        let events = try JournalFile.read(at: runs.appendingPathComponent(id + "/journal.jsonl").path).events
        let state = RunState.fold(events)
        let flaky = state.record("flaky-command-succeeds-on-the-third-try")
        #expect(flaky.status == .done)
        #expect(flaky.commands.map(\.exitCode) == [1, 1, 0])
        #expect(flaky.commands.map(\.passed) == [false, false, true])
        let poll = state.record("poll-until-the-marker-appears")
        #expect(poll.status == .done)
        #expect(poll.commands.count == 3)
        #expect(poll.commands.last?.passed == true)
        let slow = state.record("slow-command-times-out")
        #expect(slow.status == .failed)
        #expect(slow.reason?.contains("timed out after 1s") == true)
        #expect(slow.commands.first?.timedOut == true)
        #expect(state.cursor == "last-step")
        #expect(result.stdout.contains("manual step 'last-step' needs a person"))
    }

    @Test func expectedOutputFillsInPlaceholders() throws {
        let dir = try Fixtures.temporaryDirectory()
        try """
            ---
            id: x
            params:
              word:
                default: "a.b"
            ---
            # X
            - [ ] says the word
              - Expect output: said {{word}}

              ```sh run
              echo "said $RUNSHEET_PARAM_word"
              ```
            - [ ] matches it as text, not as a pattern
              - Expect output: /^said {{word}}$/

              ```sh run
              echo "said axb"
              ```
            """.write(to: dir.appendingPathComponent("x.md"), atomically: true, encoding: .utf8)
        let runs = dir.appendingPathComponent("runs").path
        let result = try InProcess.runsheet(["run", dir.appendingPathComponent("x.md").path, "--runs-dir", runs, "--auto"])
        // Issue 15: a failed check without a failure branch waits for a person (exit 3), it no longer ends the run.
        #expect(result.status == 3, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("✗ command output does not match /^said a.b$/"), "a.b is escaped: axb must not match\n\(result.stdout)")
        let id = try #require(Fixtures.onlyRun(in: runs), "\(result.stderr)")
        let state = RunState.fold(try JournalFile.read(at: runs + "/" + id + "/journal.jsonl").events)
        #expect(state.record("says-the-word").status == .done)
        #expect(state.record("matches-it-as-text-not-as-a-pattern").failedCheck?.exitCode == 0)
    }

    /// Issue 15: a failure without a branch no longer ends the run by itself; the step waits for a
    /// person, who may fail it (the run ends failed) or abort.
    @Test func failureWithoutBranchWaitsForADecision() throws {
        let runs = try Fixtures.temporaryDirectory()
        let dir = try Fixtures.temporaryDirectory()
        let runbook = dir.appendingPathComponent("f.md")
        try "# F\n- [ ] breaks\n\n  ```sh run\n  exit 4\n  ```\n- [ ] never\n".write(to: runbook, atomically: true, encoding: .utf8)
        let result = try InProcess.runsheet(["run", runbook.path, "--runs-dir", runs.path, "--auto"])
        #expect(result.status == 3)
        #expect(result.stdout.contains("✗ command exited 4 (expected 0)"))
        #expect(result.stdout.contains("step 'breaks' failed its check; --auto never decides for a person"))
        let id = try #require(Fixtures.onlyRun(in: runs.path))
        let failed = try InProcess.runsheet(["resume", id, "--runs-dir", runs.path], stdin: "fail exit 4 is a real failure\n")
        #expect(failed.status == 1)
        #expect(failed.stdout.contains("failed: step 'breaks' failed: exit 4 is a real failure"), "\(failed.stdout)")
        let aborted = try InProcess.runsheet(["run", runbook.path, "--runs-dir", runs.path], stdin: "abort change window closed\n")
        #expect(aborted.status == 1)
        #expect(aborted.stdout.contains("aborted: change window closed"))
    }

    /// A step's commands run again (after back, goto or an interrupt) must not overwrite the
    /// output an earlier command.finished event names: each event's file keeps its own bytes.
    @Test func runningACommandAgainKeepsTheEarlierOutput() throws {
        let dir = try Fixtures.temporaryDirectory()
        let runbook = dir.appendingPathComponent("again.md")
        try "# Again\n- [ ] Stamp\n\n  ```bash run\n  echo \"run $(cat count 2>/dev/null || echo 0)\"; echo $(( $(cat count 2>/dev/null || echo 0) + 1 )) > count\n  ```\n- [ ] Last\n"
            .write(to: runbook, atomically: true, encoding: .utf8)
        let runs = dir.appendingPathComponent("runs").path
        let result = try InProcess.runsheet(["run", runbook.path, "--runs-dir", runs], stdin: "run\nback\nrun\nback\nrun\nquit\n")
        #expect(result.status == 3, "\(result.stdout)\n\(result.stderr)")
        let id = try #require(Fixtures.onlyRun(in: runs))
        let finished = try JournalFile.read(at: runs + "/" + id + "/journal.jsonl").events.filter { $0.type == .commandFinished }
        let files = finished.compactMap { $0.data["outputFile"]?.string }
        #expect(files.count == 3 && Set(files).count == 3, "\(files)")
        for (number, event) in finished.enumerated() {
            let file = runs + "/" + id + "/" + (event.data["outputFile"]?.string ?? "")
            let output = try String(contentsOfFile: file, encoding: .utf8)
            #expect(output == "run \(number)\n")
            #expect(event.data["outputSha256"]?.string == SHA256Hex.of(output))
        }
    }
}
