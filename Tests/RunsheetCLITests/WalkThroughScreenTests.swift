import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// The full-screen walk-through in process: keys in, frames out, checked against expected frames
/// (Tests/Fixtures/expected/terminal; RUNSHEET_RECORD=1 re-records) and the journal. TerminalTests
/// drives the same screens through the real binary in tmux.
@Suite struct WalkThroughScreenTests {
    static let demo = Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/runbooks/run-demo.md").path

    /// The frames as one text, with what changes from run to run (the run id, the runs folder, the
    /// clocks) replaced by names.
    static func transcript(_ terminal: ScriptedTerminal, runs: URL) -> String {
        var text = terminal.frames.enumerated().map { "──── frame \($0.offset + 1) ────\n" + $0.element }.joined(separator: "\n")
        if let id = Fixtures.onlyRun(in: runs.path) {
            text = text.replacingOccurrences(of: id, with: "RUN-ID")
            // Where a narrow screen cut the id short (`change-20261203-18…`): the date and hour
            // in it would make the expected frames depend on when the test ran.
            for length in stride(from: id.count - 1, through: 8, by: -1) {
                text = text.replacingOccurrences(of: String(id.prefix(length)) + "…", with: "RUN-ID…")
            }
        }
        text = text.replacingOccurrences(of: runs.path, with: "RUNS")
        return text.replacingOccurrences(of: #"(elapsed|step|took:) \d\d:\d\d:\d\d"#, with: "$1 hh:mm:ss", options: .regularExpression)
    }

    static func events(in runs: URL) throws -> [RunEvent] {
        let id = try #require(Fixtures.onlyRun(in: runs.path))
        let events = try JournalFile.read(at: runs.appendingPathComponent(id + "/journal.jsonl").path).events
        try PayloadReading.expectAlike(events)
        return events
    }

    /// Every line of every frame fits the terminal (counted in characters: these runbooks have no wide ones).
    /// `paused`: the last frame is the run's summary (a finished run's too), printed after the
    /// screen, whose lines may wrap.
    /// `questions`: a line asking for typed text (`(Esc cancels):`) or a key (`[y/N]`) may be
    /// wider, as the terminal wraps it while the answer is typed.
    static func expectFits(_ terminal: ScriptedTerminal, paused: Bool = false, questions: Bool = false,
                           sourceLocation: SourceLocation = #_sourceLocation) {
        func isQuestion(_ line: Substring) -> Bool { questions && (line.contains("[y/N]") || line.contains("(Esc cancels):")) }
        for (number, frame) in terminal.frames.dropLast(paused ? 1 : 0).enumerated() {
            // The summary's commands are printed whole, for copying: the terminal wraps them.
            for line in frame.split(separator: "\n") where line.count > terminal.width && !line.hasPrefix("    runsheet ") && !isQuestion(line) {
                Issue.record("frame \(number + 1) has a line wider than \(terminal.width): \(line)", sourceLocation: sourceLocation)
            }
        }
    }

    /// Issue 15, item 7: the header shows the runbook's title with its placeholders filled in, a
    /// secret masked, never `{{target}}` raw.
    @Test func theHeaderFillsInTheTitlesPlaceholders() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try """
            ---
            id: title-values
            params:
              target: {}
              token: { secret: true }
            ---
            # Deploy {{target}} with {{token}}
            - [ ] Look
            """.write(to: dir.appendingPathComponent("t.md"), atomically: true, encoding: .utf8)
        let terminal = ScriptedTerminal(width: 90, [.press("q")])
        _ = try InProcess.walk(["run", dir.appendingPathComponent("t.md").path, "--runs-dir", dir.appendingPathComponent("runs").path,
                                "--as", "bob", "--param", "target=eu-west", "--param", "token=hunter2"], on: terminal)
        let first = try #require(terminal.frames.first)
        #expect(first.contains("Deploy eu-west with ••••"), "\(first)")
        #expect(!terminal.output.contains("{{target}}") && !terminal.output.contains("hunter2"), "\(terminal.output)")
    }

