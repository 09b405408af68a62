import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Issue 17, change records: `run --change REF`, the policy's `change-record` (required, pattern),
/// recorded in `run.started` and shown by `status` and `audit`; with the attacks on the rule.
@Suite struct ChangeRecordTests {
    static let runbook = """
        ---
        runsheet: 1
        id: db-upgrade
        title: Database upgrade
        production: true
        service: db
        environment: production
        ---

        # Upgrade

        - [ ] Upgrade the primary
        """

    static let checklist = """
        ---
        runsheet: 1
        id: tidy-up
        title: Tidy up
        ---

        # Tidy

        - [ ] Tidy the wiki
        """

    /// A repository whose policy requires change records of the form CHG + 7 digits.
    func repository(policy: String = "change-record: {required: true, pattern: 'CHG[0-9]{7}'}\n", runbook: String = Self.runbook) throws -> URL {
        let dir = try Fixtures.temporaryDirectory()
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try "ref: refs/heads/main\n".write(to: dir.appendingPathComponent(".git/HEAD"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        try "roles:\n  sre: [alice, bob]\n".write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        try policy.write(to: dir.appendingPathComponent(".runsheet/policy.yaml"), atomically: true, encoding: .utf8)
        try runbook.write(to: dir.appendingPathComponent("upgrade.md"), atomically: true, encoding: .utf8)
        try Self.checklist.write(to: dir.appendingPathComponent("tidy.md"), atomically: true, encoding: .utf8)
        return dir
    }

    func runs(_ dir: URL) -> [String] { RepositoryRuns.runs(in: dir) }

    @Test func aProductionRunWithoutAChangeRecordDoesNotStart() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let refused = try RepositoryRuns.runsheet(["run", "upgrade.md", "--auto", "--as", "alice"], in: dir)
        #expect(refused.status == 1, "\(refused.stdout)\(refused.stderr)")
        #expect(refused.stderr.contains(".runsheet/policy.yaml requires a change record for normal runs") && refused.stderr.contains("--change")
                && refused.stderr.contains("'CHG[0-9]{7}'") && refused.stderr.contains("nothing was written"), "\(refused.stderr)")
        #expect(runs(dir).isEmpty)
        let dry = try RepositoryRuns.runsheet(["run", "upgrade.md", "--dry-run", "--as", "alice"], in: dir)
        #expect(dry.stdout.contains("a real run would be refused") && dry.stdout.contains("requires a change record"), "\(dry.stdout)")
        // A checklist without production steps needs none.
        let tidy = try RepositoryRuns.runsheet(["run", "tidy.md", "--auto", "--as", "alice"], in: dir)
        #expect(tidy.status == 3, "\(tidy.stdout)\(tidy.stderr)")
    }

