import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Issue 13, item 3 and the first two edges of item 9: a command's start is on disk before it
/// runs; a command that was running when the session died is shown as "may have run" and decided
/// by a person; the session's death ends the command's process group; every attempt has an output
/// file of its own; arguments too long for the kernel are a sentence, not a crash; placeholders
/// only where the command's shell takes them as data. Each test drives the real binary.
@Suite struct IntentBeforeEffectTests {
    /// A runbook whose first step appends to `marker` after a pause: a side effect a kill can cut.
    static func runbook(marker: String, sleep: String = "0.6") -> String {
        """
        # Migrate

        - [ ] Migrate the database
          ```bash run
          sleep \(sleep); echo migrated >> '\(marker)'
          ```
        - [ ] Tell the team
        """
    }

    struct Killed {
        let dir: URL
        let runs: URL
        let marker: URL
        let id: String
        var journal: URL { runs.appendingPathComponent(id + "/journal.jsonl") }

        func events() throws -> [RunEvent] { try JournalFile.read(at: journal.path).events }
        func runsheet(_ arguments: [String], stdin: String? = nil) throws -> ProcessResult {
            try Fixtures.runsheet(arguments + ["--runs-dir", runs.path], stdin: stdin, environment: ["NO_COLOR": "1"])
        }
    }

    /// Starts a run, has it run the migration, and kills the session with SIGKILL while it runs.
    func killDuringTheCommand() throws -> Killed {
        let dir = try Fixtures.temporaryDirectory()
        let marker = dir.appendingPathComponent("marker")
        let file = dir.appendingPathComponent("migrate.md")
        try Self.runbook(marker: marker.path).write(to: file, atomically: true, encoding: .utf8)
        let runs = dir.appendingPathComponent("runs")
        let walk = try RunningRunsheet(["run", file.path, "--runs-dir", runs.path])
        #expect(walk.waitFor("▶"), "\(walk.printed)\n\(walk.errors)")
        walk.send("run")
        #expect(walk.waitFor("┌ command"), "\(walk.printed)\n\(walk.errors)")
        Thread.sleep(forTimeInterval: 0.2)
        _ = walk.kill()
        let id = try #require(Fixtures.onlyRun(in: runs.path))
        return Killed(dir: dir, runs: runs, marker: marker, id: id)
    }

    @Test func aKilledSessionEndsItsCommandAndLeavesItsIntentInTheJournal() throws {
        let killed = try killDuringTheCommand()
        // The command would have written the marker 0.4 s later; its process group died with the session.
        Thread.sleep(forTimeInterval: 1.0)
        #expect(!FileManager.default.fileExists(atPath: killed.marker.path), "the command went on after the session died")
        let events = try killed.events()
        let started = events.filter { $0.type == .commandStarted }
        #expect(started.count == 1)
        #expect(!events.contains { $0.type == .commandFinished })
        guard case .commandStarted(let intent)? = try started.first?.payload() else { return }
        #expect(intent.index == 1 && intent.attempt == 1 && intent.command.contains("echo migrated"))
        #expect(intent.outputFile == "output/migrate-the-database-1-1.log")
        #expect(events.first.flatMap { try? $0.payload() }.map { if case .runStarted(let s) = $0 { s.schema } else { "" } } == "runsheet.journal/1.2")
        // The output file was created for the attempt, mode 0600.
        let output = killed.runs.appendingPathComponent(killed.id + "/" + intent.outputFile).path
        let mode = try FileManager.default.attributesOfItem(atPath: output)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        // The supervisor that ended it is a hidden mode of the binary, not a command.
        let help = try Fixtures.runsheet(["--help"])
        #expect(help.status == 0 && !help.stdout.contains("supervise"))
    }