    @Test func keysDriveTheRunAndTheJournalRecordsThem() throws {
        let runs = try Fixtures.temporaryDirectory()
        let terminal = ScriptedTerminal(width: 90, [
            .press("d"), .press("r"), .press("y"), .press(" "), .press("s"), .text("done by hand"),
        ])
        let result = try InProcess.walk(["run", Self.demo, "--runs-dir", runs.path, "--as", "bob"], on: terminal)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        try Golden.check(Self.transcript(terminal, runs: runs), against: "terminal/keys-drive-the-run.txt")
        let first = try #require(terminal.frames.first)
        #expect(first.contains("▶ Read the notes") && first.contains("Run demo") && first.contains("0/4"))
        #expect(first.contains("[d]one  [r]un  [s]kip"))
        #expect(terminal.frames.contains { $0.contains("▶ Say hello") && $0.contains("$ echo hello world ••••") })
        #expect(terminal.frames.contains { $0.contains("│ hello world ••••") && $0.contains("press any key") })
        #expect(!terminal.output.contains("s3cr3t-value"))
        #expect(terminal.lastFrame.contains("completed"))
        Self.expectFits(terminal, paused: true)
        let events = try Self.events(in: runs)
        let state = RunState.fold(events)
        #expect(state.record("say-hello").status == .done)
        #expect(state.record("deploy-the-service").reason == "done by hand")
        // In process the test's own environment counts: under CI=true actions are recorded as from CI.
        let ci = ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty && $0 != "false" } ?? false
        #expect(events.allSatisfy { $0.actor == "bob" && $0.via == (ci ? "ci" : "terminal") })
    }

    @Test func backGotoFailHelpAndAbortThroughTheKeys() throws {
        let runs = try Fixtures.temporaryDirectory()
        let terminal = ScriptedTerminal([
            .press("?"), .press(" "), .press("b"),
            .press("g"), .text("deploy-the-service"), .press("b"),
            .press("g"), .text("no-such-step"),
            .press("g"), .text("deploy-the-service"),
            // Failing asks first; answering no records nothing.
            .press("f"), .text("health check red"), .press("n"),
            .press("f"), .text("health check red"), .press("y"),
            // Aborting asks for a reason (Escape cancels) and then for confirmation.
            .press("x"), .key(.escape),
            .press("x"), .text("not needed after all"), .press("n"),
            .press("x"), .text("not needed after all"), .press("y"),
        ])
        let result = try InProcess.walk(["run", Self.demo, "--runs-dir", runs.path, "--as", "dana"], on: terminal)
        #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
        #expect(terminal.unread == 0)
        try Golden.check(Self.transcript(terminal, runs: runs), against: "terminal/back-goto-fail-help-abort.txt")
        Self.expectFits(terminal, paused: true)

        let frames = terminal.frames
        let help = try #require(frames.dropFirst().first)
        #expect(help.contains("press any key"))
        for line in ["d done", "b back", "g goto ID", "f fail REASON", "x abort REASON", "? help", "q quit"] {
            #expect(help.contains(line), "the help lists '\(line)'")
        }
        #expect(frames.contains { $0.contains("▶ Read the notes") && $0.contains("this is the first step; there is nothing to go back to") })
        #expect(frames.contains { $0.contains("Go to step id (Esc cancels): deploy-the-service") })
        #expect(frames.contains { $0.contains("there is no step 'no-such-step'") })
        #expect(frames.contains { $0.contains("What failed (Esc cancels): health check red") && $0.contains("Mark this step failed and go on to Rollback: Roll back the service? [y/N]") })
        #expect(frames.contains { $0.contains("▶ Roll back the service") && $0.contains("(branch)") })
        #expect(frames.contains { $0.contains("Why abort the run (Esc cancels):") && $0.contains("End the whole run as aborted? It cannot be resumed. [y/N]") })
        #expect(terminal.lastFrame.contains("aborted: not needed after all"))

        let events = try Self.events(in: runs)
        let moves = events.filter { $0.type == .cursorMoved }.map { "\($0.data["reason"]?.string ?? "?") \($0.data["to"]?.string ?? "?")" }
        #expect(moves == ["goto deploy-the-service", "back say-hello", "goto deploy-the-service"])
        let failed = events.filter { $0.type == .stepFailed }
        #expect(failed.count == 1 && failed.first?.step == "deploy-the-service")
        #expect(failed.first?.data["reason"]?.string == "health check red")
        #expect(failed.first?.data["next"]?.string == "roll-back-the-service")
        #expect(events.contains { $0.type == .branchTaken && $0.data["to"]?.string == "roll-back-the-service" && $0.data["kind"]?.string == "failure" })
        #expect(events.filter { $0.type == .runEnded }.count == 1)
        let state = RunState.fold(events)
        #expect(state.outcome == .aborted && state.endReason == "not needed after all")
        #expect(state.record("deploy-the-service").status == .failed)
        #expect(state.record("say-hello").status == .active && state.record("read-the-notes").status == .active)
        // In process the test's own environment counts: under CI=true actions are recorded as from CI.
        let ci = ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty && $0 != "false" } ?? false
        #expect(events.allSatisfy { $0.actor == "dana" && $0.via == (ci ? "ci" : "terminal") })
    }

    /// Notes, lessons and added steps from the keys, and done on a step whose command has not
    /// passed, which asks first.
    @Test func noteLessonAddAndDoneAnyway() throws {
        let runs = try Fixtures.temporaryDirectory()
        let terminal = ScriptedTerminal([
            .press("d"),
            .press("d"), .press("n"),
            .press("n"), .text("checked by hand"),
            .press("l"), .text("say hello after the notes"),
            .press("a"), .text("Warm the cache"),
            .press("n"), .key(.escape),
            .press("d"), .press("y"),
            .press("z"),
            .press("q"),
        ])
        let result = try InProcess.walk(["run", Self.demo, "--runs-dir", runs.path, "--as", "erin"], on: terminal)
        #expect(result.status == 3, "\(result.stdout)\n\(result.stderr)")
        #expect(terminal.unread == 0)
        try Golden.check(Self.transcript(terminal, runs: runs), against: "terminal/note-lesson-add-done-anyway.txt")
        Self.expectFits(terminal, paused: true)
        let frames = terminal.frames
        #expect(frames.contains { $0.contains("This step's command has not been run. Mark it done anyway? [y/N]") })
        #expect(frames.contains { $0.contains("Noted.") && $0.contains("note (erin): checked by hand") })
        #expect(frames.contains { $0.contains("Lesson noted; 'runsheet update' proposes it for the runbook.") })
        #expect(frames.contains { $0.contains("Added step 'warm-the-cache' as done.") })
        #expect(frames.contains { $0.contains("▶ Deploy the service") && $0.contains("Unknown key. Press ? for help.") })
        let state = RunState.fold(try Self.events(in: runs))
        let hello = state.record("say-hello")
        #expect(hello.status == .done && hello.commands.isEmpty)
        #expect(hello.notes.map(\.text) == ["checked by hand", "say hello after the notes"])
        #expect(hello.notes.map(\.lesson) == [false, true])
        #expect(state.addedSteps.map(\.id) == ["warm-the-cache"] && state.addedSteps.first?.before == "say-hello")
        #expect(state.record("warm-the-cache").status == .done)
    }

    @Test func quitAndCtrlCKeepTheRunResumable() throws {
        for inputs: [ScriptedTerminal.Input] in [[.press("q")], [.key(.interrupt)]] {
            let runs = try Fixtures.temporaryDirectory()
            let terminal = ScriptedTerminal(inputs)
            let result = try InProcess.walk(["run", Self.demo, "--runs-dir", runs.path], on: terminal)
            #expect(result.status == 3)
            #expect(terminal.output.replacingOccurrences(of: "\n    ", with: " ").contains("paused; resume with: runsheet resume \(try #require(Fixtures.onlyRun(in: runs.path)))"))
            #expect(try Self.events(in: runs).last?.type == .runPaused)
        }
    }

    @Test func colourOnlyWhenTheTerminalTakesIt() throws {
        for colour in [true, false] {
            let runs = try Fixtures.temporaryDirectory()
            let terminal = ScriptedTerminal(colour: colour, [.press("q")])
            _ = try InProcess.walk(["run", Self.demo, "--runs-dir", runs.path], on: terminal)
            #expect(terminal.output.contains("\u{1B}[1m▶ Read the notes\u{1B}[0m") == colour)
            #expect(terminal.output.replacingOccurrences(of: "\u{1B}[H\u{1B}[2J", with: "").contains("\u{1B}[") == colour)
        }
    }

    @Test func gateScreenShowsSignaturesAndMovesOnByItself() throws {
        let dir = try TerminalTests.gateRepository()
        let runs = dir.appendingPathComponent("runs")
        @Sendable func sign(_ who: String) {
            let id = Fixtures.onlyRun(in: runs.path) ?? "?"
            let signed = try? Fixtures.runsheet(["sign", id, "approve-the-change", "--as", who, "--runs-dir", runs.path], directory: dir)
            #expect(signed?.status == 0, "\(signed?.stderr ?? "")")
        }
        let terminal = ScriptedTerminal([
            .press("d"), .idle,
            .act { sign("carol") }, .idle,
            // Pressing done early is refused with the reason, and nothing is recorded.
            .press("d"),
            .act { sign("dave") }, .act { sign("erin") }, .idle,
            .press("d"),
        ])
        let result = try InProcess.walk(["run", dir.appendingPathComponent("change.md").path, "--runs-dir", runs.path, "--as", "alice"], on: terminal)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        try Golden.check(Self.transcript(terminal, runs: runs), against: "terminal/gate-screen.txt")
        let frames = terminal.frames
        #expect(frames.contains { $0.contains("Gate: sign-off by 2 of sre and 1 of release-manager") && $0.contains("signed: nobody yet; needs 2 more of sre and 1 more of release-manager") && $0.contains("others sign with: runsheet sign") })
        #expect(frames.contains { $0.contains("signed: carol (sre); needs 1 more of sre and 1 more of release-manager") })
        #expect(frames.contains { $0.contains("this gate still needs 1 more of sre and 1 more of release-manager") })
        #expect(frames.contains { $0.contains("▶ Deploy") && $0.contains("Gate approved.") })
        let events = try Self.events(in: runs)
        let state = RunState.fold(events)
        #expect(state.outcome == .completed)
        #expect(state.record("approve-the-change").status == .done)
        #expect(state.record("approve-the-change").actor == "alice")
        #expect(events.filter { $0.type == .signOff }.map(\.actor) == ["carol", "dave", "erin"])
    }
}
