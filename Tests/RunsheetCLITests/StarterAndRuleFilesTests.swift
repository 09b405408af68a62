import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Issue 12, items 1 and 6 as the repository sees them: who may start a production run when
/// there is no roles file (nobody), and which rule files a run ran under, on record.
@Suite struct StarterAndRuleFilesTests {
    static let runbook = """
        ---
        runsheet: 1
        id: deploy
        title: Deploy
        ---

        # Deploy

        - [ ] Prepare
        - [ ] Switch traffic
          - Production: yes
        - [ ] Verify
        """

    func repository(roles: String?) throws -> URL {
        let dir = try Fixtures.temporaryDirectory()
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
        // A real Git folder, so the walk reads its HEAD, which is no rule file.
        try "ref: refs/heads/main\n".write(to: dir.appendingPathComponent(".git/HEAD"), atomically: true, encoding: .utf8)
        if let roles {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
            try roles.write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        }
        try Self.runbook.write(to: dir.appendingPathComponent("deploy.md"), atomically: true, encoding: .utf8)
        return dir
    }

    func runsheet(_ arguments: [String], in dir: URL, stdin: String? = nil) throws -> ProcessResult {
        try RepositoryRuns.runsheet(arguments, in: dir, stdin: stdin)
    }

    func data(_ event: [String: Any]?) -> [String: Any] { event?["data"] as? [String: Any] ?? [:] }

    @Test func withoutARolesFileNobodyStartsAProductionRun() throws {
        let dir = try repository(roles: nil)
        defer { try? FileManager.default.removeItem(at: dir) }
        let refused = try runsheet(["run", "deploy.md", "--as", "alice", "--auto"], in: dir)
        #expect(refused.status == 1)
        #expect(refused.stderr == "runsheet: step 'switch-traffic' of deploy.md is a production change, and only people a roles file names may start it, but no roles file applies; add .runsheet/roles.yaml at the repository root naming who may (docs/FORMAT.md, \"The roles file\")\n", "\(refused.stderr)")
        let runs = dir.appendingPathComponent("runs").path
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: runs)) ?? []).isEmpty, "nothing written")

        let plan = try runsheet(["run", "deploy.md", "--as", "alice", "--dry-run"], in: dir)
        #expect(plan.status == 0)
        #expect(plan.stdout.contains("a real run by alice would be refused: step 'switch-traffic' of deploy.md is a production change"), "\(plan.stdout)")

        // A checklist that changes no production still runs on the honour system.
        try Self.runbook.replacingOccurrences(of: "  - Production: yes\n", with: "").write(to: dir.appendingPathComponent("deploy.md"), atomically: true, encoding: .utf8)
        #expect(try runsheet(["run", "deploy.md", "--as", "alice"], in: dir, stdin: "done\ndone\ndone\n").status == 0)
    }

    @Test func theRuleFilesARunRanUnderAreOnRecord() throws {
        let roles = "roles:\n  operator: [alice]\n  sre: [bob]\n"
        let dir = try repository(roles: roles)
        defer { try? FileManager.default.removeItem(at: dir) }
        let policy = dir.appendingPathComponent(".runsheet/policy.yaml")
        try "normal:\n  approvers: 1\n".write(to: policy, atomically: true, encoding: .utf8)
        let started = try runsheet(["run", "deploy.md", "--as", "alice"], in: dir, stdin: "done\nquit\n")
        #expect(started.status == 3, "\(started.stderr)")
        let id = try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))
        var journal = try RepositoryRuns.events(dir, id: id)
        let recorded = data(journal.first)["rules"] as? [String: String]
        #expect(recorded == [".runsheet/roles.yaml": SHA256Hex.of(roles), ".runsheet/policy.yaml": SHA256Hex.of("normal:\n  approvers: 1\n")],
                "\(String(describing: recorded))")

        // Unchanged: nothing to record.
        #expect(try runsheet(["resume", id, "--as", "alice"], in: dir, stdin: "quit\n").stderr.contains("rule files changed") == false)
        journal = try RepositoryRuns.events(dir, id: id)
        #expect(journal.filter { $0["type"] as? String == "run.resumed" }.allSatisfy { data($0)["rules"] == nil })

        // The policy edited between two sessions: said on resume, recorded, shown by status.
        try "normal:\n  approvers: 2\n".write(to: policy, atomically: true, encoding: .utf8)
        let resumed = try runsheet(["resume", id, "--as", "alice"], in: dir, stdin: "quit\n")
        #expect(resumed.stderr.contains("runsheet: the rule files changed since this run recorded them (.runsheet/policy.yaml changed); the rules as they are now apply from here on"), "\(resumed.stderr)")
        journal = try RepositoryRuns.events(dir, id: id)
        let last = try #require(journal.last { $0["type"] as? String == "run.resumed" })
        #expect((data(last)["rules"] as? [String: String])?[".runsheet/policy.yaml"] == SHA256Hex.of("normal:\n  approvers: 2\n"))
        let status = try runsheet(["status", id], in: dir)
        #expect(status.stdout.contains("rules    changed ") && status.stdout.contains("seen by alice at resume: .runsheet/policy.yaml changed"), "\(status.stdout)")
        #expect(try runsheet(["verify", id], in: dir).status == 0)
    }

    /// Found by the adversary: a checklist started without production steps, given a production
    /// step between sessions, went on at resume although its starter could not start it now.
    @Test func productionStepsAddedLaterAreCheckedAtResume() throws {
        for roles in [nil, "roles:\n  sre: [bob]\n"] as [String?] {
            let dir = try repository(roles: roles)
            defer { try? FileManager.default.removeItem(at: dir) }
            let plain = Self.runbook.replacingOccurrences(of: "  - Production: yes\n", with: "")
            try plain.write(to: dir.appendingPathComponent("deploy.md"), atomically: true, encoding: .utf8)
            #expect(try runsheet(["run", "deploy.md", "--as", "mallory"], in: dir, stdin: "done\nquit\n").status == 3)
            let id = try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))
            let journal = dir.appendingPathComponent("runs/\(id)/journal.jsonl")
            let before = try Data(contentsOf: journal)

            try Self.runbook.write(to: dir.appendingPathComponent("deploy.md"), atomically: true, encoding: .utf8)
            let resumed = try runsheet(["resume", id, "--as", "mallory"], in: dir, stdin: "done\ndone\n")
            #expect(resumed.status == 1, "\(resumed.stdout)\(resumed.stderr)")
            #expect(resumed.stderr.contains("runsheet: run \(id) cannot go on, as its starter could not start it now: "), "\(resumed.stderr)")
            #expect(resumed.stderr.contains(roles == nil ? "no roles file applies" : "mallory is not named in"), "\(resumed.stderr)")
            #expect(try Data(contentsOf: journal) == before, "nothing written")
        }
    }
}
