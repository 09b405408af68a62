import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Issue 15, "failures pause, the operator decides": a step whose commands fail, where the runbook
/// names no failure branch, stays open and the run with it; the operator sees the choices, each
/// saying where it leads, on the screen, in scripts, after `--auto` and at `resume`.
@Suite struct FailedCheckTests {
    /// A folder with `fix.md`: a check that passes once the file `staged` sits beside the runbook,
    /// then a deploy whose failure goes to a rollback section.
    static func repository() throws -> URL {
        let dir = try Fixtures.temporaryDirectory()
        try """
            ---
            id: fix-and-retry
            ---
            # Fix and retry

            ## Prepare

            - [ ] Check the release is staged

              ```sh run
              test -f staged
              ```
            - [ ] Deploy the release
              - On failure: [Rollback](#rollback)

              ```sh run
              test -f deployable
              ```

            ## Rollback

            - [ ] Restore the previous release
            """.write(to: dir.appendingPathComponent("fix.md"), atomically: true, encoding: .utf8)
        return dir
    }

    /// Text with its wrapped lines joined again: what a narrow screen says, whatever the width.
    static func flat(_ text: String) -> String {
        text.replacingOccurrences(of: #"\n\s*"#, with: " ", options: .regularExpression)
    }

    static func stage(_ dir: URL, _ name: String = "staged") {
        FileManager.default.createFile(atPath: dir.appendingPathComponent(name).path, contents: Data())
    }

    static func events(_ runs: URL) throws -> [RunEvent] {
        let id = try #require(Fixtures.onlyRun(in: runs.path))
        return try JournalFile.read(at: runs.appendingPathComponent(id + "/journal.jsonl").path).events
    }

    /// The frames with the run id, runs folder and clocks replaced by names, also where a narrow
    /// screen cut them short (`change-20261203-18…`, `step 0…`).
    static func transcript(_ terminal: ScriptedTerminal, runs: URL) -> String {
        WalkThroughScreenTests.transcript(terminal, runs: runs)
            .replacingOccurrences(of: #"(elapsed|step) [0-9:]+…"#, with: "$1 hh…", options: .regularExpression)
    }

    /// Every line of every frame fits the terminal, but for the questions the operator answers
    /// (`[y/N]`, `(Esc cancels):`), which the terminal wraps as they are typed.
    static func expectFits(_ terminal: ScriptedTerminal, paused: Bool = false, sourceLocation: SourceLocation = #_sourceLocation) {
        WalkThroughScreenTests.expectFits(terminal, paused: paused, questions: true, sourceLocation: sourceLocation)
    }

    // MARK: - The screen, in process, at 100, 60 and 40 columns

    /// The check fails, the decision shows under the command's output with where each choice
    /// leads; the operator makes the file, presses r, and the run goes on and completes at 2/2
    /// (the rollback step it never took is not counted).
    @Test(arguments: [100, 60, 40]) func aFailedCheckIsFixedAndRunAgain(width: Int) throws {
        let dir = try Self.repository()
        let runs = dir.appendingPathComponent("runs")
        let terminal = ScriptedTerminal(width: width, [
            .press("r"), .press("y"),
            // Under the output: the decision. The operator fixes the cause and presses r there.
            .act { Self.stage(dir) }, .press("r"), .press("y"), .press(" "),
            .act { Self.stage(dir, "deployable") }, .press("r"), .press("y"), .press(" "),
        ])
        let result = try InProcess.walk(["run", dir.appendingPathComponent("fix.md").path, "--runs-dir", runs.path, "--as", "olly"], on: terminal)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(terminal.unread == 0)
        try Golden.check(Self.transcript(terminal, runs: runs), against: "terminal/failed-check-fixed-\(width).txt")
        Self.expectFits(terminal)
        let output = terminal.output
        #expect(output.contains("✗ command exited 1 (expected 0)"))
        #expect(output.contains("  the step stays open; decide:\n    [r] run it again"))
        #expect(terminal.frames.contains { $0.contains("✗ command 1 exited 1;") && $0.contains("decide:") && $0.contains("[f] fail: ends the run as failed") })
        #expect(Self.flat(output).contains("press r, s, d, f or x; any other key shows the step"))
        #expect(terminal.lastFrame.contains("2/2") && terminal.lastFrame.contains("completed"), "\(terminal.lastFrame)")
        if width == 100 {
            #expect(output.contains("[r] run it again → Deploy the release if it passes"))
            #expect(output.contains("[s] skip → Deploy the release"))
            #expect(output.contains("[d] done anyway (forced) → Deploy the release"))
            #expect(output.contains("[f] fail: ends the run as failed"))
            #expect(output.contains("[x] abort: ends the run as aborted"))
        }
        let events = try Self.events(runs)
        let check = events.filter { $0.step == "check-the-release-is-staged" }
        #expect(check.filter { $0.type == .commandFinished }.map { $0.data["passed"]?.bool } == [false, true])
        #expect(!check.contains { $0.type == .stepFailed })
        let state = RunState.fold(events)
        #expect(state.outcome == .completed)
        #expect(state.record("check-the-release-is-staged").status == .done)
        #expect(!state.record("check-the-release-is-staged").forced)
    }

    /// A failure branch is followed by itself, and the screen says where the run went.
    @Test(arguments: [100, 60, 40]) func aFailureBranchIsFollowedAndNamed(width: Int) throws {
        let dir = try Self.repository()
        Self.stage(dir)
        let runs = dir.appendingPathComponent("runs")
        let terminal = ScriptedTerminal(width: width, [
            .press("r"), .press("y"), .press(" "),
            .press("r"), .press("y"), .press(" "),
            .press("f"), .text("restore skipped for the test"), .press("n"),
            .press("q"),
        ])
        let result = try InProcess.walk(["run", dir.appendingPathComponent("fix.md").path, "--runs-dir", runs.path, "--as", "olly"], on: terminal)
        #expect(result.status == 3, "\(result.stdout)\n\(result.stderr)")
        try Golden.check(Self.transcript(terminal, runs: runs), against: "terminal/failure-branch-named-\(width).txt")
        Self.expectFits(terminal, paused: true)
        #expect(Self.flat(terminal.output).contains("→ On failure: Rollback: Restore the previous release"))
        #expect(terminal.frames.contains { Self.flat($0).contains("Mark this step failed? It ends the run as failed. [y/N]") })
        #expect(terminal.frames.contains { $0.contains("▶ Restore the previous release") && $0.contains("(branch)") })
        let state = RunState.fold(try Self.events(runs))
        #expect(state.record("deploy-the-release").status == .failed)
        #expect(state.cursor == "restore-the-previous-release" && state.outcome == nil)
    }

    /// `resume` of a run paused at a failed check lands on the decision, at every width.
    @Test(arguments: [100, 60, 40]) func resumeLandsOnTheDecision(width: Int) throws {
        let dir = try Self.repository()
        let runs = dir.appendingPathComponent("runs")
        let first = try InProcess.runsheet(["run", dir.appendingPathComponent("fix.md").path, "--runs-dir", runs.path, "--as", "olly"], stdin: "run\n")
        #expect(first.status == 3, "\(first.stdout)\n\(first.stderr)")
        let id = try #require(Fixtures.onlyRun(in: runs.path))
        let terminal = ScriptedTerminal(width: width, [.press("f"), .text("staging is broken"), .press("n"), .press("q")])
        let result = try InProcess.walk(["resume", id, "--runs-dir", runs.path, "--as", "olly"], on: terminal)
        #expect(result.status == 3, "\(result.stdout)\n\(result.stderr)")
        try Golden.check(Self.transcript(terminal, runs: runs), against: "terminal/resume-at-failed-check-\(width).txt")
        Self.expectFits(terminal, paused: true)
        let screen = try #require(terminal.frames.first)
        #expect(screen.contains("▶ Check the release is staged"))
        #expect(screen.contains("✗ command 1 exited 1;") && screen.contains("decide:"))
        #expect(screen.contains("[r] run it again"))
        #expect(terminal.frames.contains { Self.flat($0).contains("Mark this step failed? It ends the run as failed. [y/N]") })
        // Nothing ran again on its own, and nothing settled the step.
        let events = try Self.events(runs)
        #expect(events.filter { $0.type == .commandFinished }.count == 1)
        #expect(!events.contains { $0.type == .stepFailed || $0.type == .runEnded })
    }

    // MARK: - Scripts: the same choices as words

    @Test func scriptedModePrintsWhereEachChoiceLeads() throws {
        let dir = try Self.repository()
        let runs = dir.appendingPathComponent("runs")
        let result = try InProcess.runsheet(["run", dir.appendingPathComponent("fix.md").path, "--runs-dir", runs.path, "--as", "olly"], stdin: "run\n")
        #expect(result.status == 3, "\(result.stdout)\n\(result.stderr)")
        let out = result.stdout
        #expect(out.contains("✗ command exited 1 (expected 0)"), "\(out)")
        #expect(out.contains("✗ command 1 exited 1; the step stays open"), "\(out)")
        #expect(out.contains("run" + String(repeating: " ", count: 11) + "run it again → Deploy the release if it passes"), "\(out)")
        #expect(out.contains("skip REASON   → Deploy the release"), "\(out)")
        #expect(out.contains("done REASON   recorded as forced → Deploy the release"), "\(out)")
        #expect(out.contains("fail REASON   ends the run as failed"), "\(out)")
        #expect(out.contains("abort REASON  ends the run as aborted"), "\(out)")
        #expect(out.contains("paused; resume with: runsheet resume"))
        let events = try Self.events(runs)
        #expect(events.last?.type == .runPaused)
        #expect(RunState.fold(events).record("check-the-release-is-staged").failedCheck?.exitCode == 1)
    }

    /// Each of the five words at a failed check, through the binary, and what the journal holds.
    @Test(arguments: ["run", "skip not needed today", "done checked by hand", "fail staging is broken", "abort wrong release"])
    func eachWordDecides(_ line: String) throws {
        let dir = try Self.repository()
        let runs = dir.appendingPathComponent("runs")
        let runbook = dir.appendingPathComponent("fix.md").path
        let first = try Fixtures.runsheet(["run", runbook, "--runs-dir", runs.path, "--as", "olly"], stdin: "run\n")
        #expect(first.status == 3, "\(first.stdout)\n\(first.stderr)")
        let id = try #require(Fixtures.onlyRun(in: runs.path))
        if line == "run" { Self.stage(dir) }
        let result = try Fixtures.runsheet(["resume", id, "--runs-dir", runs.path, "--as", "olly"], stdin: line + "\nquit\n")
        let state = RunState.fold(try Self.events(runs))
        let check = state.record("check-the-release-is-staged")
        // The resumed session shows the decision before reading the word.
        #expect(result.stdout.contains("✗ command 1 exited 1; the step stays open"), "\(result.stdout)")
        switch line.split(separator: " ").first {
        case "run":
            #expect(result.status == 3)
            #expect(result.stdout.contains("✓ commands passed"))
            #expect(check.status == .done && check.commands.map(\.passed) == [false, true])
            #expect(state.cursor == "deploy-the-release")
        case "skip":
            #expect(result.status == 3)
            #expect(check.status == .skipped && check.reason == "not needed today")
            #expect(state.cursor == "deploy-the-release")
        case "done":
            #expect(result.status == 3)
            #expect(check.status == .done && check.forced && check.overrode == [1])
            #expect(state.cursor == "deploy-the-release")
        case "fail":
            #expect(result.status == 1)
            #expect(result.stdout.contains("failed: step 'check-the-release-is-staged' failed: staging is broken"), "\(result.stdout)")
            #expect(check.status == .failed && state.outcome == .failed)
        default:
            #expect(result.status == 1)
            #expect(result.stdout.contains("aborted: wrong release"))
            #expect(state.outcome == .aborted && check.status == .active)
        }
    }

    // MARK: - --auto

    /// `--auto` pauses at a failed check (exit 3), names the decision, and does not decide on
    /// `resume --auto` either; after a person runs it again, `--auto` goes on.
    @Test func autoPausesAtAFailedCheck() throws {
        let dir = try Self.repository()
        let runs = dir.appendingPathComponent("runs")
        let runbook = dir.appendingPathComponent("fix.md").path
        let auto = try Fixtures.runsheet(["run", runbook, "--runs-dir", runs.path, "--as", "olly", "--auto"])
        #expect(auto.status == 3, "\(auto.stdout)\n\(auto.stderr)")
        #expect(auto.stdout.contains("step 'check-the-release-is-staged' failed its check; --auto never decides for a person"), "\(auto.stdout)")
        #expect(auto.stdout.contains("fail REASON   ends the run as failed"), "\(auto.stdout)")
        let id = try #require(Fixtures.onlyRun(in: runs.path))
        #expect(auto.stdout.contains("paused; resume with: runsheet resume \(id)"))
        var events = try Self.events(runs)
        #expect(events.last?.type == .runPaused)
        #expect(events.filter { $0.type == .commandFinished }.map { $0.data["passed"]?.bool } == [false])
        #expect(!events.contains { $0.type == .stepFailed || $0.type == .runEnded })
        // The journal format is unchanged: no new event type records the pause.
        #expect(Set(events.map(\.type)).isSubset(of: [.runStarted, .stepStarted, .commandStarted, .commandFinished, .runPaused]))

        let again = try Fixtures.runsheet(["resume", id, "--runs-dir", runs.path, "--as", "olly", "--auto"])
        #expect(again.status == 3, "\(again.stdout)\n\(again.stderr)")
        #expect(again.stdout.contains("--auto never decides for a person"))
        events = try Self.events(runs)
        #expect(events.filter { $0.type == .commandFinished }.count == 1, "resume --auto must not run the failed check again by itself")

        let status = try Fixtures.runsheet(["status", id, "--runs-dir", runs.path])
        #expect(status.stdout.contains("✗ check-the-release-is-staged  failed check, awaiting decision: command 1 exited 1"), "\(status.stdout)")
        let report = try Fixtures.runsheet(["report", id, "--runs-dir", runs.path, "--format", "json"])
        #expect(report.stdout.contains("\"awaitingDecision\" : \"failed check, awaiting decision: command 1 exited 1\""), "\(report.stdout)")
        let junit = try Fixtures.runsheet(["report", id, "--runs-dir", runs.path, "--format", "junit"])
        #expect(junit.stdout.contains("<system-err>failed check, awaiting decision: command 1 exited 1</system-err>"), "\(junit.stdout)")
        let markdown = try Fixtures.runsheet(["report", id, "--runs-dir", runs.path, "--format", "md"])
        #expect(markdown.stdout.contains("failed check, awaiting decision: command 1 exited 1"), "\(markdown.stdout)")

        Self.stage(dir)
        Self.stage(dir, "deployable")
        let fixed = try Fixtures.runsheet(["resume", id, "--runs-dir", runs.path, "--as", "olly"], stdin: "run\nrun\n")
        #expect(fixed.status == 0, "\(fixed.stdout)\n\(fixed.stderr)")
        #expect(RunState.fold(try Self.events(runs)).outcome == .completed)
    }

    /// A failed check under `On failure: continue` or a branch is still followed by itself.
    @Test func continueAndBranchesAreFollowedByThemselves() throws {
        let dir = try Self.repository()
        let runs = dir.appendingPathComponent("runs")
        Self.stage(dir)
        let auto = try Fixtures.runsheet(["run", dir.appendingPathComponent("fix.md").path, "--runs-dir", runs.path, "--as", "olly", "--auto"])
        #expect(auto.status == 3, "\(auto.stdout)\n\(auto.stderr)")
        #expect(auto.stdout.contains("→ On failure: Rollback: Restore the previous release"), "\(auto.stdout)")
        #expect(auto.stdout.contains("manual step 'restore-the-previous-release' needs a person"))
        let state = RunState.fold(try Self.events(runs))
        #expect(state.record("deploy-the-release").status == .failed)

        // Under `On failure: continue` the run goes on, and says so.
        let other = try Fixtures.temporaryDirectory()
        try "# C\n- [ ] Warm the cache\n  - On failure: continue\n\n  ```sh run\n  exit 3\n  ```\n- [ ] Tell the team\n"
            .write(to: other.appendingPathComponent("c.md"), atomically: true, encoding: .utf8)
        let continued = try InProcess.runsheet(["run", other.appendingPathComponent("c.md").path, "--runs-dir", other.appendingPathComponent("runs").path, "--auto"])
        #expect(continued.status == 3, "\(continued.stdout)\n\(continued.stderr)")
        #expect(continued.stdout.contains("→ On failure: continue, on to Tell the team"), "\(continued.stdout)")
        #expect(continued.stdout.contains("manual step 'tell-the-team' needs a person"))
        let afterContinue = RunState.fold(try Self.events(other.appendingPathComponent("runs")))
        #expect(afterContinue.record("warm-the-cache").status == .failed && afterContinue.cursor == "tell-the-team")
    }
}
