import Foundation
import RunsheetTestSupport
import Testing

/// Issue 12, item 7: a signature covers the whole plan (the runbook, every included file, the
/// parameter values, a secret only as a salted scrypt digest). A change during the run is a
/// `run.changed` event, and the gate must be signed again.
@Suite struct PlanBindingTests {
    static let runbook = """
        ---
        runsheet: 1
        id: deploy
        title: Deploy
        roles: [sre]
        params:
          version:
            default: "1.0"
          token:
            secret: true
        ---

        # Deploy

        - [ ] Prepare
        - [ ] Approve version {{version}}
          - Sign-off: 2 of sre
          - Separation: starter
        - [ ] Deploy {{version}}
          ```sh run
          echo deploying {{version}}
          ```
        - [ ] Smoke tests
          - Include: [Smoke](smoke.md)
        """

    static let smoke = """
        ---
        runsheet: 1
        id: smoke
        title: Smoke
        ---

        # Smoke

        - [ ] Check the front page
        """

    func repository() throws -> URL {
        let dir = try Fixtures.temporaryDirectory()
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        try "roles:\n  sre: [alice, bob, carol]\n".write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        try Self.runbook.write(to: dir.appendingPathComponent("deploy.md"), atomically: true, encoding: .utf8)
        try Self.smoke.write(to: dir.appendingPathComponent("smoke.md"), atomically: true, encoding: .utf8)
        return dir
    }

    func runsheet(_ arguments: [String], in dir: URL, stdin: String? = nil) throws -> ProcessResult {
        try RepositoryRuns.runsheet(arguments, in: dir, stdin: stdin)
    }

    func events(_ dir: URL, id: String) throws -> [[String: Any]] { try RepositoryRuns.events(dir, id: id) }

    func data(_ event: [String: Any]?) -> [String: Any] { event?["data"] as? [String: Any] ?? [:] }

