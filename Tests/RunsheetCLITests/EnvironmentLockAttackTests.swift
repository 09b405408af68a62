import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Issue 15, the environment lock under attack: each bypass an adversary found (a swapped
/// journal, a parameter changed at resume, a secret or misnamed lock parameter, merge keys and
/// empty names, includes, an unlock that leaves no trace of its rules or half releases) is played
/// through the real binary, and the lock holds, fail closed.
@Suite struct EnvironmentLockAttackTests {
    let base = EnvironmentLockTests()

    func runsheet(_ arguments: [String], in dir: URL, stdin: String? = nil) throws -> ProcessResult {
        try RepositoryRuns.runsheet(arguments, in: dir, stdin: stdin)
    }

    /// A runbook with one production step that runs `echo changing {{environment}}`.
    static func changing(id: String, front: String) -> String {
        "---\nrunsheet: 1\nid: \(id)\ntitle: \(id)\n\(front)\n---\n\n# \(id)\n\n- [ ] Change it\n  - Production: yes\n\n  ```bash run\n  echo changing {{environment}}\n  ```\n- [ ] Finish\n"
    }

    /// Swapping the holding run's journal for the journal of a run that ended (another run id,
    /// every hash right) does not free the lock: the journal must be the folder's own run's, else
    /// the run's lock cannot be checked and stays held (with its lock file, on its lock; without,
    /// on every lock).
    @Test(arguments: ["lock file kept", "lock file deleted"])
    func aJournalSwappedForAnEndedRunsJournalKeepsTheLock(how: String) throws {
        let dir = try base.repository(["hotfix.md": EnvironmentLockTests.runbook(id: "hotfix"),
                                       "other.md": EnvironmentLockTests.runbook(id: "other", service: "billing")])
        defer { try? FileManager.default.removeItem(at: dir) }
        let done = try runsheet(["run", "other.md", "--as", "bob"], in: dir, stdin: "done\ndone\ndone\n")
        #expect(done.status == 0, "\(done.stdout)\(done.stderr)")
        let other = try #require(base.runs(dir).first)
        let id = try base.pausedRun(dir)
        let journal = dir.appendingPathComponent("runs/\(id)/journal.jsonl")
        try FileManager.default.removeItem(at: journal)
        try FileManager.default.copyItem(at: dir.appendingPathComponent("runs/\(other)/journal.jsonl"), to: journal)
        if how == "lock file deleted" {
            let locks = dir.appendingPathComponent("runs/.locks")
            for file in try FileManager.default.contentsOfDirectory(atPath: locks.path) where file.hasSuffix(".lock") {
                try FileManager.default.removeItem(at: locks.appendingPathComponent(file))
            }
        }
        let swapped = try Data(contentsOf: journal)
        let second = try runsheet(["run", "hotfix.md", "--as", "carol"], in: dir, stdin: "done\nquit\n")
        #expect(second.status == 5, "\(how): \(second.stdout)\(second.stderr)")
        let line = base.oneSentence(second.stderr)
        #expect(line.contains("is held by run \(id), whose journal") && line.contains("runsheet keeps a lock whose holder it cannot check"), "\(how): \(line)")
        if how == "lock file kept" {
            #expect(line.hasPrefix("runsheet: checkout / prod is held by run \(id), whose journal is the journal of another run (\(other))"), "\(line)")
        }
        #expect(Set(base.runs(dir)) == [other, id], "the refused run left a folder behind")
        #expect(try Data(contentsOf: journal) == swapped)
    }

    /// A parameter given at `resume` (with --param or in the environment), or an edit to the
    /// runbook, that names another environment than the one the run locked is refused, exit 1,
    /// before anything is written or run: the run would change production under a lock on staging.
    @Test(arguments: ["--param", "environment variable", "runbook edit"])
    func aResumeMayNotMoveTheRunPastTheLockItTook(how: String) throws {
        let p1 = Self.changing(id: "p1", front: "service: checkout\nenvironment: prod\nparams:\n  environment:\n    default: staging")
        let dir = try base.repository(["p1.md": p1])
        defer { try? FileManager.default.removeItem(at: dir) }
        let holder = try base.pausedRun(dir)
        let started = try runsheet(["run", "p1.md", "--as", "bob"], in: dir, stdin: "quit\n")
        #expect(started.status == 3, "\(started.stdout)\(started.stderr)")
        let id = try #require(Set(base.runs(dir)).subtracting([holder]).first)
        let data = try #require(try RepositoryRuns.events(dir, id: id).first?["data"] as? [String: Any])
        #expect(data["lock"] as? [String: String] == ["service": "checkout", "environment": "staging", "mode": "exclusive"])
        let before = try base.journal(dir, id)
        let resumed: ProcessResult
        switch how {
        case "--param":
            resumed = try runsheet(["resume", id, "--as", "bob", "--param", "environment=prod"], in: dir, stdin: "run\nquit\n")
        case "environment variable":
            resumed = try Fixtures.runsheet(["resume", id, "--as", "bob", "--runs-dir", "runs"], stdin: "run\nquit\n",
                                            environment: ["NO_COLOR": "1", "RUNSHEET_PARAM_environment": "prod"], directory: dir)
        default:
            try p1.replacingOccurrences(of: "service: checkout", with: "service: billing").write(to: dir.appendingPathComponent("p1.md"), atomically: true, encoding: .utf8)
            resumed = try runsheet(["resume", id, "--as", "bob"], in: dir, stdin: "run\nquit\n")
        }
        #expect(resumed.status == 1, "\(how): \(resumed.stdout)\(resumed.stderr)")
        // An edited runbook is first named as changed, on a line of its own.
        let lines = resumed.stderr.trimmingCharacters(in: .newlines).split(separator: "\n").map(String.init)
        #expect(lines.count == (how == "runbook edit" ? 2 : 1), "\(resumed.stderr)")
        let line = base.oneSentence(lines.last ?? "")
        let target = how == "runbook edit" ? "billing / staging" : "checkout / prod"
        #expect(line.hasPrefix("runsheet: run \(id) took the lock on checkout / staging, but with these parameters and the runbook as it is now it would change \(target);"), "\(line)")
        #expect(line.contains("so nothing was written"), "\(line)")
        #expect(!resumed.stdout.contains("changing prod"), "\(resumed.stdout)")
        #expect(try base.journal(dir, id) == before, "the refused resume wrote to the journal")
    }

    /// A run started without production steps took no lock; given production steps between
    /// sessions, its resume would change production without one: refused, exit 1, nothing written.
    @Test func aRunThatTookNoLockMayNotGainProductionStepsAtResume() throws {
        let notes = "---\nrunsheet: 1\nid: notes\ntitle: notes\nservice: checkout\nenvironment: prod\n---\n\n# notes\n\n- [ ] Look\n- [ ] Change\n"
        let dir = try base.repository(["notes.md": notes])
        defer { try? FileManager.default.removeItem(at: dir) }
        let started = try runsheet(["run", "notes.md", "--as", "bob"], in: dir, stdin: "done\nquit\n")
        #expect(started.status == 3, "\(started.stdout)\(started.stderr)")
        let id = try #require(base.runs(dir).first)
        let holder = try base.pausedRun(dir)
        #expect(holder != id)
        try notes.replacingOccurrences(of: "- [ ] Change\n", with: "- [ ] Change\n  - Production: yes\n").write(to: dir.appendingPathComponent("notes.md"), atomically: true, encoding: .utf8)
        let before = try base.journal(dir, id)
        let resumed = try runsheet(["resume", id, "--as", "bob"], in: dir, stdin: "done\nquit\n")
        #expect(resumed.status == 1, "\(resumed.stdout)\(resumed.stderr)")
        let line = base.oneSentence(String(resumed.stderr.trimmingCharacters(in: .newlines).split(separator: "\n").last ?? ""))
        #expect(line == "runsheet: run \(id) took no environment lock at its start, as it had no production steps then, but the runbook as it is now has them and would change checkout / prod; " +
                "a resume may not change production without its lock, so nothing was written: end this run and start a new one, which takes the lock", "\(line)")
        #expect(try base.journal(dir, id) == before, "the refused resume wrote to the journal")
    }

    /// A parameter that names the lock may not be secret: the lock is shown in clear in the
    /// journal, `status` and the lock files. An error at its place; no run starts.
    @Test func aSecretLockParameterIsAnError() throws {
        let secret = Self.changing(id: "secret", front: "service: checkout\nparams:\n  environment:\n    secret: true")
        let dir = try base.repository(["secret.md": secret])
        defer { try? FileManager.default.removeItem(at: dir) }
        let check = try Fixtures.runsheet(["check", "secret.md"], directory: dir)
        #expect(check.status == 1, "\(check.stdout)\(check.stderr)")
        #expect((check.stdout + check.stderr).contains("secret.md:7:3: error: parameter 'environment' names the run's environment lock, which the journal, 'runsheet status' and the lock files show in clear, so it may not be secret"),
                "\(check.stdout)\(check.stderr)")
        let run = try runsheet(["run", "secret.md", "--as", "alice", "--param", "environment=prodx"], in: dir, stdin: "quit\n")
        #expect(run.status == 1, "\(run.stdout)\(run.stderr)")
        #expect(!(run.stdout + run.stderr).contains("prodx"))
        #expect(base.runs(dir).isEmpty, "a run started and wrote the secret environment to its journal")
    }

    /// A parameter whose name differs from `service` or `environment` only in letter case does
    /// not name the lock, while the commands use it: an error, and no run starts past the lock.
    @Test(arguments: ["Environment", "ENVIRONMENT", "Service"])
    func aLockParameterInAnotherCaseIsAnError(name: String) throws {
        let front = "service: checkout\nenvironment: staging\nparams:\n  \(name):\n    default: prod"
        let text = Self.changing(id: "cased", front: front).replacingOccurrences(of: "{{environment}}", with: "{{\(name)}}")
        let dir = try base.repository(["cased.md": text])
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try base.pausedRun(dir)
        let check = try Fixtures.runsheet(["check", "cased.md"], directory: dir)
        #expect(check.status == 1, "\(check.stdout)\(check.stderr)")
        let lower = name.lowercased()
        #expect((check.stdout + check.stderr).contains("cased.md:8:3: error: parameter '\(name)' does not name the run's \(lower) lock (only '\(lower)' in lower case does)"),
                "\(check.stdout)\(check.stderr)")
        let run = try runsheet(["run", "cased.md", "--as", "bob"], in: dir, stdin: "run\nquit\n")
        #expect(run.status == 1, "\(run.stdout)\(run.stderr)")
        #expect(!run.stdout.contains("changing prod"))
        #expect(base.runs(dir) == [id])
    }

    /// YAML merge keys are not merged, so the service and environment they bring would be dropped;
    /// an empty, blank, invisible or null service names nothing. Each is an error at its place,
    /// and the run does not start while checkout / prod is held.
    @Test(arguments: [
        ("<<: {service: checkout, environment: prod}", 6),
        ("base: &b {service: checkout, environment: prod}\n<<: *b", 7),
        ("service: \"\"\nenvironment: prod", 6),
        ("service: \" \"\nenvironment: prod", 6),
        ("service: \"\\u200b\"\nenvironment: prod", 6),
        ("service: ~\nenvironment: prod", 6),
        ("service: checkout\nenvironment: null", 7),
        ("service: checkout\nenvironment: prod\nparams:\n  version:\n    <<: {secret: true}", 10),
    ])
    func mergeKeysAndEmptyNamesAreErrors(front: String, line: Int) throws {
        let text = "---\nrunsheet: 1\nid: merged\ntitle: merged\nproduction: true\n\(front)\n---\n\n# merged\n\n- [ ] Change\n"
        let dir = try base.repository(["merged.md": text])
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try base.pausedRun(dir)
        let check = try Fixtures.runsheet(["check", "merged.md"], directory: dir)
        #expect(check.status == 1, "\(front): \(check.stdout)\(check.stderr)")
        let said = check.stdout + check.stderr
        #expect(said.contains("merged.md:\(line):") && (said.contains("may not use the YAML merge key '<<'") || said.contains("is empty; a run with production steps locks the")),
                "\(front): \(said)")
        let run = try runsheet(["run", "merged.md", "--as", "bob"], in: dir, stdin: "done\nquit\n")
        #expect(run.status == 1, "\(front): \(run.stdout)\(run.stderr)")
        #expect(base.runs(dir) == [id], "\(front): a run started past the lock")
    }

    /// A `service` or `environment` parameter given empty or blank would lock something else:
    /// exit 2, nothing started.
    @Test func aBlankLockParameterIsRefused() throws {
        let targeted = Self.changing(id: "targeted", front: "service: checkout\nparams:\n  environment:\n    default: staging")
        let dir = try base.repository(["targeted.md": targeted])
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try base.pausedRun(dir)
        let run = try runsheet(["run", "targeted.md", "--as", "bob", "--param", "environment=\u{200B}"], in: dir, stdin: "run\nquit\n")
        #expect(run.status == 2, "\(run.stdout)\(run.stderr)")
        #expect(base.oneSentence(run.stderr) == "runsheet: parameter 'environment' is empty; a run with production steps locks the environment it names, so give it one", "\(run.stderr)")
        #expect(base.runs(dir) == [id])
    }

    /// An included runbook with production steps for another service or environment than the
    /// including one would change it without its lock: an error at the include; no run starts.
    @Test(arguments: ["", "service: checkout\nenvironment: staging\n", "service: checkout\nparams:\n  environment:\n    default: prod\n"])
    func anIncludedRunbookForAnotherEnvironmentIsAnError(parentFront: String) throws {
        let child = "---\nrunsheet: 1\nid: inc-child\nservice: checkout\nenvironment: prod\nproduction: true\n---\n\n# Child\n\n- [ ] Change prod\n  ```bash run\n  echo prod-change\n  ```\n"
        let parent = "---\nrunsheet: 1\nid: inc-parent\n\(parentFront)---\n\n# Parent\n\n- [ ] Do the child\n  - Include: [Child](inc-child.md)\n"
        let dir = try base.repository(["inc-child.md": child, "inc-parent.md": parent])
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try base.pausedRun(dir)
        let check = try Fixtures.runsheet(["check", "inc-parent.md"], directory: dir)
        #expect(check.status == 1, "\(check.stdout)\(check.stderr)")
        #expect((check.stdout + check.stderr).contains("error: included runbook 'inc-child.md' has production steps for "), "\(check.stdout)\(check.stderr)")
        #expect((check.stdout + check.stderr).contains("and a run locks only the"), "\(check.stdout)\(check.stderr)")
        let run = try runsheet(["run", "inc-parent.md", "--as", "bob", "--auto"], in: dir)
        #expect(run.status == 1, "\(run.stdout)\(run.stderr)")
        #expect(!run.stdout.contains("prod-change"))
        #expect(base.runs(dir) == [id], "the including runbook started past the lock")
        // The same include in a runbook that locks checkout / prod is fine.
        let same = "---\nrunsheet: 1\nid: inc-parent\nservice: CHECKOUT\nenvironment: prod\n---\n\n# Parent\n\n- [ ] Do the child\n  - Include: [Child](inc-child.md)\n"
        try same.write(to: dir.appendingPathComponent("inc-parent.md"), atomically: true, encoding: .utf8)
        #expect(try Fixtures.runsheet(["check", "inc-parent.md"], directory: dir).status == 0)
    }

    /// `lock.released` records the rule files the release was decided under (as `run.started`'s
    /// `rules`), so a roles file edited for the unlock and put back shows in the journal, and
    /// `audit` shows them; the resume that takes the lock again says so with one `runsheet:`.
    @Test func lockReleasedRecordsTheRulesAndTheResumeSaysSoOnce() throws {
        let dir = try base.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try base.pausedRun(dir)
        let rolesPath = dir.appendingPathComponent(".runsheet/roles.yaml")
        let original = try Data(contentsOf: rolesPath)
        // A temporary edit makes bob a release manager for the unlock, then is put back.
        try "roles:\n  operator: [alice, bob, carol]\n  release-manager: [rita, bob]\n".write(to: rolesPath, atomically: true, encoding: .utf8)
        let edited = SHA256Hex.of(Array(try Data(contentsOf: rolesPath)))
        let unlock = try runsheet(["unlock", "checkout", "prod", "--as", "bob", "--reason", "needed it"], in: dir)
        #expect(unlock.status == 0, "\(unlock.stdout)\(unlock.stderr)")
        try original.write(to: rolesPath)
        let released = try #require(try RepositoryRuns.events(dir, id: id).last)
        #expect(released["type"] as? String == "lock.released")
        let data = try #require(released["data"] as? [String: Any])
        #expect(data["rules"] as? [String: String] == [".runsheet/roles.yaml": edited], "\(data)")
        let startedRules = try #require((try RepositoryRuns.events(dir, id: id).first?["data"] as? [String: Any])?["rules"] as? [String: String])
        #expect(startedRules[".runsheet/roles.yaml"] != edited)
        let audit = try runsheet(["audit", id], in: dir)
        #expect(audit.stdout.contains("rules=.runsheet/roles.yaml@\(edited.prefix(12))"), "\(audit.stdout)")
        #expect(try runsheet(["verify", id], in: dir).status == 0)

        let again = try runsheet(["resume", id, "--as", "alice"], in: dir, stdin: "quit\n")
        #expect(again.status == 3, "\(again.stdout)\(again.stderr)")
        #expect(again.stderr.contains("runsheet: run \(id) took the lock on checkout / prod again (it had been released)"), "\(again.stderr)")
        #expect(!again.stderr.contains("runsheet: runsheet:"), "\(again.stderr)")
        #expect(try base.types(dir, id).suffix(3) == ["run.resumed", "lock.taken", "run.paused"])
    }

    /// A lock folder that is a symbolic link is refused in one sentence that says so, exit 2,
    /// and no run starts.
    @Test func aSymlinkedLockFolderIsRefusedAndSaysSo() throws {
        let dir = try base.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let elsewhere = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: elsewhere) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("runs"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: dir.appendingPathComponent("runs/.locks"), withDestinationURL: elsewhere)
        let run = try runsheet(["run", "deploy.md", "--as", "alice"], in: dir, stdin: "quit\n")
        #expect(run.status == 2, "\(run.stdout)\(run.stderr)")
        let line = base.oneSentence(run.stderr)
        #expect(line.hasPrefix("runsheet: ") && line.contains("runs/.locks is a symbolic link, not a folder, and runsheet refuses it, so nothing was written"), "\(line)")
        #expect(base.runs(dir).isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere.path).isEmpty)
    }

    /// Unlock is all or nothing: with two runs sharing the lock, one of them started by the
    /// person unlocking, it is refused (exit 1) and neither journal changes.
    @Test func unlockOfASharedLockIsAllOrNothing() throws {
        let roles = "roles:\n  operator: [alice, bob, rita]\n  release-manager: [rita]\n"
        let dir = try base.repository(["canary.md": EnvironmentLockTests.runbook(id: "canary", extra: "concurrent: true"),
                                       "probe.md": EnvironmentLockTests.runbook(id: "probe", extra: "concurrent: true")], roles: roles)
        defer { try? FileManager.default.removeItem(at: dir) }
        let canary = try base.pausedRun(dir, "canary.md", as: "alice")
        let probe = try base.pausedRun(dir, "probe.md", as: "rita")
        let before = (try base.journal(dir, canary), try base.journal(dir, probe))
        let unlock = try runsheet(["unlock", "checkout", "prod", "--as", "rita", "--reason", "both stuck"], in: dir)
        #expect(unlock.status == 1, "\(unlock.stdout)\(unlock.stderr)")
        #expect(base.oneSentence(unlock.stderr).contains("rita started run \(probe) and may not release its lock"), "\(unlock.stderr)")
        #expect(unlock.stdout.isEmpty, "\(unlock.stdout)")
        #expect(try base.journal(dir, canary) == before.0, "one of the two was released")
        #expect(try base.journal(dir, probe) == before.1)
    }

    /// Unlock of a run whose runbook is gone says so in one sentence (not a guess at another
    /// file), exit 2, and releases nothing.
    @Test func unlockOfARunWhoseRunbookIsGoneSaysSo() throws {
        let dir = try base.repository(["hotfix.md": EnvironmentLockTests.runbook(id: "hotfix")])
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try base.pausedRun(dir)
        try FileManager.default.removeItem(at: dir.appendingPathComponent("deploy.md"))
        let before = try base.journal(dir, id)
        let unlock = try runsheet(["unlock", "checkout", "prod", "--as", "rita", "--reason", "abandoned"], in: dir)
        #expect(unlock.status == 2, "\(unlock.stdout)\(unlock.stderr)")
        let line = base.oneSentence(unlock.stderr)
        #expect(line.hasPrefix("runsheet: run \(id) holds the lock on checkout / prod, and unlock decides by the rules (roles, calendar) that apply to its runbook, which is gone ("), "\(line)")
        #expect(line.contains("so nothing was released") && !line.contains("did you mean") && !line.contains("hotfix"), "\(line)")
        #expect(try base.journal(dir, id) == before)
    }
}
