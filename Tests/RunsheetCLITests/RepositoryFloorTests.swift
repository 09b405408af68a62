import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Issue 12, items 4 and 5: the repository's policy, calendar and roles are the floor. Neither
/// `run --class` nor a runbook's front matter can take a gate, an approver or a freeze away; each
/// test plays an insider's attempt through the real binary and reads what the operator sees and
/// what the journal holds.
@Suite struct RepositoryFloorTests {
    /// Two commands around a gate that needs two SREs and a release manager; the last step is a
    /// production change. Unattended (`--auto`) a run goes as far as the rules let it.
    static let body = """
        # API deploy

        - [ ] Build
          ```bash run
          true
          ```
        - [ ] Approve
          - Sign-off: 2 of sre
          - Sign-off: release-manager
        - [ ] Deploy
          - Production: yes
          ```bash run
          true
          ```
        """

    /// A repository with a roles file, the given policy and calendar files, and the runbook at
    /// `runbook` with `front` as its front matter; `files` adds more, relative to the repository.
    func repository(front: String = "class: normal", policy: String? = nil, calendar: String? = nil,
                    runbook: String = "api-deploy.md", files: [String: String] = [:]) throws -> URL {
        let dir = try Fixtures.temporaryDirectory()
        var all = files
        all[".runsheet/roles.yaml"] = "roles:\n  sre: [sam, sue]\n  release-manager: [rita]\n  cab: [carl]\n  operator: [olly]\n"
        if let policy { all[".runsheet/policy.yaml"] = policy }
        if let calendar { all[".runsheet/calendar.yaml"] = calendar }
        // The service and environment named, so `check --strict` has no `unnamed-lock` to warn of.
        all[runbook] = "---\n\(front)\nservice: api\nenvironment: production\n---\n\(Self.body)"
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
        for (path, text) in all {
            let url = dir.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        return dir
    }

    func runsheet(_ arguments: [String], in dir: URL, stdin: String? = nil) throws -> ProcessResult {
        try Fixtures.runsheet(arguments + ["--runs-dir", "runs"], stdin: stdin, directory: dir)
    }

    func check(_ file: String = "api-deploy.md", in dir: URL) throws -> ProcessResult {
        try Fixtures.runsheet(["check", "--strict", file], directory: dir)
    }

    /// Run folders, started or half-started: a refused run leaves none.
    func runs(_ dir: URL) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("runs").path)) ?? []
    }

    func events(_ dir: URL) throws -> [RunEvent] {
        let id = try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))
        return try JournalFile.read(at: dir.appendingPathComponent("runs/\(id)/journal.jsonl").path).events
    }

    // MARK: - Item 4: --class

    @Test func aLessStrictClassWithoutThePolicysPermissionIsRefusedBeforeTheRunStarts() throws {
        let dir = try repository(policy: "standard: {gates: none}\n", files: ["release.md": """
            ---
            release: api-1
            class: normal
            owner: alice
            ---
            # API 1

            ## Requires

            - [API deploy](api-deploy.md)

            """])
        let standard = "--class standard asks less of api-deploy.md than its class normal (gate 'approve' is skipped); " +
            ".runsheet/policy.yaml does not permit that, so the run was not started: " +
            "add 'downgrade: {to: [standard], roles: [ROLE]}' under normal there for the people who may choose it, or run it as normal"
        // Letter case and padding are read as the front matter's class is, and get the same check.
        for spelling in ["standard", "STANDARD", " Standard "] {
            for mode in ["--auto", "--dry-run"] {
                let refused = try runsheet(["run", "api-deploy.md", "--class", spelling, mode, "--as", "olly"], in: dir)
                #expect(refused.status == 1, "\(spelling) \(mode): \(refused.stdout)\(refused.stderr)")
                #expect(refused.stderr == "runsheet: \(standard)\n", "\(spelling) \(mode)")
                #expect(refused.stdout.isEmpty)
            }
        }
        // Emergency is less strict here too: one SRE instead of two.
        let emergency = try runsheet(["run", "api-deploy.md", "--class", "emergency", "--auto", "--as", "olly"], in: dir)
        #expect(emergency.status == 1)
        #expect(emergency.stderr.contains("--class emergency asks less of api-deploy.md than its class normal (gate 'approve' needs 1 of sre instead of 2); .runsheet/policy.yaml does not permit that"))
        #expect(runs(dir).isEmpty, "no run was started: \(runs(dir))")

        // With no run behind it, the release is not ready.
        let readiness = try runsheet(["readiness", "release.md"], in: dir)
        #expect(readiness.status == 1, "\(readiness.stdout)")
        #expect(readiness.stdout.contains("NO-GO"))
    }

    @Test func aPermittedDowngradeNeedsTheRoleAndIsRecordedInRunStarted() throws {
        let policy = """
            standard: {gates: none}
            normal:
              downgrade: {to: [standard], roles: [release-manager]}
            """
        let dir = try repository(policy: policy)
        // Someone without the role (an SRE, or nobody the roles file knows) cannot use the permission.
        for person in ["sam", "mallory"] {
            let refused = try runsheet(["run", "api-deploy.md", "--class", "standard", "--auto", "--as", person], in: dir)
            #expect(refused.status == 1)
            #expect(refused.stderr == "runsheet: --class standard asks less of api-deploy.md than its class normal (gate 'approve' is skipped); " +
                ".runsheet/policy.yaml lets only a release-manager choose it, and \(person) holds none of those roles in .runsheet/roles.yaml, " +
                "so the run was not started: ask rita to start it, or run it as normal\n")
        }
        // The permission names standard, not emergency.
        let other = try runsheet(["run", "api-deploy.md", "--class", "emergency", "--auto", "--as", "rita"], in: dir)
        #expect(other.status == 1 && other.stderr.contains("--class emergency asks less of api-deploy.md than its class normal (gate 'approve' needs 1 of sre instead of 2); .runsheet/policy.yaml does not permit that"))
        #expect(runs(dir).isEmpty)

        // The release manager, in any letter case, may; the gate is skipped and the journal says why.
        let permitted = try runsheet(["run", "api-deploy.md", "--class", "standard", "--auto", "--as", "Rita"], in: dir)
        #expect(permitted.status == 0, "\(permitted.stdout)\(permitted.stderr)")
        let events = try events(dir)
        let started = try #require(events.first)
        #expect(started.type == .runStarted && started.actor == "Rita")
        #expect(started.data["class"]?.string == "standard")
        #expect(started.data["declaredClass"]?.string == "normal")
        let downgrade = try #require(started.data["downgrade"]?.object)
        #expect(downgrade["role"]?.string == "release-manager")
        #expect(downgrade["to"]?.array?.compactMap(\.string) == ["standard"])
        #expect(downgrade["roles"]?.array?.compactMap(\.string) == ["release-manager"])
        let skipped = try #require(events.first { $0.type == .stepSkipped && $0.step == "approve" })
        #expect(skipped.data["reason"]?.string == "the standard class policy does not apply this gate")
        let id = try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))
        let status = try runsheet(["status", id], in: dir)
        #expect(status.stdout.contains("class    standard (the runbook declares normal; chosen by Rita as release-manager, as .runsheet/policy.yaml permits)"))
        #expect(try runsheet(["verify", id], in: dir).status == 0)
    }

    @Test func aStricterClassIsAlwaysAllowedAndRecorded() throws {
        let dir = try repository(policy: "major: {approvers: 3}\n")
        let run = try runsheet(["run", "api-deploy.md", "--class", "major", "--auto", "--as", "olly"], in: dir)
        #expect(run.status == 3, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("3 of sre and 3 of release-manager (major policy)"))
        let started = try #require(try events(dir).first)
        #expect(started.data["class"]?.string == "major")
        #expect(started.data["declaredClass"]?.string == "normal")
        #expect(started.data["downgrade"] == nil)
    }

    @Test func aRunbookCannotPermitItsOwnDowngrade() throws {
        let front = """
            class: normal
            policy:
              standard: {gates: none}
              normal:
                downgrade: {to: [standard], roles: [sre]}
            """
        let dir = try repository(front: front, policy: "standard: {gates: none}\n")
        let check = try check(in: dir)
        #expect(check.status == 1)
        #expect(check.stdout.contains("api-deploy.md:6:5: error: the front matter's normal policy permits a downgrade; only .runsheet/policy.yaml can say who may run a runbook under a less strict class [weakens-governance]"), "\(check.stdout)")
        let run = try runsheet(["run", "api-deploy.md", "--class", "standard", "--auto", "--as", "sam"], in: dir)
        #expect(run.status == 1)
        #expect(run.stderr.contains("api-deploy.md has 1 error(s); fix them first"))
        #expect(runs(dir).isEmpty)
    }

    // MARK: - Item 5: front matter

    @Test func frontMatterPolicyCannotRemoveGatesOrApprovers() throws {
        // With no policy file, the built-in defaults are the floor: every gate applies.
        let noGates = try repository(front: "class: normal\npolicy:\n  normal: {gates: none}")
        let check = try check(in: noGates)
        #expect(check.status == 1)
        #expect(check.stdout.contains("api-deploy.md:4:12: error: the front matter's normal policy skips what the repository policy applies (gate 'approve' is skipped); a runbook may add gates, never remove them [weakens-governance]"), "\(check.stdout)")
        let run = try runsheet(["run", "api-deploy.md", "--auto", "--as", "olly"], in: noGates)
        #expect(run.status == 1)
        #expect(run.stderr.contains("api-deploy.md:4:12: error: the front matter's normal policy skips"))
        #expect(runs(noGates).isEmpty)

        // Fewer approvers than the repository's two.
        let fewer = try repository(front: "class: normal\npolicy:\n  normal: {approvers: 1}", policy: "normal: {approvers: 2}\n")
        let lowered = try self.check(in: fewer)
        #expect(lowered.status == 1)
        #expect(lowered.stdout.contains("api-deploy.md:4:12: error: the front matter's normal policy asks for fewer approvers than the repository policy (gate 'approve' needs 1 of sre instead of 2; gate 'approve' needs 1 of release-manager instead of 2); a runbook may raise approver counts, never lower them [weakens-governance]"), "\(lowered.stdout)")
        #expect(try runsheet(["run", "api-deploy.md", "--auto", "--as", "olly"], in: fewer).status == 1)
        #expect(runs(fewer).isEmpty)

        // Stricter is what front matter is for.
        let more = try repository(front: "class: normal\npolicy:\n  normal: {approvers: 3}", policy: "normal: {approvers: 2}\n")
        #expect(try self.check(in: more).status == 0)
        let waiting = try runsheet(["run", "api-deploy.md", "--auto", "--as", "olly"], in: more)
        #expect(waiting.status == 3)
        #expect(waiting.stdout.contains("3 of sre and 3 of release-manager (normal policy)"), "\(waiting.stdout)")
    }

    @Test func emergencyStaysTheBreakGlassPathWithItsFollowUp() throws {
        // Not even the repository's policy can take emergency's gates or follow-up away.
        let repository = try repository(front: "class: emergency", policy: "emergency: {gates: none, follow-up: none}\n")
        let check = try check(in: repository)
        #expect(check.status == 1)
        #expect(check.stdout.contains(".runsheet/policy.yaml:1:13: error: the emergency class is the break-glass path and all its gates apply; set 'approvers' instead of 'gates' [policy-file]"), "\(check.stdout)")
        #expect(check.stdout.contains(".runsheet/policy.yaml:1:26: error: the emergency class always owes a follow-up review; name who records it (follow-up: ROLE) instead of none [policy-file]"))
        // A policy file with errors stops the run as bad input (exit 2), like any rule file that cannot be used.
        #expect(try runsheet(["run", "api-deploy.md", "--auto", "--as", "olly"], in: repository).status == 2)
        #expect(runs(repository).isEmpty)

        // Nor a runbook's.
        let runbook = try self.repository(front: "class: emergency\npolicy:\n  emergency: {follow-up: none}")
        let own = try self.check(in: runbook)
        #expect(own.status == 1)
        #expect(own.stdout.contains("api-deploy.md:4:15: error: the front matter's emergency policy drops the follow-up review the repository policy requires [weakens-governance]"), "\(own.stdout)")
        #expect(try runsheet(["run", "api-deploy.md", "--auto", "--as", "olly"], in: runbook).status == 1)
        #expect(runs(runbook).isEmpty)
    }

    @Test func aCalendarInFrontMatterAddsToTheRepositorysAndNeverReplacesIt() throws {
        let freeze = "freezes:\n  - {name: year-end, from: 2000-01-01, to: 2999-12-31}\n"
        let always = "windows:\n  - {name: always, from: \"00:00\", to: \"24:00\"}\n"
        let front = """
            class: standard
            calendar: ../permissive.yaml
            windows:
              - {name: always, from: "00:00", to: "24:00"}
            """
        let dir = try repository(front: front, policy: "standard: {gates: none}\n", calendar: freeze,
                                 runbook: "runbooks/api-deploy.md", files: ["permissive.yaml": always])
        // Naming another calendar is allowed: it can only add.
        let check = try check("runbooks/api-deploy.md", in: dir)
        #expect(check.status == 0, "\(check.stdout)")
        let run = try runsheet(["run", "runbooks/api-deploy.md", "--auto", "--as", "olly"], in: dir)
        #expect(run.status == 3, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("inside the change freeze 'year-end' (2000-01-01 to 2999-12-31 "))
        #expect(run.stdout.contains("production step 'deploy' needs a calendar exception"))
        let state = RunState.fold(try events(dir))
        #expect(state.record("build").status == .done)
        #expect(state.record("deploy").status == .active)
        #expect(!(try events(dir)).contains { $0.step == "deploy" && ($0.type == .stepCompleted || $0.type == .commandFinished) })

        // A calendar the runbook names cannot say who grants exceptions.
        let grants = try repository(front: "class: normal\ncalendar: mine.yaml", calendar: freeze,
                                    files: ["mine.yaml": "exception-roles: [sre]\n" + always])
        let refused = try self.check(in: grants)
        #expect(refused.status == 1)
        #expect(refused.stdout.contains("api-deploy.md:3:1: error: the calendar named here sets exception-roles (sre); only the repository calendar (.runsheet/calendar.yaml) says who may grant exceptions (now release-manager) [weakens-governance]"), "\(refused.stdout)")
        #expect(try runsheet(["run", "api-deploy.md", "--auto", "--as", "olly"], in: grants).status == 1)
        #expect(runs(grants).isEmpty)
    }

    @Test func theDeclaredClassMustBeOneTheRepositoryAllows() throws {
        let policy = "allowed-classes: [normal, major]\n"
        for releaseClass in ["emergency", "standard"] {
            let dir = try repository(front: "class: \(releaseClass)", policy: policy)
            let check = try check(in: dir)
            #expect(check.status == 1)
            #expect(check.stdout.contains("api-deploy.md:2:1: error: class '\(releaseClass)' is not one .runsheet/policy.yaml allows runbooks to declare (normal, major) [weakens-governance]"), "\(check.stdout)")
            let run = try runsheet(["run", "api-deploy.md", "--auto", "--as", "olly"], in: dir)
            #expect(run.status == 1)
            #expect(run.stderr.contains("api-deploy.md has 1 error(s); fix them first"))
            #expect(runs(dir).isEmpty)
        }
        // The default class counts too.
        let unnamed = try repository(front: "title: API deploy", policy: "allowed-classes: [major]\n")
        #expect(try check(in: unnamed).stdout.contains("api-deploy.md:1:1: error: class 'normal' (the default, as the front matter names none) is not one .runsheet/policy.yaml allows runbooks to declare (major) [weakens-governance]"))
        // An allowed class compiles and runs.
        let allowed = try repository(front: "class: Major", policy: policy)
        #expect(try check(in: allowed).status == 0)
        // And a runbook cannot widen the list itself.
        let widened = try repository(front: "class: emergency\npolicy:\n  allowed-classes: [emergency]", policy: policy)
        let own = try check(in: widened)
        #expect(own.stdout.contains("api-deploy.md:4:3: error: a runbook cannot say which classes runbooks may declare; only .runsheet/policy.yaml can [weakens-governance]"), "\(own.stdout)")
    }

    @Test func frontMatterRolesDeclareRolesButGrantNobodyMembership() throws {
        let dir = try repository(front: "class: normal\nroles:\n  release-manager: [olly]\n  sre: Site reliability")
        let check = try check(in: dir)
        #expect(check.status == 1)
        #expect(check.stdout.contains("api-deploy.md:4:20: error: 'roles' in the front matter declares role names with a description; who holds 'release-manager' is said only in .runsheet/roles.yaml [weakens-governance]"), "\(check.stdout)")
        #expect(!check.stdout.contains("'sre'"))
        #expect(try runsheet(["run", "api-deploy.md", "--auto", "--as", "olly"], in: dir).status == 1)
        #expect(runs(dir).isEmpty)
    }
}
