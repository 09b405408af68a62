import Foundation
import RunsheetTestSupport
import Testing

/// The ways around the rules an adversary found with the binary and the docs alone (issue 12),
/// each played again through the real binary: what the user sees, and what the journal holds.
@Suite struct InsiderAttackTests {
    static let roles = "roles:\n  sre: [alice@example.com, bob@example.com, carol@example.com]\n  release-manager: [rita@example.com, alice@example.com]\n"
    static let freeze = "freezes:\n  - name: all time\n    from: 2000-01-01\n    to: 2999-12-31\n"

    func repository(_ files: [String: String], calendar: Bool = false) throws -> URL {
        let dir = try Fixtures.temporaryDirectory()
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        try Self.roles.write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        if calendar { try Self.freeze.write(to: dir.appendingPathComponent(".runsheet/calendar.yaml"), atomically: true, encoding: .utf8) }
        for (name, text) in files { try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return dir
    }

    func runsheet(_ arguments: [String], in dir: URL, stdin: String? = nil) throws -> ProcessResult {
        try Fixtures.runsheet(arguments + ["--runs-dir", "runs"], stdin: stdin, environment: ["NO_COLOR": "1"], directory: dir)
    }

    func journal(_ dir: URL) throws -> (id: String, text: String) {
        let id = try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))
        return (id, try String(contentsOf: dir.appendingPathComponent("runs/\(id)/journal.jsonl"), encoding: .utf8))
    }

    static let gate = """
        ---
        id: s
        roles: [sre]
        ---
        # S

        - [ ] Approve
          - Sign-off: 2 of sre
          - Separation: starter
        - [ ] Deploy

          ```bash run
          echo EVIL
          ```
        """

    /// B1: signers shown one file while another runs. A signature is refused while the runbook on
    /// disk differs from the one the run recorded.
    @Test func aSignatureIsRefusedWhileTheRunbookDiffersFromTheRun() throws {
        let dir = try repository(["s.md": Self.gate])
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try runsheet(["run", "s.md", "--as", "alice@example.com"], in: dir, stdin: "quit\n")
        let (id, _) = try journal(dir)
        try Self.gate.replacingOccurrences(of: "EVIL", with: "BENIGN").write(to: dir.appendingPathComponent("s.md"), atomically: true, encoding: .utf8)
        let signed = try runsheet(["sign", id, "approve", "--as", "bob@example.com"], in: dir)
        #expect(signed.status == 1, "\(signed.stdout)\(signed.stderr)")
        #expect(signed.stderr.contains("s.md changed since run \(id) last recorded it"), "\(signed.stderr)")
        #expect(!(try journal(dir).text.contains("signoff.signed")))
    }

    /// B2: a calendar exception no longer counts once the step or the plan changed.
    @Test func aCalendarExceptionIsBoundToTheStepAndThePlan() throws {
        let runbook = """
            ---
            id: p
            params:
              target: {default: canary}
            ---
            # P

            - [ ] Prep
            - [ ] Deploy
              - Id: deploy
              - Production: yes

              ```bash run
              echo "harmless {{target}}"
              ```
            """
        let dir = try repository(["p.md": runbook], calendar: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try runsheet(["run", "p.md", "--as", "alice@example.com"], in: dir, stdin: "done\nquit\n")
        let (id, _) = try journal(dir)
        #expect(try runsheet(["sign", id, "deploy", "--exception", "--reason", "harmless canary", "--as", "rita@example.com"], in: dir).status == 0)
        let result = try runsheet(["resume", id, "--param", "target=all-prod", "--as", "alice@example.com"], in: dir, stdin: "run\nquit\n")
        #expect(result.stdout.contains("production change blocked"), "\(result.stdout)")
        #expect(!(try journal(dir).text.contains("command.finished")))
    }

    /// B3: a run that left its rollback with goto does not end rolled back.
    @Test func leavingTheRollbackNeverEndsRolledBack() throws {
        let runbook = """
            ---
            id: h
            ---
            # H

            ## Main

            - [ ] Migrate
              - Id: mig
              - On failure: [Rollback](#rollback)

              ```bash run
              exit 3
              ```
            - [ ] Enable feature
              - Id: enable

            ## Rollback

            - [ ] Restore
            """
        let dir = try repository(["h.md": runbook])
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try runsheet(["run", "h.md", "--as", "alice@example.com"], in: dir, stdin: "run\ngoto enable\ndone\n")
        #expect(result.status == 1)
        #expect(result.stdout.contains("failed: the rollback did not complete: step 'restore' was never done"), "\(result.stdout)")
        #expect(try journal(dir).text.contains(#""outcome":"failed""#))
    }

    /// B4: `On failure: continue` of a section never carries a run past a failed gate.
    @Test func aFailedGateNeverContinuesOnward() throws {
        let runbook = """
            ---
            id: g
            roles: [sre]
            ---
            # G

            ## Main

            * On failure: continue

            - [ ] Approve
              - Sign-off: 2 of sre
              - Separation: starter
            - [ ] Deploy

              ```bash run
              echo DEPLOYED
              ```
            """
        let dir = try repository(["g.md": runbook])
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try runsheet(["run", "g.md", "--as", "alice@example.com"], in: dir, stdin: "fail meh\nrun\n")
        #expect(result.status == 1, "\(result.stdout)")
        #expect(result.stdout.contains("failed: gate 'approve' failed: meh"), "\(result.stdout)")
        let text = try journal(dir).text
        #expect(!text.contains(#""step":"deploy""#) && !text.contains("DEPLOYED"))
    }

    /// B5: forged signatures appended to the journal (a broken chain) are never acted on.
    @Test func resumeAndSignRefuseAJournalThatDoesNotVerify() throws {
        let dir = try repository(["s.md": Self.gate])
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try runsheet(["run", "s.md", "--as", "alice@example.com"], in: dir, stdin: "quit\n")
        let (id, text) = try journal(dir)
        let lines = text.split(separator: "\n")
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        let data = try #require(first["data"] as? [String: Any])
        let hashes = try #require(data["stepHashes"] as? [String: String])
        var forged = text
        for (offset, who) in ["bob@example.com", "carol@example.com"].enumerated() {
            let event: [String: Any] = ["actor": who, "hash": "", "host": "x", "prev": "bogus", "seq": lines.count + 1 + offset, "step": "approve",
                                        "time": "2026-12-03T12:00:00.000Z", "type": "signoff.signed", "via": "script",
                                        "data": ["plan": data["plan"] ?? "", "role": "sre", "sha256": data["sha256"] ?? "", "stepHash": hashes["approve"] ?? ""]]
            forged += String(decoding: try JSONSerialization.data(withJSONObject: event, options: [.sortedKeys]), as: UTF8.self) + "\n"
        }
        try forged.write(to: dir.appendingPathComponent("runs/\(id)/journal.jsonl"), atomically: true, encoding: .utf8)
        let resumed = try runsheet(["resume", id, "--as", "alice@example.com"], in: dir, stdin: "done\ndone\n")
        #expect(resumed.status == 1, "a refusal by a rule: \(resumed.stdout)\(resumed.stderr)")
        #expect(resumed.stderr.contains("journal.jsonl:\(lines.count + 1):") && resumed.stderr.contains("does not verify"), "\(resumed.stderr)")
        let signed = try runsheet(["sign", id, "approve", "--as", "carol@example.com"], in: dir)
        #expect(signed.status == 1 && signed.stderr.contains("does not verify"), "\(signed.stderr)")
        #expect(try journal(dir).text == forged, "nothing is appended")
    }

    /// B7 and B9: an included all-production runbook, and the steps within a production step, are
    /// production changes, so the freeze holds them.
    @Test func includedAndNestedProductionStepsAreHeldByTheFreeze() throws {
        let child = "---\nid: child\nproduction: true\n---\n# C\n\n- [ ] Child deploy\n\n  ```bash run\n  echo CHILD-DEPLOYED\n  ```\n"
        let parent = "---\nid: parent\n---\n# P\n\n- [ ] Do child\n  - Id: c\n  - Include: [child](child.md)\n- [ ] Deploy\n  - Production: yes\n  - [ ] Switch traffic\n\n    ```bash run\n    echo SWITCHED\n    ```\n"
        let dir = try repository(["child.md": child, "parent.md": parent], calendar: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try runsheet(["run", "parent.md", "--as", "alice@example.com"], in: dir, stdin: "done\nrun\nskip later\ngoto switch-traffic\nrun\nquit\n")
        #expect(result.stdout.contains("production change blocked"), "\(result.stdout)")
        let text = try journal(dir).text
        #expect(!text.contains("command.finished"), "\(text)")
        let started = try #require(text.split(separator: "\n").first)
        #expect(started.contains(#""production":["c/child-deploy","deploy","switch-traffic"]"#), "\(started)")
    }

    /// B12: invisible characters never make the starter a second person.
    @Test func zeroWidthCharactersDoNotMakeASecondPerson() throws {
        let dir = try repository(["s.md": Self.gate])
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try runsheet(["run", "s.md", "--as", "alice\u{200B}@example.com"], in: dir, stdin: "quit\n")
        let (id, _) = try journal(dir)
        let own = try runsheet(["sign", id, "approve", "--as", "alice@example.com"], in: dir)
        #expect(own.status == 1 && own.stderr.contains("started this run"), "\(own.stderr)")
        let soft = try runsheet(["sign", id, "approve", "--as", "al\u{00AD}ice@example.com"], in: dir)
        #expect(soft.status == 1 && soft.stderr.contains("started this run"), "\(soft.stderr)")
    }

    /// B13: a waiver stops counting once the person who waived drives the run.
    @Test func waivingThenDrivingDoesNotLetTheWaiverCount() throws {
        let dir = try repository(["s.md": Self.gate])
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try runsheet(["run", "s.md", "--as", "bob@example.com"], in: dir, stdin: "quit\n")
        let (id, _) = try journal(dir)
        #expect(try runsheet(["sign", id, "approve", "--waive", "--reason", "cab by phone", "--as", "rita@example.com"], in: dir).status == 0)
        let driven = try runsheet(["resume", id, "--as", "rita@example.com"], in: dir, stdin: "done\nrun\nquit\n")
        #expect(driven.stdout.contains("this gate still needs 2 more of sre"), "\(driven.stdout)")
        #expect(!(try journal(dir).text.contains("EVIL")))
    }

    /// B14: a step added with `add` before an executor-separated gate counts as carried out.
    @Test func addedStepsCountForExecutorSeparation() throws {
        let runbook = "---\nid: e\nroles: [sre]\n---\n# E\n\n- [ ] Prepare\n- [ ] Approve\n  - Sign-off: 1 of sre\n  - Separation: executor\n- [ ] Deploy\n"
        let dir = try repository(["e.md": runbook])
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try runsheet(["run", "e.md", "--as", "alice@example.com"], in: dir, stdin: "quit\n")
        let (id, _) = try journal(dir)
        _ = try runsheet(["resume", id, "--as", "bob@example.com"], in: dir, stdin: "add Extra manual step\nquit\n")
        let signed = try runsheet(["sign", id, "approve", "--as", "bob@example.com"], in: dir)
        #expect(signed.status == 1 && signed.stderr.contains("carried out steps"), "\(signed.stdout)\(signed.stderr)")
    }
}

/// B6 and B8: a governance key written so that it is no annotation (or no front-matter key) is an
/// error, never a silently dropped rule.
@Suite struct GovernanceLookalikeTests {
    static func runbook(_ annotation: String) -> String {
        "---\nid: n\nroles: [sre]\n---\n# N\n\n- [ ] Approve\n\(annotation)\n  - Separation: starter\n- [ ] Deploy\n\n  ```bash run\n  echo DEPLOYED\n  ```\n"
    }

    @Test(arguments: [
        "  - Sign-off:2 of sre", "  - **Sign-off:** 2 of sre", "  - Sign-off : 2 of sre", "  - Sign\u{2010}off: 2 of sre",
        "  - Sign\u{2013}off: 2 of sre", "  - Sign-off\u{FF1A} 2 of sre", "  - Sign-\u{200B}off: 2 of sre", "      - Sign-off: 2 of sre",
        "  - Sign-off - 2 of sre", "  - `Sign-off`: 2 of sre",
    ])
    func aGovernanceKeyWrittenAwryIsAnError(annotation: String) throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try Self.runbook(annotation).write(to: dir.appendingPathComponent("n.md"), atomically: true, encoding: .utf8)
        let check = try Fixtures.runsheet(["check", "n.md"], environment: ["NO_COLOR": "1"], directory: dir)
        #expect(check.status == 1, "\(annotation): \(check.stdout)")
        #expect(check.stdout.contains("n.md:8:") && check.stdout.contains("Sign-off") && check.stdout.contains("error"), "\(annotation): \(check.stdout)")
        let run = try Fixtures.runsheet(["run", "n.md", "--as", "alice", "--runs-dir", "runs"], stdin: "done\nrun\n",
                                        environment: ["NO_COLOR": "1"], directory: dir)
        #expect(run.status == 1 && !run.stdout.contains("DEPLOYED"), "\(annotation): \(run.stdout)")
        #expect(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path) == nil)
    }

    /// Found by the adversary: a governance annotation nested under another bullet of the step
    /// (a `Note:`, an `Estimate:`) shows on GitHub as if it applied, but was dropped without a word.
    @Test(arguments: ["  - Note: needs the usual approvals\n    - Sign-off: 2 of sre", "  - Estimate: 1m\n    - Production: yes",
                      "  - Note: see below\n    - Sign-off:2 of sre"])
    func aGovernanceAnnotationNestedInAnotherBulletIsAnError(annotation: String) throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try Self.runbook(annotation).write(to: dir.appendingPathComponent("n.md"), atomically: true, encoding: .utf8)
        let check = try Fixtures.runsheet(["check", "n.md"], environment: ["NO_COLOR": "1"], directory: dir)
        #expect(check.status == 1, "\(annotation): \(check.stdout)")
        #expect(check.stdout.contains("n.md:9:7: error: this '") && check.stdout.contains("' bullet is nested inside another bullet, so it is not an annotation of the step"),
                "\(annotation): \(check.stdout)")
        let run = try Fixtures.runsheet(["run", "n.md", "--as", "alice", "--runs-dir", "runs"], stdin: "done\nrun\n",
                                        environment: ["NO_COLOR": "1"], directory: dir)
        #expect(run.status == 1 && !run.stdout.contains("DEPLOYED"), "\(annotation): \(run.stdout)")
        #expect(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path) == nil)
    }

    @Test(arguments: ["Production: true", "prodution: true", "Class: emergency", "Calender: permissive.yaml"])
    func aMisspeltGovernanceFrontMatterKeyIsAnError(line: String) throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try "---\nid: fm\n\(line)\n---\n# FM\n\n- [ ] Deploy\n".write(to: dir.appendingPathComponent("fm.md"), atomically: true, encoding: .utf8)
        let check = try Fixtures.runsheet(["check", "fm.md"], environment: ["NO_COLOR": "1"], directory: dir)
        #expect(check.status == 1 && check.stdout.contains("fm.md:3:1: error: unknown front matter key"), "\(line): \(check.stdout)")
    }
}