    @Test func statusAndEveryReportSayTheCommandMayHaveRun() throws {
        let killed = try killDuringTheCommand()
        let time = try #require(try killed.events().last { $0.type == .commandStarted }?.time)
        let sentence = "may have run: started at \(time), no result recorded"
        let status = try killed.runsheet(["status", killed.id])
        #expect(status.status == 0)
        #expect(status.stdout.contains("migrate-the-database  command 1 \(sentence)"), "\(status.stdout)")
        for format in ["md", "html", "json", "csv", "junit"] {
            let report = try killed.runsheet(["report", killed.id, "--format", format])
            #expect(report.status == 0, "\(format): \(report.stderr)")
            #expect(report.stdout.contains(sentence) || (format == "json" && report.stdout.contains("\"mayHaveRun\"")),
                    "\(format): \(report.stdout)")
        }
        let json = try killed.runsheet(["report", killed.id, "--format", "json"])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let step = (object?["steps"] as? [[String: Any]])?.first
        let mayHaveRun = step?["mayHaveRun"] as? [String: Any]
        #expect(mayHaveRun?["startedAt"] as? String == time)
        #expect(mayHaveRun?["outputFile"] as? String == "output/migrate-the-database-1-1.log")
    }

    @Test func resumeAsksForADecisionAndRunningAgainUsesANewOutputFile() throws {
        let killed = try killDuringTheCommand()
        let before = try killed.events().count
        // Leaving the step without deciding is refused; running it again is a decision, recorded.
        let resume = try killed.runsheet(["resume", killed.id], stdin: "skip not needed\ndone\ngoto tell-the-team\nrun\nquit\n")
        #expect(resume.status == 3, "\(resume.stdout)\n\(resume.stderr)")
        let lines = resume.stdout.split(separator: "\n").map(String.init)
        let shown = try #require(lines.firstIndex { $0.contains("command 1 may have run: started at") }, "\(resume.stdout)")
        // The decision, each choice saying where it leads; skip is not one of them until it is decided.
        #expect(lines[shown + 1].trimmed == "decide:", "\(resume.stdout)")
        let choices = lines[(shown + 2)...].prefix(4).map(\.trimmed)
        #expect(choices.count == 4 && choices[0].hasPrefix("run ") && choices[0].contains("run it again →"), "\(choices)")
        #expect(choices[1].hasPrefix("done REASON") && choices[1].contains("recorded as forced →"), "\(choices)")
        #expect(choices[2].hasPrefix("fail REASON") && choices[3].hasPrefix("abort REASON") && choices[3].contains("ends the run as aborted"), "\(choices)")
        #expect(resume.stdout.components(separatedBy: "✗ command 1 of step 'migrate-the-database' may have run").count - 1 == 3,
                "skip, done without a reason and goto are refused: \(resume.stdout)")
        #expect(resume.stdout.contains("✓ commands passed"))
        let events = try killed.events()
        let session = Array(events[before...])
        #expect(session.map(\.type) == [.runResumed, .commandResolved, .commandStarted, .commandFinished, .stepCompleted, .stepStarted, .runPaused],
                "\(session.map(\.type.rawValue))")
        guard session.count > 2, case .commandResolved(let decision) = try session[1].payload(),
              case .commandStarted(let again) = try session[2].payload() else { return }
        #expect(decision.decision == "run again" && decision.index == 1 && decision.attempt == 1)
        // The first attempt's file is never reused: the new attempt writes a file of its own.
        #expect(again.outputFile == "output/migrate-the-database-1-1-2.log")
        #expect(try String(contentsOf: killed.marker, encoding: .utf8) == "migrated\n")
        #expect(try killed.runsheet(["verify", killed.id]).status == 0)
        #expect(!(try killed.runsheet(["status", killed.id]).stdout.contains("may have run")))
    }

    @Test func markingItDoneNeedsAReasonAndIsAForcedStep() throws {
        let killed = try killDuringTheCommand()
        let resume = try killed.runsheet(["resume", killed.id], stdin: "done checked by hand: the migration ran\nquit\n")
        #expect(resume.status == 3, "\(resume.stdout)\n\(resume.stderr)")
        let forced = try killed.events().filter { $0.type == .stepForced }
        #expect(forced.count == 1)
        guard case .stepForced(let payload)? = try forced.first?.payload() else { return }
        #expect(payload.reason == "checked by hand: the migration ran")
        #expect(payload.overrode == [nil])
        let status = try killed.runsheet(["status", killed.id])
        #expect(status.stdout.contains("(FORCED: checked by hand: the migration ran)"))
        #expect(!status.stdout.contains("may have run"))
    }

    /// The same decision on the full-screen walk-through: shown on the step's screen; leaving is
    /// refused; `d` asks, takes a reason and forces the step.
    @Test func theStepScreenAsksTheSameDecision() throws {
        let killed = try killDuringTheCommand()
        let terminal = ScriptedTerminal(width: 100, [
            .press("s"), .text("not needed"), .press("d"), .press("y"), .text("ran it by hand"), .press("q"),
        ])
        let result = try InProcess.walk(["resume", killed.id, "--runs-dir", killed.runs.path], on: terminal)
        #expect(result.status == 3, "\(result.stdout)\n\(result.stderr)")
        let first = try #require(terminal.frames.first)
        #expect(first.contains("⚠ command 1 may have run: started at ") && first.contains("no result recorded"), "\(first)")
        #expect(first.contains("decide:") && first.contains("[r] run it again →") && first.contains("[d] done anyway (forced) →")
                && first.contains("[f] fail") && first.contains("[x] abort: ends the run as aborted"), "\(first)")
        #expect(!first.contains("[s] skip"), "skip is no choice while a command may have run: \(first)")
        #expect(terminal.frames.contains { $0.contains("may have run") && $0.contains("decide first") }, "skip is refused")
        #expect(terminal.output.contains("This step has a command that may have run: started at "))
        let state = RunState.fold(try killed.events())
        #expect(state.record("migrate-the-database").status == .done && state.record("migrate-the-database").forced)
        #expect(state.record("migrate-the-database").reason == "ran it by hand")
        #expect(state.unfinishedCommands.isEmpty)
    }

    /// In colour the warning is red, not its escape code written out (a merge once escaped the
    /// styled line as text people read).
    @Test func theDecisionShowsInColourNotAsEscapes() throws {
        let killed = try killDuringTheCommand()
        let terminal = ScriptedTerminal(width: 100, colour: true, [.press("q")])
        _ = try InProcess.walk(["resume", killed.id, "--runs-dir", killed.runs.path], on: terminal)
        let first = try #require(terminal.frames.first)
        #expect(first.contains("\u{1B}[31m⚠ command 1 may have run"), "\(first)")
        #expect(!first.contains("\\x1b"), "\(first)")
    }

    @Test func autoStopsAtACommandThatMayHaveRun() throws {
        let killed = try killDuringTheCommand()
        let auto = try killed.runsheet(["resume", killed.id, "--auto"])
        #expect(auto.status == 3, "\(auto.stdout)\n\(auto.stderr)")
        #expect(auto.stdout.contains("a command of step 'migrate-the-database' may have run; --auto never runs it again"))
        let events = try killed.events()
        #expect(events.filter { $0.type == .commandStarted }.count == 1, "--auto started nothing")
        Thread.sleep(forTimeInterval: 0.8)
        #expect(!FileManager.default.fileExists(atPath: killed.marker.path))
    }

    /// Retries, polling and timeouts through the real binary, whose commands run under the supervisor.
    @Test func retriesPollingAndTimeoutsStillDecideUnderTheSupervisor() throws {
        let runs = try Fixtures.temporaryDirectory()
        let fixture = Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/runbooks/health-checks.md").path
        let started = Date()
        let result = try Fixtures.runsheet(["run", fixture, "--runs-dir", runs.path, "--param", "marker=m", "--auto"], environment: ["NO_COLOR": "1"])
        #expect(result.status == 3, "\(result.stdout)\n\(result.stderr)")
        #expect(Date().timeIntervalSince(started) < 25, "the 30 s command must be killed by its 1 s timeout")
        let id = try #require(Fixtures.onlyRun(in: runs.path))
        let events = try JournalFile.read(at: runs.appendingPathComponent(id + "/journal.jsonl").path).events
        let state = RunState.fold(events)
        #expect(state.record("flaky-command-succeeds-on-the-third-try").commands.map(\.exitCode) == [1, 1, 0])
        #expect(state.record("poll-until-the-marker-appears").status == .done)
        let slow = state.record("slow-command-times-out")
        #expect(slow.status == .failed && slow.commands.first?.timedOut == true)
        #expect(slow.reason?.contains("timed out after 1s") == true)
        // Every attempt has its intent before its result, and a file of its own.
        let starts = events.filter { $0.type == .commandStarted }.count
        #expect(starts == events.filter { $0.type == .commandFinished }.count && starts >= 7)
        #expect(Set(state.outputFiles).count == starts)
    }

    @Test func anOutputFileThatIsThereIsNeverWrittenOverOrThrough() throws {
        let dir = try Fixtures.temporaryDirectory()
        let marker = dir.appendingPathComponent("marker")
        let file = dir.appendingPathComponent("migrate.md")
        try Self.runbook(marker: marker.path, sleep: "0").write(to: file, atomically: true, encoding: .utf8)
        let runs = dir.appendingPathComponent("runs")
        let walk = try RunningRunsheet(["run", file.path, "--runs-dir", runs.path])
        #expect(walk.waitFor("▶"))
        let id = try #require(Fixtures.onlyRun(in: runs.path))
        // Someone with access to the run folder plants the first attempt's name as a link to a file of theirs.
        let victim = dir.appendingPathComponent("victim")
        try "keep me\n".write(to: victim, atomically: true, encoding: .utf8)
        let output = runs.appendingPathComponent(id + "/output")
        try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: output.appendingPathComponent("migrate-the-database-1-1.log").path, withDestinationPath: victim.path)
        walk.send("run", "quit")
        #expect(walk.finish() == 3, "\(walk.printed)\n\(walk.errors)")
        #expect(try String(contentsOf: victim, encoding: .utf8) == "keep me\n")
        let finished = try JournalFile.read(at: runs.appendingPathComponent(id + "/journal.jsonl").path).events.filter { $0.type == .commandFinished }
        guard case .commandFinished(let result)? = try finished.first?.payload() else {
            Issue.record("no command.finished")
            return
        }
        #expect(result.outputFile == "output/migrate-the-database-1-1-2.log" && result.passed)
        let mode = try FileManager.default.attributesOfItem(atPath: runs.appendingPathComponent(id + "/" + result.outputFile!).path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
    }

    @Test func argumentsTooLongForTheKernelAreASentenceAndTheStepStaysOpen() throws {
        let dir = try Fixtures.temporaryDirectory()
        let file = dir.appendingPathComponent("big.md")
        let longCommand = "echo " + String(repeating: "x", count: 200 * 1024)
        // Too long for a command line or an environment variable of runsheet itself: the runbook's default.
        let value = String(repeating: "v", count: 140 * 1024)
        try """
            ---
            params:
              big:
                default: \(value)
            ---

            # Big

            - [ ] Long value
              ```bash run
              printf %s {{big}} | wc -c
              ```
            - [ ] Long command
              ```bash run
              \(longCommand)
              ```
            """.write(to: file, atomically: true, encoding: .utf8)
        let runs = dir.appendingPathComponent("runs")
        let run = try Fixtures.runsheet(["run", file.path, "--runs-dir", runs.path], stdin: "run\ndone value too long\nrun\nquit\n",
                                        environment: ["NO_COLOR": "1"])
        #expect(run.status == 3, "\(run.stdout)\n\(run.stderr)")
        #expect(!run.stderr.contains("--help"), "\(run.stderr)")
        #expect(run.stdout.contains("✗ The command cannot be started: the value in RUNSHEET_PARAM_big is \(value.utf8.count) bytes"), "\(run.stdout)")
        #expect(run.stdout.contains("✗ The command cannot be started: the command text is"), "\(run.stdout)")
        #expect(run.stdout.contains("(E2BIG); nothing was run, and the step is still open."))
        let id = try #require(Fixtures.onlyRun(in: runs.path))
        let events = try JournalFile.read(at: runs.appendingPathComponent(id + "/journal.jsonl").path).events
        #expect(!events.contains { $0.type == .commandStarted || $0.type == .commandFinished })
        let state = RunState.fold(events)
        #expect(state.record("long-command").status == .active)
        #expect(state.record("long-value").status == .skipped || state.record("long-value").status == .done)
    }

    @Test func placeholdersOnlyWhereTheShellTakesThemAsData() throws {
        let dir = try Fixtures.temporaryDirectory()
        let file = dir.appendingPathComponent("shells.md")
        try """
            ---
            shell: python3
            params:
              name: {}
            ---

            # Shells

            - [ ] Python
              ```run
              print({{name}})
              ```
            - [ ] Fish quoted
              ```fish run
              echo "hello {{name}}"
              ```
            - [ ] Fish bare
              ```fish run
              echo {{name}}
              ```
            - [ ] Bash anywhere
              ```bash run
              echo "hello {{name}}"
              ```
            """.write(to: file, atomically: true, encoding: .utf8)
        let check = try Fixtures.runsheet(["check", file.path])
        #expect(check.status == 1)
        let errors = check.stdout.split(separator: "\n").filter { $0.contains("[unsafe-placeholder]") }
        #expect(errors.count == 2, "\(check.stdout)")
        #expect(errors.first?.hasPrefix("\(file.path):11:9: error: '{{name}}' in a command run by python3: runsheet knows no quoting rules for python3") == true, "\(check.stdout)")
        #expect(errors.first?.contains("RUNSHEET_PARAM_name") == true)
        #expect(errors.last?.hasPrefix("\(file.path):15:15: error: '{{name}}' in a command run by fish: only a placeholder that stands alone") == true, "\(check.stdout)")
        // A crafted value never runs: the run is refused before it starts.
        let marker = dir.appendingPathComponent("pwned")
        let crafted = "'+__import__('os').system('touch \(marker.path)')+'"
        let run = try Fixtures.runsheet(["run", file.path, "--runs-dir", dir.appendingPathComponent("runs").path, "--param", "name=\(crafted)"],
                                        stdin: "run\nquit\n")
        #expect(run.status == 1, "\(run.stdout)\n\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: marker.path))
        #expect(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path) == nil)
    }
}