    /// Starts a run with the two signatures in place, the operator waiting at the gate.
    func signedRun(_ dir: URL) throws -> String {
        let started = try runsheet(["run", "deploy.md", "--as", "alice", "--param", "token=hunter2"], in: dir, stdin: "done\nquit\n")
        #expect(started.status == 3, "\(started.stdout)\(started.stderr)")
        let id = try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))
        #expect(try runsheet(["sign", id, "approve-version-version", "--as", "bob"], in: dir).status == 0)
        #expect(try runsheet(["sign", id, "approve-version-version", "--as", "carol"], in: dir).status == 0)
        return id
    }

    @Test func aParameterChangedAtResumeMakesTheSignaturesStale() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try signedRun(dir)
        let journalText = try String(contentsOf: dir.appendingPathComponent("runs/\(id)/journal.jsonl"), encoding: .utf8)
        #expect(!journalText.contains("hunter2"))
        let started = data(try events(dir, id: id).first)
        #expect((started["secrets"] as? [String: String])?["token"]?.hasPrefix("scrypt$16384$8$1$") == true)
        #expect((started["plan"] as? String)?.count == 64)
        #expect((try events(dir, id: id)).filter { $0["type"] as? String == "signoff.signed" }.allSatisfy { data($0)["plan"] as? String == started["plan"] as? String })

        let resumed = try runsheet(["resume", id, "--as", "alice", "--param", "version=6.6.6", "--param", "token=hunter2"], in: dir, stdin: "done\nquit\n")
        #expect(resumed.status == 3, "\(resumed.stdout)\(resumed.stderr)")
        #expect(resumed.stdout.contains("not counted: the plan changed after it was signed (parameter version: 1.0 → 6.6.6)"), "\(resumed.stdout)")
        #expect(resumed.stdout.contains("this gate still needs 2 more of sre"), "\(resumed.stdout)")
        var journal = try events(dir, id: id)
        let changed = try #require(journal.first { $0["type"] as? String == "run.changed" })
        #expect(data(changed)["reasons"] as? [String] == ["parameter version: 1.0 → 6.6.6"])
        #expect((data(changed)["params"] as? [String: String])?["version"] == "6.6.6")
        #expect(!journal.contains { $0["type"] as? String == "step.completed" && $0["step"] as? String == "approve-version-version" })
        #expect(!journal.contains { $0["type"] as? String == "command.finished" })

        let status = try runsheet(["status", id], in: dir)
        #expect(status.stdout.contains("params   token=••••, version=6.6.6") || status.stdout.contains("version=6.6.6"), "\(status.stdout)")
        #expect(status.stdout.contains("parameter version: 1.0 → 6.6.6; earlier sign-offs no longer count"), "\(status.stdout)")
        let report = try runsheet(["report", id, "--format", "md"], in: dir)
        #expect(report.stdout.contains("| Plan changed |") && report.stdout.contains("version=6.6.6"), "\(report.stdout)")

        // Bob signs the new plan: not "already signed". With Carol again the gate opens on 6.6.6.
        let again = try runsheet(["sign", id, "approve-version-version", "--as", "bob"], in: dir)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try runsheet(["sign", id, "approve-version-version", "--as", "carol"], in: dir).status == 0)
        let deployed = try runsheet(["resume", id, "--as", "alice", "--param", "token=hunter2"], in: dir, stdin: "done\nrun\nquit\n")
        #expect(deployed.stdout.contains("deploying 6.6.6"), "\(deployed.stdout)")
        journal = try events(dir, id: id)
        #expect(journal.filter { $0["type"] as? String == "run.changed" }.count == 1, "the same secret and values change nothing")
    }

    @Test func aSecretChangedAtResumeIsAChangeWithoutItsValue() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try signedRun(dir)
        let resumed = try runsheet(["resume", id, "--as", "alice", "--param", "token=letmein"], in: dir, stdin: "done\nquit\n")
        #expect(resumed.stdout.contains("the plan changed after it was signed (secret parameter token changed)"), "\(resumed.stdout)")
        let text = try String(contentsOf: dir.appendingPathComponent("runs/\(id)/journal.jsonl"), encoding: .utf8)
        #expect(!text.contains("letmein") && !text.contains("hunter2"))
        let changed = try #require(try events(dir, id: id).first { $0["type"] as? String == "run.changed" })
        #expect(data(changed)["reasons"] as? [String] == ["secret parameter token changed"])
    }

    /// A command after the gate edited mid-run, once the run is past the gate: the run goes back
    /// to the gate, which must be signed again. An included file edited is a change too.
    @Test func editingACommandOrAnIncludedFileMidRunIsAChange() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try signedRun(dir)
        #expect(try runsheet(["resume", id, "--as", "alice", "--param", "token=hunter2"], in: dir, stdin: "done\nquit\n").status == 3)
        #expect(try events(dir, id: id).contains { $0["type"] as? String == "step.completed" && $0["step"] as? String == "approve-version-version" })

        let edited = Self.runbook.replacingOccurrences(of: "echo deploying {{version}}", with: "echo deploying {{version}} && echo extra")
        try edited.write(to: dir.appendingPathComponent("deploy.md"), atomically: true, encoding: .utf8)
        let resumed = try runsheet(["resume", id, "--as", "alice", "--param", "token=hunter2"], in: dir, stdin: "run\ndone\nquit\n")
        #expect(resumed.stdout.contains("approve-version-version"), "\(resumed.stdout)")
        #expect(resumed.stdout.contains("the runbook changed (changed: deploy-version)"), "\(resumed.stdout)")
        var journal = try events(dir, id: id)
        let changed = try #require(journal.last { $0["type"] as? String == "run.changed" })
        #expect(data(changed)["reasons"] as? [String] == ["the runbook changed (changed: deploy-version)"])
        #expect(data(changed)["steps"] as? [String] == ["deploy-version"])
        #expect(journal.contains { $0["type"] as? String == "cursor.moved" && data($0)["reason"] as? String == "gate" })
        #expect(!journal.contains { $0["type"] as? String == "command.finished" })

        try Self.smoke.replacingOccurrences(of: "Check the front page", with: "Check the login page")
            .write(to: dir.appendingPathComponent("smoke.md"), atomically: true, encoding: .utf8)
        _ = try runsheet(["resume", id, "--as", "alice", "--param", "token=hunter2"], in: dir, stdin: "quit\n")
        journal = try events(dir, id: id)
        let included = try #require(journal.last { $0["type"] as? String == "run.changed" })
        let reasons = data(included)["reasons"] as? [String] ?? []
        #expect(reasons.contains { $0.hasPrefix("the runbook changed") } == false, "\(reasons)")
        #expect(reasons.contains { $0.hasPrefix("included file") && $0.hasSuffix("smoke.md changed") }, "\(reasons)")
    }

    /// A gate passed on signatures that a later change made stale is not shown as done: `status`
    /// marks it ↺ and says it must be signed again, until it is.
    @Test func statusMarksAGateWhoseApprovalLapsed() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try signedRun(dir)
        #expect(try runsheet(["resume", id, "--as", "alice", "--param", "token=hunter2"], in: dir, stdin: "done\nquit\n").status == 3)
        var status = try runsheet(["status", id], in: dir)
        #expect(status.stdout.contains("  ✓ approve-version-version  alice"), "\(status.stdout)")
        #expect(!status.stdout.contains("APPROVAL LAPSED"))

        _ = try runsheet(["resume", id, "--as", "alice", "--param", "version=6.6.6", "--param", "token=hunter2"], in: dir, stdin: "quit\n")
        status = try runsheet(["status", id], in: dir)
        #expect(status.stdout.contains("  ↺ approve-version-version  alice"), "\(status.stdout)")
        #expect(status.stdout.contains("(APPROVAL LAPSED: it no longer holds under the run's plan and rules as they are now: it needs 2 more of sre; the plan changed after it was signed (parameter version: 1.0 → 6.6.6); it must be approved again)"), "\(status.stdout)")
        #expect(!status.stdout.contains("  ✓ approve-version-version"))
        #expect(try events(dir, id: id).contains { $0["type"] as? String == "run.changed" })
        // The reports say so too (found by the adversary: they showed the gate as ✓).
        let md = try runsheet(["report", id, "--format", "md"], in: dir).stdout
        let row = try #require(md.split(separator: "\n").first { $0.contains("`approve-version-version`") && !$0.hasPrefix("| At |") }, "\(md)")
        #expect(row.contains("| ↺ |") && row.contains("APPROVAL LAPSED: the gate must be approved again"), "\(row)")
        let json = try runsheet(["report", id, "--format", "json"], in: dir).stdout
        #expect(json.contains("\"approvalLapsed\":true") || json.contains("\"approvalLapsed\" : true"), "\(json)")

        // Signed again on the new plan: done again.
        #expect(try runsheet(["sign", id, "approve-version-version", "--as", "bob"], in: dir).status == 0)
        #expect(try runsheet(["sign", id, "approve-version-version", "--as", "carol"], in: dir).status == 0)
        status = try runsheet(["status", id], in: dir)
        #expect(status.stdout.contains("  ✓ approve-version-version  alice") && !status.stdout.contains("APPROVAL LAPSED"), "\(status.stdout)")
    }

    /// A secret changed and then changed back is the plan that was signed: the journal's latest
    /// plan is the first one again, and the first signatures count once more.
    @Test func aSecretChangedBackRestoresTheSignedPlan() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try signedRun(dir)
        let original = data(try events(dir, id: id).first)["plan"] as? String
        _ = try runsheet(["resume", id, "--as", "alice", "--param", "token=letmein"], in: dir, stdin: "quit\n")
        let back = try runsheet(["resume", id, "--as", "alice", "--param", "token=hunter2"], in: dir, stdin: "done\nquit\n")
        let changes = try events(dir, id: id).filter { $0["type"] as? String == "run.changed" }
        #expect(changes.count == 2)
        #expect(data(changes.first)["plan"] as? String != original)
        #expect(data(changes.last)["plan"] as? String == original, "changed back, the plan is the signed one again")
        #expect(data(changes.last)["reasons"] as? [String] == ["secret parameter token changed"])
        #expect(!back.stdout.contains("this gate still needs"), "\(back.stdout)")
        #expect(try events(dir, id: id).contains { $0["type"] as? String == "step.completed" && $0["step"] as? String == "approve-version-version" })
    }

    /// Found by the adversary: a line break inside a value spelled out a plan line of its own, so
    /// `notes="Routine deploy\nparam target=production" target=staging` and `notes="Routine deploy"
    /// target="production\nparam target=staging"` had one plan hash, and the signatures on the first
    /// deployed the second. Values with a line break are now written quoted.
    @Test func aLineBreakInAValueCannotForgeAPlanLine() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        try "roles:\n  sre: [alice, bob, carol]\n".write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        try """
            ---
            params:
              notes: {default: ""}
              target: {default: staging}
            roles: [sre]
            ---
            # Deploy

            - [ ] Approve
              - Id: approve
              - Sign-off: 2 of sre
              - Separation: starter
            - [ ] Ship it
              - Id: ship
              - Production: yes

              ```bash run
              echo "deploying to: {{target}}"
              ```
            """.write(to: dir.appendingPathComponent("deploy.md"), atomically: true, encoding: .utf8)
        let started = try runsheet(["run", "deploy.md", "--as", "alice", "--param", "notes=Routine deploy\nparam target=production",
                                    "--param", "target=staging"], in: dir, stdin: "quit\n")
        #expect(started.status == 3, "\(started.stderr)")
        let id = try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))
        #expect(try runsheet(["sign", id, "approve", "--as", "bob"], in: dir).status == 0)
        #expect(try runsheet(["sign", id, "approve", "--as", "carol"], in: dir).status == 0)
        let resumed = try runsheet(["resume", id, "--as", "alice", "--param", "notes=Routine deploy",
                                    "--param", "target=production\nparam target=staging"], in: dir, stdin: "done\nrun\nquit\n")
        #expect(!resumed.stdout.contains("deploying to: production"), "\(resumed.stdout)")
        #expect(resumed.stdout.contains("this gate still needs 2 more of sre"), "\(resumed.stdout)")
        let journal = try events(dir, id: id)
        let changed = try #require(journal.first { $0["type"] as? String == "run.changed" })
        #expect(data(changed)["plan"] as? String != data(journal.first)["plan"] as? String)
        #expect(!journal.contains { $0["type"] as? String == "command.finished" || $0["type"] as? String == "command.started" })
    }
}