    /// Letter case, a space, an invisible character, a longer or partial match: bad input, exit 2, nothing written.
    @Test(arguments: ["chg0012345", "CHG0012345 ", "CHG001234", "CHG00123456", "xCHG0012345", "CHG\u{200B}0012345", ""])
    func aReferenceOfTheWrongFormIsRefused(reference: String) throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let refused = try RepositoryRuns.runsheet(["run", "upgrade.md", "--auto", "--as", "alice", "--change", reference], in: dir)
        #expect(refused.status == 2, "\(refused.stdout)\(refused.stderr)")
        #expect(refused.stderr.contains("the change record reference") && refused.stderr.contains("nothing was written"), "\(refused.stderr)")
        #expect(refused.stderr.split(separator: "\n").count == 1, "one sentence: \(refused.stderr)")
        #expect(runs(dir).isEmpty)
    }

    @Test func theChangeRecordIsRecordedAndShown() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let started = try RepositoryRuns.runsheet(["run", "upgrade.md", "--auto", "--as", "alice", "--change", "CHG0012345"], in: dir)
        #expect(started.status == 3, "\(started.stdout)\(started.stderr)")
        let id = try #require(runs(dir).first)
        let first = try #require(try RepositoryRuns.events(dir, id: id).first)
        #expect((first["data"] as? [String: Any])?["change"] as? String == "CHG0012345", "\(first)")
        let status = try RepositoryRuns.runsheet(["status", id], in: dir)
        #expect(status.stdout.contains("change   CHG0012345"), "\(status.stdout)")
        let audit = try RepositoryRuns.runsheet(["audit", id], in: dir)
        #expect(audit.stdout.contains("change record CHG0012345"), "\(audit.stdout)")
        for (format, shown) in [("md", "| Change record | CHG0012345 |"), ("html", "<tr><th>Change record</th><td><code>CHG0012345</code></td></tr>"),
                                ("json", "\"change\" : \"CHG0012345\""), ("junit", "<property name=\"change\" value=\"CHG0012345\"/>")] {
            let report = try RepositoryRuns.runsheet(["report", id, "--format", format], in: dir)
            #expect(report.stdout.contains(shown), "\(format): \(report.stdout.prefix(1500))")
        }
        #expect(try RepositoryRuns.runsheet(["verify", id], in: dir).status == 0)
    }

    /// A runbook's front matter cannot take the repository's requirement back: `check` says so,
    /// and the run still needs a change record.
    @Test func aRunbookCannotTakeTheRequirementBack() throws {
        let relaxed = Self.runbook.replacingOccurrences(of: "environment: production\n", with: "environment: production\npolicy:\n  change-record: {required: false}\n")
        let dir = try repository(runbook: relaxed)
        defer { try? FileManager.default.removeItem(at: dir) }
        let check = try Fixtures.runsheet(["check", "upgrade.md"], environment: ["NO_COLOR": "1"], directory: dir)
        #expect(check.status == 1 && check.stdout.contains("never take the requirement back"), "\(check.stdout)\(check.stderr)")
        let refused = try RepositoryRuns.runsheet(["run", "upgrade.md", "--auto", "--as", "alice"], in: dir)
        #expect(refused.status != 0 && refused.status != 3, "\(refused.stdout)\(refused.stderr)")
        #expect(runs(dir).isEmpty)
    }

    /// A class may add the requirement the top level does not make; other classes stay free.
    @Test func aClassMayRequireAChangeRecord() throws {
        let dir = try repository(policy: "normal:\n  change-record: {required: true}\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try RepositoryRuns.runsheet(["run", "upgrade.md", "--auto", "--as", "alice"], in: dir).status == 1)
        #expect(try RepositoryRuns.runsheet(["run", "upgrade.md", "--auto", "--as", "alice", "--change", "anything-7"], in: dir).status == 3)
    }

    /// A release file's `change`: only runs that name that change record count for it, exactly
    /// (letter case too); a release change of the wrong form is an error at its position.
    @Test func aReleaseCountsOnlyTheRunsOfItsChangeRecord() throws {
        let dir = try repository(policy: "change-record: {pattern: '[A-Za-z]{3}[0-9]{7}'}\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        try "---\ntarget: 2030-01-01\nchange: CHG0012345\n---\n# Release\n\n## Requires\n\n- [Upgrade](upgrade.md)\n"
            .write(to: dir.appendingPathComponent("release.md"), atomically: true, encoding: .utf8)
        for change in ["CHG0099999", "chg0012345"] {
            let other = try RepositoryRuns.runsheet(["run", "upgrade.md", "--as", "alice", "--change", change], in: dir, stdin: "done\n")
            #expect(other.status == 0, "\(other.stdout)\(other.stderr)")
        }
        let noGo = try RepositoryRuns.runsheet(["readiness", "release.md", "--format", "md"], in: dir)
        #expect(noGo.status == 1, "\(noGo.stdout)\(noGo.stderr)")
        #expect(noGo.stdout.contains("change record CHG0012345"), "\(noGo.stdout)")
        let right = try RepositoryRuns.runsheet(["run", "upgrade.md", "--as", "alice", "--change", "CHG0012345"], in: dir, stdin: "done\n")
        #expect(right.status == 0, "\(right.stdout)\(right.stderr)")
        let go = try RepositoryRuns.runsheet(["readiness", "release.md", "--format", "md"], in: dir)
        #expect(go.status == 0 || go.status == 4, "\(go.stdout)\(go.stderr)")

        try "---\ntarget: 2030-01-01\nchange: CHG 1\n---\n# Release\n".write(to: dir.appendingPathComponent("bad.md"), atomically: true, encoding: .utf8)
        let bad = try RepositoryRuns.runsheet(["readiness", "bad.md"], in: dir)
        #expect(bad.status == 2 && bad.stderr.contains("bad.md:3:9") && bad.stderr.contains("holds a space"), "\(bad.stderr)")
    }

    /// The second adversary: `--class` to a class whose policy asks no change record is a
    /// downgrade (which needs the policy's permission), and a run started while the policy was
    /// moved aside does not go on without one once it is back.
    @Test func anotherClassOrAPolicyMovedAsideDoesNotDropTheChangeRecord() throws {
        let dir = try repository(policy: "normal:\n  change-record: {required: true, pattern: 'CHG[0-9]{7}'}\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        for releaseClass in ["major", "emergency", "Standard"] {
            let other = try RepositoryRuns.runsheet(["run", "upgrade.md", "--auto", "--as", "alice", "--class", releaseClass], in: dir)
            #expect(other.status == 1 && other.stderr.contains("a change record is not required"), "\(releaseClass): \(other.stderr)")
        }
        #expect(runs(dir).isEmpty)
        let policy = dir.appendingPathComponent(".runsheet/policy.yaml"), aside = dir.appendingPathComponent("policy.aside")
        try FileManager.default.moveItem(at: policy, to: aside)
        let started = try RepositoryRuns.runsheet(["run", "upgrade.md", "--auto", "--as", "alice"], in: dir)
        #expect(started.status == 3, "\(started.stderr)")
        try FileManager.default.moveItem(at: aside, to: policy)
        let id = try #require(runs(dir).first)
        let resumed = try RepositoryRuns.runsheet(["resume", id, "--as", "alice"], in: dir, stdin: "done\n")
        #expect(resumed.status == 1, "\(resumed.stdout)\(resumed.stderr)")
        #expect(resumed.stderr.contains("cannot go on under today's rules") && resumed.stderr.contains("start a new run that names the approved change record"), "\(resumed.stderr)")
        #expect(!(try String(contentsOf: dir.appendingPathComponent("runs/\(id)/journal.jsonl"), encoding: .utf8)).contains("step.completed"))
    }

    /// The second adversary: the change record rewritten in run.started (hashes recomputed) to
    /// carry an approval over to another change. The plan an approval covers names the change
    /// record: kept, it no longer matches run.started's fields; recomputed, earlier sign-offs are stale.
    @Test func anApprovalDoesNotCarryOverToAnotherChangeRecord() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let started = try RepositoryRuns.runsheet(["run", "upgrade.md", "--auto", "--as", "alice", "--change", "CHG0000001"], in: dir)
        #expect(started.status == 3, "\(started.stderr)")
        let id = try #require(runs(dir).first)
        let path = dir.appendingPathComponent("runs/\(id)/journal.jsonl").path
        let events = try JournalFile.read(at: path).events
        #expect(try RepositoryRuns.runsheet(["verify", id], in: dir).status == 0)
        var first = events[0]
        first.data["change"] = .string("CHG0000002")
        try RepositoryRuns.rewrite(dir, id: id, [first] + events.dropFirst())
        let verify = try RepositoryRuns.runsheet(["verify", id], in: dir)
        #expect(verify.status == 1 && verify.stdout.contains("plan is not the hash of its runbook, parameters and change record"), "\(verify.stdout)")
        let plan = try #require(first.data["plan"]?.string)
        let changed = RunPlan(runbookSHA256: try #require(first.data["sha256"]?.string), includes: [:], params: [:], secrets: [:], change: "CHG0000002").hash
        #expect(changed != plan, "the plan names the change record")
    }

    @Test(arguments: [
        ("change-record: {required: yes}\n", "1:27", "must be true or false"),
        ("change-record: {required: true, pattern: 'CHG[0-9'}\n", "1:42", "not a valid regular expression"),
        ("change-record: {requried: true}\n", "1:17", "did you mean 'required'?"),
        ("change-record: required\n", "1:16", "must be a mapping"),
        ("normal:\n  change-record: {required: TRUE}\n", "2:29", "plain lower-case"),
    ])
    func aWrongChangeRecordSettingIsAnError(policy: String, position: String, words: String) throws {
        let dir = try repository(policy: policy)
        defer { try? FileManager.default.removeItem(at: dir) }
        let check = try Fixtures.runsheet(["check", "upgrade.md"], environment: ["NO_COLOR": "1"], directory: dir)
        #expect(check.status == 1, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains(".runsheet/policy.yaml:\(position)") && check.stdout.contains(words), "\(check.stdout)")
        let run = try RepositoryRuns.runsheet(["run", "upgrade.md", "--auto", "--as", "alice", "--change", "CHG0012345"], in: dir)
        #expect(run.status == 2 && runs(dir).isEmpty, "\(run.stderr)")
    }
}
