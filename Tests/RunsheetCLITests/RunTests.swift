import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Scripted runs, actions one per line, walked in process (`InProcess`): assertions on what they
/// print and on the journal. `actionsAfterQuitAreLeftUnread` and `verify` go through the binary.
@Suite struct RunTests {
    static let fixture = Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/runbooks/run-demo.md").path

    func journal(_ runs: URL) throws -> (URL, [RunEvent]) {
        let ids = try FileManager.default.contentsOfDirectory(atPath: runs.path)
        #expect(ids.count == 1, "a run leaves exactly its own folder: \(ids)")
        let directory = runs.appendingPathComponent(ids[0])
        let events = try JournalFile.read(at: directory.appendingPathComponent("journal.jsonl").path, repair: false).events
        try PayloadReading.expectAlike(events)
        return (directory, events)
    }

    @Test func happyPathCompletesAndRecordsEverything() throws {
        let runs = try Fixtures.temporaryDirectory()
        let result = try InProcess.runsheet(["run", Self.fixture, "--runs-dir", runs.path, "--as", "alice@example.com"],
                                            stdin: "done\nrun\nnote all good\nrun\n")
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("hello world ••••"))
        #expect(!result.stdout.contains("s3cr3t-value"))
        #expect(result.stdout.contains("completed"))
        let (directory, events) = try journal(runs)
        #expect(events.map(\.type) == [
            .runStarted, .stepStarted, .stepCompleted, .stepStarted, .commandStarted, .commandFinished, .stepCompleted,
            .stepStarted, .note, .commandStarted, .commandFinished, .stepCompleted, .stepSkipped, .runEnded,
        ])
        // Under CI (CI=true in the environment) the run is recorded as driven by CI.
        let ci = ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty && $0 != "false" } ?? false
        #expect(events.allSatisfy { $0.actor == "alice@example.com" && $0.via == (ci ? "ci" : "script") })
        let state = RunState.fold(events)
        #expect(state.outcome == .completed)
        #expect(state.record("only-in-emergencies").automatic)
        #expect(state.params["token"] == "••••" && state.params["target"] == "world")
        let raw = try String(contentsOf: directory.appendingPathComponent("journal.jsonl"), encoding: .utf8)
        #expect(!raw.contains("s3cr3t-value"))
        let output = try String(contentsOf: directory.appendingPathComponent("output/say-hello-1-1.log"), encoding: .utf8)
        #expect(output == "hello world ••••\n")
        #expect(events[5].data["outputSha256"]?.string == SHA256Hex.of(output))
        let verify = try Fixtures.runsheet(["verify", directory.path])
        #expect(verify.status == 0, "\(verify.stdout)")
    }

    /// Events cut from the end leave a valid chain; the head hash kept from an earlier verify catches it.
    @Test func headFromAnEarlierVerifyCatchesEventsRemovedFromTheEnd() throws {
        let runs = try Fixtures.temporaryDirectory()
        _ = try InProcess.runsheet(["run", Self.fixture, "--runs-dir", runs.path], stdin: "done\nrun\nnote all good\nrun\n")
        let (directory, events) = try journal(runs)
        let first = try Fixtures.runsheet(["verify", directory.path])
        let head = try #require(first.stdout.split(separator: "\n").first?.split(separator: " ").last.map(String.init))
        #expect(head == events.last!.hash)
        #expect(try Fixtures.runsheet(["verify", directory.path, "--head", head]).status == 0)
        #expect(try Fixtures.runsheet(["verify", directory.path, "--head", head.uppercased()]).status == 0)
        #expect(try Fixtures.runsheet(["verify", directory.path, "--head", events[3].hash]).status == 1, "only the last event's hash is the head")
        #expect(try Fixtures.runsheet(["verify", directory.path, "--contains", events[3].hash.uppercased()]).status == 0)

        // Cut the last two events: the chain alone still verifies, the kept head does not.
        let path = directory.appendingPathComponent("journal.jsonl")
        let lines = try String(contentsOf: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        try (lines.dropLast(3).joined(separator: "\n") + "\n").write(to: path, atomically: true, encoding: .utf8)
        #expect(try Fixtures.runsheet(["verify", directory.path]).status == 0)
        let cut = try Fixtures.runsheet(["verify", directory.path, "--head", head])
        #expect(cut.status == 1)
        #expect(cut.stdout.contains("it ends at event \(events.count - 2) with head \(events[events.count - 3].hash), not at the head \(head) given; no event of the chain has that hash"), "\(cut.stdout)")

        let bad = try Fixtures.runsheet(["verify", directory.path, "--head", "xyz"])
        #expect(bad.status == 2 && bad.stderr.contains("--head takes a whole SHA-256 hash, 64 hex digits"), "\(bad.stderr)")
    }

    @Test func failureBranchesToRollback() throws {
        let runs = try Fixtures.temporaryDirectory()
        let result = try InProcess.runsheet(["run", Self.fixture, "--runs-dir", runs.path, "--param", "target=fail"],
                                            stdin: "done\nrun\nrun\ndone\n")
        #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("rolled-back"))
        let (_, events) = try journal(runs)
        let state = RunState.fold(events)
        #expect(state.outcome == .rolledBack)
        #expect(state.record("deploy-the-service").status == .failed)
        #expect(state.record("roll-back-the-service").status == .done)
        #expect(events.contains { $0.type == .branchTaken && $0.data["to"]?.string == "roll-back-the-service" })
    }

    @Test func quitThenResumeContinuesWhereItStopped() throws {
        let runs = try Fixtures.temporaryDirectory()
        let first = try InProcess.runsheet(["run", Self.fixture, "--runs-dir", runs.path], stdin: "done\nquit\n")
        #expect(first.status == 3)
        let (directory, _) = try journal(runs)
        let id = directory.lastPathComponent
        #expect(first.stdout.contains("resume with: runsheet resume \(id)"))
        let status = try Fixtures.runsheet(["status", id, "--runs-dir", runs.path])
        #expect(status.stdout.contains("at       say-hello"))
        let second = try InProcess.runsheet(["resume", String(id.prefix(id.count - 2)), "--runs-dir", runs.path], stdin: "run\nrun\n")
        #expect(second.status == 0, "\(second.stdout)\n\(second.stderr)")
        #expect(second.stdout.contains("▶ [1/4] say-hello"))
        let state = RunState.fold(try journal(runs).1)
        #expect(state.outcome == .completed)
        #expect(state.record("read-the-notes").status == .done)
    }

    /// Issue 15, item 7: `goto` with a step id a typo away names the step meant; one far from every
    /// id says where the ids are listed. Neither moves the run.
    @Test func gotoATypoSuggestsTheStep() throws {
        let runs = try Fixtures.temporaryDirectory()
        let result = try Fixtures.runsheet(["run", Self.fixture, "--runs-dir", runs.path, "--as", "alice"],
                                           stdin: "goto say-helo\ngoto zzz\nquit\n")
        #expect(result.status == 3, "\(result.stdout)\(result.stderr)")
        let output = result.stdout + result.stderr
        #expect(output.contains("there is no step 'say-helo' in this runbook; did you mean 'say-hello'?"), "\(output)")
        #expect(output.contains("there is no step 'zzz' in this runbook; 'runsheet compile' or '--dry-run' lists every step id"), "\(output)")
        let (_, events) = try journal(runs)
        #expect(!events.contains { $0.type == .cursorMoved })
    }

    /// Issue 15, item 7: a step's "Took" is the time spent on it, not the time since it was first
    /// shown. The operator looks at `first` (goto), goes back to `slow` and spends two seconds on
    /// it, then marks `first` done at once: `first` took about nothing, `slow` about two seconds,
    /// and the timeline draws `first` from when the operator came back to it, after `slow`.
    @Test func aStepTookTheTimeSpentOnItNotTheTimeSinceItWasFirstShown() throws {
        let dir = try Fixtures.temporaryDirectory()
        let runbook = dir.appendingPathComponent("visits.md")
        try """
            ---
            id: visits
            ---
            # Visits

            - [ ] Slow
              ```bash run
              sleep 2
              ```
            - [ ] First
            - [ ] Last
            """.write(to: runbook, atomically: true, encoding: .utf8)
        let runs = dir.appendingPathComponent("runs")
        let result = try Fixtures.runsheet(["run", runbook.path, "--runs-dir", runs.path, "--as", "alice"],
                                           stdin: "goto first\ngoto slow\nrun\ndone\nquit\n")
        #expect(result.status == 3, "\(result.stdout)\(result.stderr)")
        let id = try #require(Fixtures.onlyRun(in: runs.path))
        let report = try Fixtures.runsheet(["report", id, "--runs-dir", runs.path, "--format", "json"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])
        let steps = try #require(json["steps"] as? [[String: Any]])
        let first = try #require(steps.first { $0["id"] as? String == "first" })
        let slow = try #require(steps.first { $0["id"] as? String == "slow" })
        #expect(first["status"] as? String == "done" && slow["status"] as? String == "done", "\(steps)")
        #expect((first["durationSeconds"] as? Int) == 0, "first was done as soon as it was come back to: \(first)")
        #expect(((slow["durationSeconds"] as? Int) ?? 0) >= 2, "\(slow)")
        // The first visit is still on record; the timeline draws the visit that settled the step.
        let firstStarted = try #require(first["startedAt"] as? String), firstVisited = try #require(first["visitedAt"] as? String)
        let slowEnded = try #require(slow["endedAt"] as? String)
        #expect(firstStarted < slowEnded && firstVisited >= slowEnded, "\(first) \(slow)")
        let markdown = try Fixtures.runsheet(["report", id, "--runs-dir", runs.path])
        let gantt = markdown.stdout.components(separatedBy: "\n").filter { $0.contains(":done, s") }
        #expect(gantt.firstIndex { $0.contains("Slow") }! < gantt.firstIndex { $0.contains("First") }!, "\(gantt)")
    }

    /// Issue 15, item 7: a second `run` of a runbook that has a run still open says so, names it
    /// and how to continue it; an ended run is not mentioned.
    @Test func aSecondRunOfARunbookInProgressSaysSo() throws {
        let runs = try Fixtures.temporaryDirectory()
        let arguments = ["run", Self.fixture, "--runs-dir", runs.path, "--as", "alice"]
        let first = try Fixtures.runsheet(arguments, stdin: "done\nquit\n")
        #expect(first.status == 3)
        #expect(!first.stderr.contains("still open"))
        let (directory, _) = try journal(runs)
        let id = directory.lastPathComponent
        let second = try Fixtures.runsheet(arguments, stdin: "abort started twice by mistake\n")
        #expect(second.stderr.contains("runsheet: run \(id) of this runbook is still open (at step 'say-hello', started "), "\(second.stderr)")
        #expect(second.stderr.contains("by alice); this starts another one. 'runsheet resume \(id)' continues it"), "\(second.stderr)")
        let third = try Fixtures.runsheet(arguments, stdin: "quit\n")
        #expect(third.stderr.components(separatedBy: "still open").count == 2, "only the open run, not the aborted one: \(third.stderr)")
    }

    /// A script that feeds more actions than the run takes: the run stops at `quit`, acts on
    /// nothing after it, and the writer gets a broken pipe, not a signal that kills it.
    @Test func actionsAfterQuitAreLeftUnread() throws {
        let runs = try Fixtures.temporaryDirectory()
        let surplus = String(repeating: "note should never be recorded\n", count: 40_000)
        let result = try Fixtures.runsheet(["run", Self.fixture, "--runs-dir", runs.path], stdin: "done\nquit\n" + surplus)
        #expect(result.status == 3, "\(result.stdout)\n\(result.stderr)")
        let events = try journal(runs).1
        #expect(!events.contains { $0.type == .note })
        #expect(RunState.fold(events).record("read-the-notes").status == .done)
    }

    @Test func resumeReportsRunbookChanges() throws {
        let runs = try Fixtures.temporaryDirectory()
        let dir = try Fixtures.temporaryDirectory()
        let copy = dir.appendingPathComponent("r.md")
        try "# R\n- [ ] one\n- [ ] two\n- [ ] three\n- [ ] five\n".write(to: copy, atomically: true, encoding: .utf8)
        _ = try InProcess.runsheet(["run", copy.path, "--runs-dir", runs.path], stdin: "done\nquit\n")
        // `two` is renamed (a new id), `three` keeps its id but gains a command, `five` goes, `four` comes.
        try "# R\n- [ ] one\n- [ ] two, edited\n- [ ] three\n\n  ```bash run\n  echo three\n  ```\n- [ ] four\n"
            .write(to: copy, atomically: true, encoding: .utf8)
        let id = try journal(runs).0.lastPathComponent
        let resumed = try InProcess.runsheet(["resume", id, "--runs-dir", runs.path], stdin: "quit\n")
        #expect(resumed.stderr.contains("changed since this run started"))
        #expect(resumed.stderr.contains("added:   two-edited, four\n"), "\(resumed.stderr)")
        #expect(resumed.stderr.contains("removed: five, two\n"))
        #expect(resumed.stderr.contains("changed: three\n"))
        let changes = try #require(try journal(runs).1.first { $0.type == .runResumed }?.data["changes"])
        #expect(changes == .object(["added": .array(["two-edited", "four"]), "removed": .array(["five", "two"]), "changed": .array(["three"])]))
    }

    @Test func hostileParameterValuesAreData() throws {
        let runs = try Fixtures.temporaryDirectory()
        let marker = Fixtures.temporaryFile("pwned")
        let quoting = Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/runbooks/quoting-demo.md").path
        let values = ["x; touch \(marker)", "$(touch \(marker))", "`touch \(marker)`", "' ; touch \(marker); '",
                      "\" ; touch \(marker); \"", "EOF\ntouch \(marker)", "\\", "*"]
        for value in values {
            let result = try InProcess.runsheet(["run", Self.fixture, "--runs-dir", runs.path, "--param", "target=\(value)"],
                                                stdin: "done\nrun\nquit\n")
            #expect(result.status == 3)
            // The screen frames each further line of output.
            if !value.contains("\n") { #expect(result.stdout.contains("hello \(value) ••••"), "\(result.stdout)") }
            #expect(!FileManager.default.fileExists(atPath: marker))

            // Bare, in double and single quotes, in here-documents and in $(...); the captured output is exactly the value.
            let quotingRuns = try Fixtures.temporaryDirectory()
            let quoted = try InProcess.runsheet(["run", quoting, "--runs-dir", quotingRuns.path, "--param", "target=\(value)"], stdin: "run\n")
            #expect(quoted.status == 0, "\(quoted.stdout)\n\(quoted.stderr)")
            #expect(!FileManager.default.fileExists(atPath: marker), "\(value.debugDescription) ran")
            let (directory, _) = try journal(quotingRuns)
            let output = try String(contentsOf: directory.appendingPathComponent("output/greet-in-every-quoting-style-1-1.log"), encoding: .utf8)
            // A quoted here-document cannot expand a value of several lines: the reference stays as text.
            let oneLine = value.contains("\n") ? "${RUNSHEET_PARAM_target}" : value
            #expect(output == """
                bare: \(value)
                double: hello \(value) ••••
                single: hello \(value)
                heredoc: hello \(value)
                quoted heredoc: hello \(oneLine)
                substitution: \(value)
                class: normal
                environment: \(value)

                """, "\(value.debugDescription)")
            #expect(!quoted.stdout.contains("s3cr3t-value"))
        }
    }

    @Test func dryRunShowsThePlanAndRunsNothing() throws {
        let runs = try Fixtures.temporaryDirectory()
        let result = try Fixtures.runsheet(["run", Self.fixture, "--dry-run", "--runs-dir", runs.path, "--param", "target=eu"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("$ echo hello eu ••••"), "\(result.stdout)")
        #expect(result.stdout.contains("(when class is emergency: no, will be skipped)"))
        #expect(result.stdout.contains("on failure → roll-back-the-service"))
        #expect((try FileManager.default.contentsOfDirectory(atPath: runs.path)).isEmpty)
        let bundled = Fixtures.packageRoot.appendingPathComponent("runbooks/blue-green-deploy.md").path
        let partial = try Fixtures.runsheet(["run", bundled, "--dry-run", "--param", "version=1.4.2"])
        #expect(partial.status == 0, "\(partial.stderr)")
        #expect(partial.stdout.contains("missing for a real run: notify_token"))
        // Titles are resolved like commands: values filled in, secrets masked.
        let titled = runs.appendingPathComponent("titled.md")
        try """
            ---
            params:
              target: {}
              token: {secret: true}
            ---
            # Greet

            - [ ] Greet {{target}} with {{token}}

            """.write(to: titled, atomically: true, encoding: .utf8)
        let plan = try Fixtures.runsheet(["run", titled.path, "--dry-run", "--param", "target=eu", "--param", "token=t0ps3cret"])
        #expect(plan.status == 0, "\(plan.stderr)")
        #expect(plan.stdout.contains("] Greet eu with ••••\n"), "\(plan.stdout)")
        #expect(!plan.stdout.contains("t0ps3cret"))
    }

    @Test func autoRunsCommandsAndStopsAtManualSteps() throws {
        let runs = try Fixtures.temporaryDirectory()
        let result = try InProcess.runsheet(["run", Self.fixture, "--runs-dir", runs.path, "--auto"])
        #expect(result.status == 3)
        #expect(result.stdout.contains("manual step 'read-the-notes' needs a person"))
    }

    @Test func mistakesGetOneSentence() throws {
        let runs = try Fixtures.temporaryDirectory()
        let unknown = try InProcess.runsheet(["run", Self.fixture, "--runs-dir", runs.path, "--param", "nope=1"])
        #expect(unknown.status == 2 && unknown.stderr.contains("unknown parameter 'nope'"))
        let missingRun = try InProcess.runsheet(["resume", "does-not-exist", "--runs-dir", runs.path])
        #expect(missingRun.status == 2 && missingRun.stderr.contains("no run 'does-not-exist'"))
        let badAction = try InProcess.runsheet(["run", Self.fixture, "--runs-dir", runs.path], stdin: "dance\n")
        #expect(badAction.status == 2 && badAction.stderr.contains("unknown action 'dance'"))
        let noReason = try InProcess.runsheet(["run", Self.fixture, "--runs-dir", runs.path], stdin: "skip\nquit\n")
        #expect(noReason.stdout.contains("skip needs a reason"))
    }
}