/// B11: a `.runsheet/` folder beside a runbook below the repository root cannot override the
/// repository's rules: it is an error, and the root file is the one that applies.
@Suite struct NestedRuleFileTests {
    @Test func aNestedRolesFileIsAnErrorNotAnOverride() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for folder in [".git", ".runsheet", "team/.runsheet"] {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        try "roles:\n  sre: [bob, carol]\n".write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        try "roles:\n  sre: [mallory, bob]\n".write(to: dir.appendingPathComponent("team/.runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        try "---\nid: t\nroles: [sre]\n---\n# T\n\n- [ ] Approve\n  - Sign-off: sre\n- [ ] Deploy\n"
            .write(to: dir.appendingPathComponent("team/t.md"), atomically: true, encoding: .utf8)
        let check = try Fixtures.runsheet(["check", "team/t.md"], environment: ["NO_COLOR": "1"], directory: dir)
        #expect(check.status == 1 && check.stdout.contains("team/.runsheet/roles.yaml:1:1: error: this roles file is below the repository's own"), "\(check.stdout)")
        let run = try Fixtures.runsheet(["run", "team/t.md", "--as", "alice", "--runs-dir", "runs"], stdin: "done\n", environment: ["NO_COLOR": "1"], directory: dir)
        #expect(run.status == 2 && run.stderr.contains("team/.runsheet/roles.yaml"), "\(run.stdout)\(run.stderr)")
        #expect(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path) == nil)
    }

    /// Found by the adversary: an empty `.git` file in the folder (which Git refuses as a
    /// repository) made it a "repository root" with rules of its own. Only a `.git` that Git
    /// would take (a folder with HEAD, or a `gitdir:` file naming one) ends the walk.
    @Test(arguments: ["", "gitdir: /nowhere\n", "not a git file"])
    func aMadeUpGitFileMakesNoRepositoryRoot(content: String) throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for folder in [".git", ".runsheet", "team/.runsheet"] {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        try "ref: refs/heads/main\n".write(to: dir.appendingPathComponent(".git/HEAD"), atomically: true, encoding: .utf8)
        try "roles:\n  sre: [bob, carol]\n".write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        try "roles:\n  operator: [mallory]\n  sre: [m1, m2]\n".write(to: dir.appendingPathComponent("team/.runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        try content.write(to: dir.appendingPathComponent("team/.git"), atomically: true, encoding: .utf8)
        try "---\nid: t\nroles: [sre]\n---\n# T\n\n- [ ] Approve\n  - Sign-off: 2 of sre\n- [ ] Deploy\n  - Production: yes\n"
            .write(to: dir.appendingPathComponent("team/t.md"), atomically: true, encoding: .utf8)
        let check = try Fixtures.runsheet(["check", "team/t.md"], environment: ["NO_COLOR": "1"], directory: dir)
        #expect(check.status == 1 && check.stdout.contains("team/.runsheet/roles.yaml:1:1: error: this roles file is below the repository's own"), "\(check.stdout)")
        let run = try Fixtures.runsheet(["run", "team/t.md", "--as", "mallory", "--runs-dir", "runs"], stdin: "done\n", environment: ["NO_COLOR": "1"], directory: dir)
        #expect(run.status != 0 && run.status != 3, "\(run.stdout)\(run.stderr)")
        #expect(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path) == nil)
    }
}
