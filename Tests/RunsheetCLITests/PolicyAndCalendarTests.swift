import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Release-class policies, the emergency break-glass path with its follow-up review, and the
/// change calendar, driven through the real binary in scripted runs. Calendars are written
/// relative to the real clock, so "now" is never faked.
@Suite struct PolicyAndCalendarTests {
    /// A repository with roles, optionally a policy file and a calendar, and a runbook of the given
    /// class with `policy` in its front matter.
    func repository(releaseClass: String, policy: String = "", repositoryPolicy: String? = nil, calendar: String? = nil) throws -> URL {
        let dir = try Fixtures.temporaryDirectory()
        let manager = FileManager.default
        try manager.createDirectory(at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try manager.createDirectory(at: dir.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        try "roles:\n  sre: [sam, sue]\n  release-manager: [rita]\n  cab: [carl]\n  operator: [olly]\n"
            .write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        if let calendar {
            try calendar.write(to: dir.appendingPathComponent(".runsheet/calendar.yaml"), atomically: true, encoding: .utf8)
        }
        if let repositoryPolicy {
            try repositoryPolicy.write(to: dir.appendingPathComponent(".runsheet/policy.yaml"), atomically: true, encoding: .utf8)
        }
        let runbook = """
            ---
            class: \(releaseClass)
            \(policy)
            ---
            # Change

            - [ ] Prepare
            - [ ] Approve
              - Sign-off: 2 of sre
              - Sign-off: release-manager
            - [ ] Switch traffic
              - Production: yes
            """
        try runbook.write(to: dir.appendingPathComponent("change.md"), atomically: true, encoding: .utf8)
        return dir
    }

    func runsheet(_ arguments: [String], in dir: URL, stdin: String? = nil) throws -> ProcessResult {
        try Fixtures.runsheet(arguments + ["--runs-dir", dir.appendingPathComponent("runs").path], stdin: stdin, directory: dir)
    }

    func runID(_ dir: URL) throws -> String {
        try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))
    }

    func events(_ dir: URL) throws -> [RunEvent] {
        let events = try JournalFile.read(at: dir.appendingPathComponent("runs/\(try runID(dir))/journal.jsonl").path).events
        try PayloadReading.expectAlike(events)
        return events
    }

