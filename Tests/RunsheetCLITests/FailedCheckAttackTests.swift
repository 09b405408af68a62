import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Issue 15, a second adversary round on "failures pause": ways an insider tried to get a run past
/// a failed check without a decision on record, each now refused.
@Suite struct FailedCheckAttackTests {
    /// A run of `FailedCheckTests.repository()` stopped at its failed check; the folder, the runs and the id.
    static func stoppedAtTheFailedCheck() throws -> (dir: URL, runs: URL, id: String) {
        let dir = try FailedCheckTests.repository()
        let runs = dir.appendingPathComponent("runs")
        let first = try Fixtures.runsheet(["run", dir.appendingPathComponent("fix.md").path, "--runs-dir", runs.path, "--as", "olly"], stdin: "run\n")
        #expect(first.status == 3, "\(first.stdout)\n\(first.stderr)")
        return (dir, runs, try #require(Fixtures.onlyRun(in: runs.path)))
    }

    static func journal(_ runs: URL, _ id: String) throws -> Data {
        try Data(contentsOf: runs.appendingPathComponent(id + "/journal.jsonl"))
    }

    /// `goto` onward, or `back` and then on, would leave the failed check open behind the run,
    /// which could then end "completed" with no decision recorded: both are refused, and nothing
    /// is written. The check still waits; its decision still works.
    @Test(arguments: ["goto deploy-the-release", "back", "goto check-the-release-is-staged"])
    func movingAwayFromAFailedCheckIsRefused(_ move: String) throws {
        let (dir, runs, id) = try Self.stoppedAtTheFailedCheck()
        defer { try? FileManager.default.removeItem(at: dir) }
        let before = try Self.journal(runs, id)
        let moved = try Fixtures.runsheet(["resume", id, "--runs-dir", runs.path, "--as", "olly"], stdin: move + "\nrun\nquit\n")
        #expect(moved.status == 3, "\(moved.stdout)\(moved.stderr)")
        let verb = move.split(separator: " ")[0]
        #expect(moved.stdout.contains("step 'check-the-release-is-staged' failed its check (command 1 exited 1) and waits for a decision; '\(verb)' does not leave it undecided"),
                "\(moved.stdout)")
        let events = try JournalFile.read(at: runs.appendingPathComponent(id + "/journal.jsonl").path).events
        #expect(!events.contains { $0.type == .cursorMoved }, "a move was recorded")
        let state = RunState.fold(events)
        #expect(state.record("check-the-release-is-staged").failedCheck != nil && state.outcome == nil)
        #expect(state.record("deploy-the-release").status == .pending)
        #expect(try Self.journal(runs, id).count > before.count, "the session's own events (resumed, the run again, paused) are there")
    }

