import Foundation
import RunsheetTestSupport
import Testing

/// Issue 12, items 2, 3 and 8: no action moves a run past a gate whose rule is not met or runs a
/// production step the calendar blocks; a gate is skipped only by a waiver from someone who
/// neither started nor drove the run; a failed step marked done is a forced step, with a reason.
/// Each test drives the real binary and reads the journal it wrote.
@Suite struct GateBypassTests {
    static let runbook = """
        ---
        runsheet: 1
        id: deploy
        title: Deploy
        roles: [sre]
        ---

        # Deploy

        - [ ] Prepare
        - [ ] Approve the deploy
          - Sign-off: 2 of sre
          - Separation: starter
          - On reject: [Clean up](#clean-up)
        - [ ] Deploy
          - Production: true
        - [ ] Health check
          ```sh run
          exit 3
          ```
          - On failure: [Roll back](#roll-back)

        ## Roll back

        - [ ] Restore the previous version
          ```sh run
          true
          ```

        ## Clean up

        - [ ] Remove the staging slot
        """

    func repository(calendar: String? = nil) throws -> URL {
        let dir = try Fixtures.temporaryDirectory()
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        try "roles:\n  sre: [alice, bob, carol]\n  release-manager: [rita, alice, bob]\n"
            .write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        if let calendar {
            try calendar.write(to: dir.appendingPathComponent(".runsheet/calendar.yaml"), atomically: true, encoding: .utf8)
        }
        try Self.runbook.write(to: dir.appendingPathComponent("deploy.md"), atomically: true, encoding: .utf8)
        return dir
    }

    func runsheet(_ arguments: [String], in dir: URL, stdin: String? = nil) throws -> ProcessResult {
        try RepositoryRuns.runsheet(arguments, in: dir, stdin: stdin)
    }

    func events(_ dir: URL, id: String) throws -> [[String: Any]] { try RepositoryRuns.events(dir, id: id) }

    func has(_ events: [[String: Any]], _ type: String, _ step: String) -> Bool {
        events.contains { $0["type"] as? String == type && $0["step"] as? String == step }
    }