    /// Three-letter names of days that are neither today nor yesterday in UTC.
    static func otherDays() -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let today = calendar.component(.weekday, from: Date())
        let names = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
        let excluded = [today, today == 1 ? 7 : today - 1]
        return (1...7).filter { !excluded.contains($0) }.map { names[$0 - 1] }.joined(separator: ", ")
    }

    @Test func normalClassNeedsEveryDeclaredApprover() throws {
        let dir = try repository(releaseClass: "normal")
        let first = try runsheet(["run", "change.md", "--as", "olly"], in: dir, stdin: "done\ndone\n")
        #expect(first.status == 3)
        #expect(first.stdout.contains("(sign-off: 2 of sre and 1 of release-manager)"))
        let id = try runID(dir)
        #expect(try runsheet(["sign", id, "approve", "--as", "sam"], in: dir).stdout.contains("still needs 1 more of sre and 1 more of release-manager"))
    }

    @Test func classPoliciesChangeApproverCountsAndWhichGatesApply() throws {
        // Which gates a class skips is the repository's to say: a runbook's own policy may only add.
        let policy = """
            major: {approvers: 3}
            standard: {gates: none}
            normal:
              downgrade: {to: [standard], roles: [release-manager]}
            """
        // Standard changes are pre-approved: the gate is skipped automatically, with the reason recorded.
        let standard = try repository(releaseClass: "standard", repositoryPolicy: policy)
        let run = try runsheet(["run", "change.md", "--as", "olly"], in: standard, stdin: "done\ndone\n")
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let skipped = try events(standard).first { $0.type == .stepSkipped && $0.step == "approve" }
        #expect(skipped?.data["reason"]?.string == "the standard class policy does not apply this gate")
        #expect(skipped?.data["automatic"]?.bool == true)

        // The same runbook run as a major change (the --class override) needs three of each.
        let major = try repository(releaseClass: "normal", repositoryPolicy: policy)
        let waiting = try runsheet(["run", "change.md", "--as", "olly", "--class", "major"], in: major, stdin: "done\ndone\n")
        #expect(waiting.status == 3)
        #expect(waiting.stdout.contains("3 of sre and 3 of release-manager (major policy)"))
        // Run as standard by the release manager the policy lets choose it.
        let plan = try runsheet(["run", "change.md", "--class", "standard", "--dry-run", "--as", "rita"], in: major)
        #expect(plan.stdout.contains("gate: 2 of sre and 1 of release-manager (does not apply to this class)"), "\(plan.stderr)")
    }

    @Test func emergencyTakesTheBreakGlassPathAndOwesAFollowUp() throws {
        let dir = try repository(releaseClass: "emergency", policy: "policy:\n  emergency: {follow-up: cab, follow-up-within: 2d}")
        let first = try runsheet(["run", "change.md", "--as", "olly"], in: dir, stdin: "done\ndone\n")
        #expect(first.stdout.contains("1 of sre and 1 of release-manager (emergency policy)"))
        let id = try runID(dir)
        #expect(try runsheet(["sign", id, "approve", "--as", "sam"], in: dir).status == 0)
        #expect(try runsheet(["sign", id, "approve", "--as", "rita"], in: dir).stdout.contains("the gate's rule is met"))
        let finished = try runsheet(["resume", id, "--as", "olly"], in: dir, stdin: "done\ndone\n")
        #expect(finished.status == 0, "\(finished.stdout)\(finished.stderr)")

        // Without the follow-up, the run table says so and names the command that records it.
        var table = try runsheet(["status"], in: dir)
        #expect(table.stdout.contains("1 run still owes the follow-up review"))
        #expect(table.stdout.contains("\(id) (emergency): follow-up review missing (due "))
        let started = try #require(try events(dir).first?.data["followUp"]?.object)
        #expect(started["roles"]?.array?.compactMap(\.string) == ["cab"])
        #expect(started["within"]?.int == 172_800)

        #expect(try runsheet(["report", id], in: dir).stdout.contains("| Follow-up review | missing, due "))

        // Only a cab member other than the starter may record it, and it needs findings.
        let starter = try runsheet(["sign", id, "--follow-up", "--comment", "fine", "--as", "olly", "--role", "cab"], in: dir)
        #expect(starter.status == 1 && starter.stderr.contains("olly started this run and may not review it"))
        let wrongRole = try runsheet(["sign", id, "--follow-up", "--comment", "fine", "--as", "sam"], in: dir)
        #expect(wrongRole.status == 1 && wrongRole.stderr.contains("sam holds none of the roles that may sign the follow-up review (cab)"))
        let empty = try runsheet(["sign", id, "--follow-up", "--comment", " ", "--as", "carl"], in: dir)
        #expect(empty.status == 1 && empty.stderr.contains("needs --comment"))
        let review = try runsheet(["sign", id, "--follow-up", "--comment", "PIR held, see INC-881", "--as", "carl"], in: dir)
        #expect(review.status == 0, "\(review.stderr)")

        table = try runsheet(["status"], in: dir)
        #expect(!table.stdout.contains("owe"))
        #expect(try runsheet(["report", id], in: dir).stdout.contains("| Follow-up review | done by carl at "))
        let detail = try runsheet(["status", id], in: dir)
        #expect(detail.stdout.contains("✍ follow-up review by carl"))
        let verify = try runsheet(["verify", id], in: dir)
        #expect(verify.status == 0 && verify.stdout.contains("✍ approve  rita as release-manager"))
        let reviews = try events(dir).filter { $0.type == .reviewSigned }
        #expect(reviews.map(\.actor) == ["carl"])
        #expect(reviews.first?.data["comment"]?.string == "PIR held, see INC-881")
    }

    @Test func nonEmergencyRunsOweNoFollowUp() throws {
        let dir = try repository(releaseClass: "normal")
        _ = try runsheet(["run", "change.md", "--as", "olly"], in: dir, stdin: "done\n")
        let id = try runID(dir)
        let refused = try runsheet(["sign", id, "--follow-up", "--comment", "x", "--as", "carl"], in: dir)
        #expect(refused.status == 1 && refused.stderr.contains("needs no follow-up review"))
        #expect(try events(dir).first?.data["followUp"] == nil)
    }

    @Test func closedWindowStopsProductionStepsOnly() throws {
        let calendar = """
            timezone: UTC
            windows:
              - name: other days
                days: [\(Self.otherDays())]
                from: "00:00"
                to: "24:00"
            """
        let dir = try repository(releaseClass: "standard", repositoryPolicy: "standard: {gates: none}\n", calendar: calendar)
        let run = try runsheet(["run", "change.md", "--as", "olly"], in: dir, stdin: "done\ndone\nrun\n")
        #expect(run.status == 3)
        #expect(run.stdout.contains("⛔ production change blocked: it is outside every change window (other days: "))
        #expect(run.stdout.contains("step 'switch-traffic' is a production change and it is outside every change window"))
        let state = RunState.fold(try events(dir))
        #expect(state.record("prepare").status == .done)
        #expect(state.record("switch-traffic").status == .active)
        #expect(state.outcome == nil)

        // Unattended runs stop there too.
        let auto = try runsheet(["resume", try runID(dir), "--auto"], in: dir)
        #expect(auto.status == 3 && auto.stdout.contains("production step 'switch-traffic' needs a calendar exception"))
    }

    @Test func openWindowLetsProductionStepsThrough() throws {
        let calendar = "windows:\n  - {name: always, from: \"00:00\", to: \"24:00\"}\n"
        let dir = try repository(releaseClass: "standard", repositoryPolicy: "standard: {gates: none}\n", calendar: calendar)
        let run = try runsheet(["run", "change.md", "--as", "olly"], in: dir, stdin: "done\ndone\n")
        #expect(run.status == 0, "\(run.stdout)")
        #expect(!run.stdout.contains("blocked"))
        let state = RunState.fold(try events(dir))
        #expect(state.record("switch-traffic").status == .done)
        #expect(state.exceptions.isEmpty)
    }

    @Test func freezeNeedsAnExceptionFromADeclaredRole() throws {
        let calendar = """
            timezone: Europe/Berlin
            exception-roles: [release-manager, cab]
            freezes:
              - name: year-end
                from: 2000-01-01
                to: 2999-12-31
            """
        let dir = try repository(releaseClass: "standard", repositoryPolicy: "standard: {gates: none}\n", calendar: calendar)
        let blocked = try runsheet(["run", "change.md", "--as", "olly"], in: dir, stdin: "done\ndone\n")
        #expect(blocked.status == 3)
        #expect(blocked.stdout.contains("inside the change freeze 'year-end' (2000-01-01 to 2999-12-31 Europe/Berlin)"))
        #expect(blocked.stdout.contains("a release-manager or cab may grant an exception"))
        let id = try runID(dir)

        let own = try runsheet(["sign", id, "switch-traffic", "--exception", "--reason", "urgent", "--as", "olly", "--role", "cab"], in: dir)
        #expect(own.status == 1 && own.stderr.contains("may not grant its own exception"))
        let sre = try runsheet(["sign", id, "switch-traffic", "--exception", "--reason", "urgent", "--as", "sam"], in: dir)
        #expect(sre.status == 1 && sre.stderr.contains("sam holds none of the roles that may grant a calendar exception"))
        let noReason = try runsheet(["sign", id, "switch-traffic", "--exception", "--as", "rita"], in: dir)
        #expect(noReason.status == 2 && noReason.stderr.contains("--exception needs --reason"))
        let notProduction = try runsheet(["sign", id, "prepare", "--exception", "--reason", "x", "--as", "rita"], in: dir)
        #expect(notProduction.status == 1 && notProduction.stderr.contains("is not a production change"))

        let granted = try runsheet(["sign", id, "switch-traffic", "--exception", "--reason", "security fix CVE-2026-1", "--as", "rita"], in: dir)
        #expect(granted.status == 0, "\(granted.stderr)")
        let resumed = try runsheet(["resume", id, "--as", "olly"], in: dir, stdin: "done\n")
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")

        let exception = try #require(try events(dir).first { $0.type == .exceptionGranted })
        #expect(exception.actor == "rita" && exception.step == "switch-traffic")
        #expect(exception.data["role"]?.string == "release-manager")
        #expect(exception.data["reason"]?.string == "security fix CVE-2026-1")
        #expect(exception.data["conflict"]?.string?.contains("year-end") == true)
        let audit = try runsheet(["audit", id], in: dir)
        #expect(audit.stdout.contains("exception.granted switch-traffic  reason=security fix CVE-2026-1 role=release-manager"))
        #expect(try runsheet(["status", id], in: dir).stdout.contains("⚑ switch-traffic  calendar exception by rita as release-manager"))
    }

    @Test func waitingOperatorMovesOnWhenTheExceptionArrives() throws {
        let calendar = "freezes:\n  - {name: now, from: 2000-01-01, to: 2999-12-31}\nexception-roles: [release-manager]\n"
        let dir = try repository(releaseClass: "standard", repositoryPolicy: "standard: {gates: none}\n", calendar: calendar)
        _ = try runsheet(["run", "change.md", "--as", "olly"], in: dir, stdin: "done\n")
        let id = try runID(dir)
        // The operator waits in one process; the exception comes from another after a moment.
        let granter = Thread {
            Thread.sleep(forTimeInterval: 1)
            _ = try? self.runsheet(["sign", id, "switch-traffic", "--exception", "--reason", "outage fix", "--as", "rita"], in: dir)
        }
        granter.start()
        let waited = try runsheet(["resume", id, "--as", "olly"], in: dir, stdin: "wait\ndone\n")
        #expect(waited.stdout.contains("✓ exception granted by rita: outage fix"))
        #expect(waited.status == 0, "\(waited.stdout)")
    }

    @Test func checkReportsPolicyAndCalendarProblemsWithPositions() throws {
        let calendar = "timezone: Mars/Olympus\nwindows:\n  - name: x\n    days: [funday]\n    from: \"09:00\"\n    to: \"17:00\"\n"
        let policy = "policy:\n  emergncy: {approvers: 1}\n  major: {aprovers: 2, gates: [no-such-gate]}"
        let dir = try repository(releaseClass: "normal", policy: policy, calendar: calendar)
        let check = try Fixtures.runsheet(["check", "change.md"], directory: dir)
        #expect(check.status == 1)
        let out = check.stdout
        #expect(out.contains("change.md:4:3: error: 'emergncy' is not a release class"))
        #expect(out.contains("change.md:5:11: error: unknown policy setting 'aprovers'; did you mean 'approvers'? [bad-policy]"))
        #expect(out.contains("error: the major policy names gate 'no-such-gate', but no gate step has that id [bad-policy]"))
        #expect(out.contains(".runsheet/calendar.yaml:1:11: error: 'Mars/Olympus' is not a time zone"))
        #expect(out.contains(".runsheet/calendar.yaml:4:11: error: 'funday' is not a day"))
    }
}