    /// Renaming or deleting the failed step in the runbook, then resuming, would move the run on
    /// from a step nobody decided: resume refuses, exit 1, one sentence, and records nothing.
    @Test(arguments: ["rename", "delete"])
    func editingTheFailedStepAwayDoesNotMoveTheRunOn(_ edit: String) throws {
        let (dir, runs, id) = try Self.stoppedAtTheFailedCheck()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("fix.md")
        var text = try String(contentsOf: file, encoding: .utf8)
        if edit == "rename" {
            text = text.replacingOccurrences(of: "Check the release is staged", with: "Check the release is staged (v2)")
                .replacingOccurrences(of: "test -f staged", with: "true")
        } else {
            text = text.replacingOccurrences(of: "- [ ] Check the release is staged\n\n  ```sh run\n  test -f staged\n  ```\n", with: "")
        }
        try text.write(to: file, atomically: true, encoding: .utf8)
        let before = try Self.journal(runs, id)
        for auto in [false, true] {
            let resumed = try Fixtures.runsheet(["resume", id, "--runs-dir", runs.path, "--as", "olly"] + (auto ? ["--auto"] : []), stdin: "done\nquit\n")
            #expect(resumed.status == 1, "\(resumed.stdout)\(resumed.stderr)")
            #expect(resumed.stderr.contains("runsheet: run \(id) cannot go on: step 'check-the-release-is-staged' failed its check (command 1 exited 1) and waits for a decision, but the runbook no longer has it; nothing was recorded"),
                    "\(resumed.stderr)")
            #expect(try Self.journal(runs, id) == before, "resume wrote to the journal")
        }
    }

    /// A reason made only of characters drawn as nothing (zero-width space, soft hyphen, Braille
    /// blank, Hangul filler) says nothing: `done`, `skip`, `fail` and `abort` refuse it as empty.
    @Test(arguments: ["done \u{200B}", "skip \u{00AD}", "fail \u{2800}", "abort \u{3164}", "done \u{200B}\u{2060} \u{FEFF}"])
    func aReasonOfInvisibleCharactersIsNoReason(_ line: String) throws {
        let (dir, runs, id) = try Self.stoppedAtTheFailedCheck()
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try Fixtures.runsheet(["resume", id, "--runs-dir", runs.path, "--as", "olly"], stdin: line + "\nquit\n")
        #expect(result.status == 3, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("needs a reason") || result.stdout.contains("say why"), "\(result.stdout)")
        let state = RunState.fold(try JournalFile.read(at: runs.appendingPathComponent(id + "/journal.jsonl").path).events)
        #expect(state.record("check-the-release-is-staged").failedCheck != nil, "the check was decided with a blank reason")
        #expect(state.outcome == nil)
    }

    /// Second round: symbols drawn blank, private-use, noncharacter and replacement characters
    /// say nothing either; marks alone neither.
    @Test func blankIsWhatShowsNothing() {
        for blank in ["", " \t\n", "\u{200B}", "\u{00AD}\u{2800}", "\u{3164}\u{FEFF}", "\u{00A0}\u{3000}",
                      "\u{1D159}", "\u{1D15A}", "\u{E000}", "\u{10FFFF}", "\u{FFFC}", "\u{FFFD}", "\u{0301}"] {
            #expect(blank.isBlank, "\(blank.debugDescription)")
        }
        for text in ["a", "\u{200B}x", "—", "✓", "7", "é"] { #expect(!text.isBlank, "\(text.debugDescription)") }
        // A name or lock name padded with a blank look-alike is the same name.
        #expect(PersonName.same("prod\u{2800}", "prod") && PersonName.same("al\u{FFFC}ice", "Alice"))
    }

    /// Second round: a step done (or skipped) earlier, gone back to and run again, whose check now
    /// fails, waits for a decision like a first failure: goto does not leave it, the run does not
    /// complete, and status says so.
    @Test(arguments: ["run\nback\nrun\n", "run\ngoto health\nrun\n", "run\nback\nskip not today\ngoto health\nrun\n"])
    func aCheckThatFailsWhenRunAgainWaitsForADecision(_ walk: String) throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try """
            ---
            id: pass-then-fail
            ---
            # Pass then fail

            - [ ] Check health
              - Id: health

              ```bash run
              if [ -f "$RUNSHEET_RUN_DIR/marker" ]; then echo UNHEALTHY; exit 1; fi; touch "$RUNSHEET_RUN_DIR/marker"
              ```
            - [ ] Deploy
            - [ ] Finish
              - Id: finish
            """.write(to: dir.appendingPathComponent("pf.md"), atomically: true, encoding: .utf8)
        let runs = dir.appendingPathComponent("runs")
        let result = try Fixtures.runsheet(["run", dir.appendingPathComponent("pf.md").path, "--runs-dir", runs.path, "--as", "olly"],
                                           stdin: walk + "goto finish\ndone\nquit\n")
        #expect(result.status == 3, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("step 'health' failed its check (command 1 exited 1) and waits for a decision; 'goto' does not leave it undecided"),
                "\(result.stdout)")
        let id = try #require(Fixtures.onlyRun(in: runs.path))
        let state = RunState.fold(try JournalFile.read(at: runs.appendingPathComponent(id + "/journal.jsonl").path).events)
        #expect(state.outcome == nil && state.record("health").failedCheck != nil && state.cursor == "health")
        let status = try Fixtures.runsheet(["status", id, "--runs-dir", runs.path])
        #expect(status.stdout.contains("failed check, awaiting decision"), "\(status.stdout)")
    }

    /// Second round: a resume whose runbook lost the step the run stood on continues at the first
    /// step still open in the runbook's order, one reached but not settled included, never past it.
    @Test func aRemovedStepHandsOnToTheFirstStepStillOpen() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("four.md")
        let text = "---\nid: four\n---\n# Four\n\n- [ ] Check health\n- [ ] Deploy\n- [ ] Verify\n- [ ] Finish\n"
        try text.write(to: file, atomically: true, encoding: .utf8)
        let runs = dir.appendingPathComponent("runs")
        let first = try Fixtures.runsheet(["run", file.path, "--runs-dir", runs.path, "--as", "olly"], stdin: "done\nback\nquit\n")
        #expect(first.status == 3, "\(first.stdout)\(first.stderr)")
        let id = try #require(Fixtures.onlyRun(in: runs.path))
        try text.replacingOccurrences(of: "- [ ] Check health\n", with: "").write(to: file, atomically: true, encoding: .utf8)
        let resumed = try Fixtures.runsheet(["resume", id, "--runs-dir", runs.path, "--as", "olly"], stdin: "quit\n")
        #expect(resumed.status == 3, "\(resumed.stdout)\(resumed.stderr)")
        let state = RunState.fold(try JournalFile.read(at: runs.appendingPathComponent(id + "/journal.jsonl").path).events)
        #expect(state.cursor == "deploy", "the run passed over 'deploy', reached but never settled: \(resumed.stdout)")
    }
}