    /// Item 2: goto, back and skip never pass the unsigned gate; the run stays at it.
    @Test func gotoBackAndSkipNeverPassAnUnsignedGate() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = "done\ngoto deploy\ndone\ngoto health-check\nskip no time for this\nskip\ndone\ngoto remove-the-staging-slot\nquit\n"
        let result = try runsheet(["run", "deploy.md", "--as", "alice"], in: dir, stdin: script)
        #expect(result.status == 3, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("goto would take the run to step 'deploy' past gate 'approve-the-deploy', which still needs 2 more of sre"),
                "\(result.stdout)")
        #expect(result.stdout.contains("gate 'approve-the-deploy' applies to this normal run and cannot be skipped"), "\(result.stdout)")
        #expect(result.stdout.contains("this gate still needs 2 more of sre"), "\(result.stdout)")
        #expect(result.stdout.contains("past gate 'approve-the-deploy'") && result.stdout.contains("to step 'remove-the-staging-slot'"),
                "\(result.stdout)")
        let id = try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))
        let journal = try events(dir, id: id)
        for step in ["deploy", "health-check", "remove-the-staging-slot"] {
            #expect(!has(journal, "step.started", step) && !has(journal, "cursor.moved", step), "\(step) was reached")
        }
        #expect(!has(journal, "step.skipped", "approve-the-deploy") && !has(journal, "step.completed", "approve-the-deploy"))
        #expect(!journal.contains { $0["type"] as? String == "run.ended" })
        let status = try runsheet(["status", id], in: dir)
        #expect(status.stdout.contains("at       approve-the-deploy"), "\(status.stdout)")
    }

    /// Item 2, `back`: from the reject branch at the end, back would land on a step past the gate.
    @Test func backFromTheRejectBranchDoesNotLandPastTheGate() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try runsheet(["run", "deploy.md", "--as", "alice"], in: dir, stdin: "done\nquit\n").status == 3)
        let id = try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))
        let rejected = try runsheet(["reject", id, "approve-the-deploy", "--as", "bob", "--reason", "no rollback tested"], in: dir)
        #expect(rejected.status == 0, "\(rejected.stderr)")
        // Waiting settles the rejection: the run goes to Clean up; back from there is the rollback step past the gate.
        let result = try runsheet(["resume", id, "--as", "alice"], in: dir, stdin: "wait\nback\nback\nquit\n")
        #expect(result.stdout.contains("gate rejected by bob: no rollback tested"), "\(result.stdout)")
        #expect(result.stdout.contains("back would take the run to step 'restore-the-previous-version' past gate 'approve-the-deploy', which was rejected by bob"),
                "\(result.stdout)")
        let journal = try events(dir, id: id)
        #expect(has(journal, "step.started", "remove-the-staging-slot"))
        #expect(!has(journal, "step.started", "restore-the-previous-version") && !has(journal, "cursor.moved", "restore-the-previous-version"))
    }

    /// Item 2, the calendar: a production step reached by goto inside a freeze is neither done nor run.
    @Test func aProductionStepInAFreezeIsNeitherDoneNorRunAfterGoto() throws {
        let calendar = "freezes:\n  - name: year end\n    from: 2000-01-01\n    to: 2999-12-31\n"
        let dir = try repository(calendar: calendar)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try runsheet(["run", "deploy.md", "--as", "alice"], in: dir, stdin: "done\nquit\n").status == 3)
        let id = try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))
        #expect(try runsheet(["sign", id, "approve-the-deploy", "--as", "bob"], in: dir).status == 0)
        #expect(try runsheet(["sign", id, "approve-the-deploy", "--as", "carol"], in: dir).status == 0)
        let result = try runsheet(["resume", id, "--as", "alice"], in: dir, stdin: "done\ngoto prepare\ngoto deploy\ndone\nrun\ndone forced past the freeze\nquit\n")
        #expect(result.stdout.contains("step 'deploy' is a production change and"), "\(result.stdout)")
        #expect(result.stdout.contains("year end"), "\(result.stdout)")
        let journal = try events(dir, id: id)
        #expect(has(journal, "step.completed", "approve-the-deploy"))
        #expect(!has(journal, "step.completed", "deploy") && !has(journal, "step.forced", "deploy") && !has(journal, "command.finished", "deploy"))
    }

    /// Item 3: the starter (or anyone who drove the run) cannot waive the gate; an exception role
    /// who did not drive it can, and the waiver shows on the screen, in status, audit and reports.
    @Test func onlySomeoneWhoDidNotDriveTheRunWaivesAGate() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try runsheet(["run", "deploy.md", "--as", "alice"], in: dir, stdin: "done\nquit\n").status == 3)
        let id = try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))
        // Bob drives a session of the run, then tries to waive its gate.
        #expect(try runsheet(["resume", id, "--as", "bob"], in: dir, stdin: "note watching the dashboards\nquit\n").status == 3)
        let attempts: [(String, String)] = [
            ("alice", "alice started this run and may not waive its gate"),
            ("Alice", "Alice started this run and may not waive its gate"),
            ("BOB", "BOB drove this run and may not waive its gate"),
            ("carol", "carol holds none of the roles that may waive a gate (release-manager)"),
        ]
        for (who, refusal) in attempts {
            let attempt = try runsheet(["sign", id, "approve-the-deploy", "--waive", "--reason", "CAB by phone", "--as", who], in: dir)
            #expect(attempt.status == 1, "\(who): \(attempt.stdout)\(attempt.stderr)")
            #expect(attempt.stderr.contains(refusal), "\(who): \(attempt.stderr)")
        }
        let noReason = try runsheet(["sign", id, "approve-the-deploy", "--waive", "--as", "rita"], in: dir)
        #expect(noReason.status == 2 && noReason.stderr.contains("--waive needs --reason"), "\(noReason.stderr)")
        #expect(!(try events(dir, id: id)).contains { $0["type"] as? String == "gate.waived" })

        let waived = try runsheet(["sign", id, "approve-the-deploy", "--waive", "--reason", "CAB approved by phone, CHG-1182", "--as", "rita"], in: dir)
        #expect(waived.status == 0, "\(waived.stderr)")
        #expect(waived.stdout.contains("waived gate approve-the-deploy as release-manager (rita); it needed 2 more of sre"), "\(waived.stdout)")
        let again = try runsheet(["sign", id, "approve-the-deploy", "--waive", "--reason", "twice", "--as", "rita"], in: dir)
        #expect(again.status == 1 && again.stderr.contains("already waived"), "\(again.stderr)")

        let resumed = try runsheet(["resume", id, "--as", "alice"], in: dir, stdin: "done\nquit\n")
        #expect(resumed.stdout.contains("waived by rita (release-manager): CAB approved by phone, CHG-1182"), "\(resumed.stdout)")
        let journal = try events(dir, id: id)
        let waiver = try #require(journal.first { $0["type"] as? String == "gate.waived" })
        #expect(waiver["actor"] as? String == "rita")
        let data = try #require(waiver["data"] as? [String: Any])
        #expect(data["role"] as? String == "release-manager" && data["unmet"] as? String == "2 more of sre")
        #expect(has(journal, "step.completed", "approve-the-deploy") && has(journal, "step.started", "deploy"))

        let status = try runsheet(["status", id], in: dir)
        #expect(status.stdout.contains("gate WAIVED by rita as release-manager"), "\(status.stdout)")
        let report = try runsheet(["report", id, "--format", "md"], in: dir)
        #expect(report.stdout.contains("1 gate waived") && report.stdout.contains("WAIVED by rita (release-manager): CAB approved by phone"),
                "\(report.stdout)")
        let json = try runsheet(["report", id, "--format", "json"], in: dir)
        #expect(json.stdout.contains("\"waivers\""), "\(json.stdout)")
    }

    /// Item 8: a failed health check marked done needs a reason and is recorded as step.forced; the
    /// run that then ends is failed, not rolled back, and every report format says it was forced.
    @Test func aForcedStepNeedsAReasonAndIsNeverACleanRollback() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try runsheet(["run", "deploy.md", "--as", "alice"], in: dir, stdin: "done\nquit\n").status == 3)
        let id = try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))
        #expect(try runsheet(["sign", id, "approve-the-deploy", "--as", "bob"], in: dir).status == 0)
        #expect(try runsheet(["sign", id, "approve-the-deploy", "--as", "carol"], in: dir).status == 0)
        // The health check fails, the run goes to the rollback; back to the check, and mark it done.
        let result = try runsheet(["resume", id, "--as", "alice"], in: dir,
                                  stdin: "done\ndone\nrun\nback\ndone\ndone dashboards were green, the check is flaky\ndone\n")
        #expect(result.stdout.contains("command exited 3"), "\(result.stdout)")
        #expect(result.stdout.contains("step 'health-check' has a command that did not pass (it exited 3); to mark it done anyway, say why: 'done REASON'"),
                "\(result.stdout)")
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("failed: the rollback did not complete: step 'restore-the-previous-version' was never done"), "\(result.stdout)")
        let journal = try events(dir, id: id)
        #expect(!has(journal, "step.completed", "health-check"))
        let forced = try #require(journal.first { $0["type"] as? String == "step.forced" })
        #expect(forced["step"] as? String == "health-check" && forced["actor"] as? String == "alice")
        let data = try #require(forced["data"] as? [String: Any])
        #expect(data["reason"] as? String == "dashboards were green, the check is flaky")
        #expect(data["overrode"] as? [Int] == [3])
        let ended = try #require(journal.last { $0["type"] as? String == "run.ended" }?["data"] as? [String: Any])
        #expect(ended["outcome"] as? String == "failed")

        for format in ["md", "html", "junit", "csv", "json"] {
            let report = try runsheet(["report", id, "--format", format], in: dir)
            #expect(report.status == 0, "\(format): \(report.stderr)")
            let marker = format == "json" ? "\"forced\"" : format == "csv" ? ",forced," : "FORCED"
            let says = report.stdout.contains(marker) && report.stdout.contains("the check is flaky")
            #expect(says, "\(format):\n\(report.stdout)")
        }
        let status = try runsheet(["status", id], in: dir)
        #expect(status.stdout.contains("⚠ health-check") && status.stdout.contains("FORCED: dashboards were green"), "\(status.stdout)")
    }

    /// Item 8: a rollback that ran to its end is rolled back; one whose step was skipped is not.
    @Test func rolledBackOnlyWhenTheRollbackStepsCompleted() throws {
        for (rollback, outcome) in [("run\n", "rolled-back"), ("skip no time\n", "failed")] {
            let dir = try repository()
            defer { try? FileManager.default.removeItem(at: dir) }
            #expect(try runsheet(["run", "deploy.md", "--as", "alice"], in: dir, stdin: "done\nquit\n").status == 3)
            let id = try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))
            #expect(try runsheet(["sign", id, "approve-the-deploy", "--as", "bob"], in: dir).status == 0)
            #expect(try runsheet(["sign", id, "approve-the-deploy", "--as", "carol"], in: dir).status == 0)
            let result = try runsheet(["resume", id, "--as", "alice"], in: dir, stdin: "done\ndone\nrun\n" + rollback + "done\n")
            #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
            #expect(result.stdout.contains("run \(id) \(outcome)"), "\(rollback): \(result.stdout)")
            let ended = try #require(try events(dir, id: id).last { $0["type"] as? String == "run.ended" }?["data"] as? [String: Any])
            #expect(ended["outcome"] as? String == outcome)
        }
    }
}
