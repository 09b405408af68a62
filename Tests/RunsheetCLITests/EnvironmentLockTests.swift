import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Issue 15, concurrency control: a run with production steps holds a lock on its service and
/// environment while it is open (paused and crashed runs included); another such run is refused,
/// exit 5, naming who holds it, since when and the run. Real processes, real kills, real races.
@Suite struct EnvironmentLockTests {
    static func runbook(id: String, service: String? = "checkout", environment: String? = "prod", extra: String = "") -> String {
        var front = ["runsheet: 1", "id: \(id)", "title: \(id)", "production: true"]
        if let service { front.append("service: \"\(service)\"") }
        if let environment { front.append("environment: \"\(environment)\"") }
        if !extra.isEmpty { front.append(extra) }
        return "---\n" + front.joined(separator: "\n") + "\n---\n\n# \(id)\n\n- [ ] Prepare\n- [ ] Switch\n- [ ] Verify\n"
    }

    /// A repository with `deploy.md` (checkout / prod) and any `more` runbooks; alice and bob
    /// operate, rita is the release manager (the default exception role).
    func repository(_ more: [String: String] = [:], roles: String? = nil) throws -> URL {
        let dir = try Fixtures.temporaryDirectory()
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        try (roles ?? "roles:\n  operator: [alice, bob, carol]\n  release-manager: [rita]\n")
            .write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        try Self.runbook(id: "deploy").write(to: dir.appendingPathComponent("deploy.md"), atomically: true, encoding: .utf8)
        for (name, text) in more { try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return dir
    }

    func runsheet(_ arguments: [String], in dir: URL, stdin: String? = nil) throws -> ProcessResult {
        try RepositoryRuns.runsheet(arguments, in: dir, stdin: stdin)
    }

    func runs(_ dir: URL) -> [String] { RepositoryRuns.runs(in: dir) }

    func journal(_ dir: URL, _ id: String) throws -> Data {
        try Data(contentsOf: dir.appendingPathComponent("runs/\(id)/journal.jsonl"))
    }

    func types(_ dir: URL, _ id: String) throws -> [String] {
        try RepositoryRuns.events(dir, id: id).compactMap { $0["type"] as? String }
    }

    /// Starts `file` as `who`, marks the first step done and quits: a paused run; its id.
    func pausedRun(_ dir: URL, _ file: String = "deploy.md", as who: String = "alice") throws -> String {
        let before = Set(runs(dir))
        let start = try runsheet(["run", file, "--as", who], in: dir, stdin: "done\nquit\n")
        #expect(start.status == 3, "\(start.stdout)\(start.stderr)")
        return try #require(Set(runs(dir)).subtracting(before).first)
    }

    func oneSentence(_ text: String) -> String {
        let line = text.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!line.contains("\n"), "one sentence: \(line)")
        return line
    }

    /// A paused run holds the lock: a second production run on the same service and environment,
    /// of another runbook, is refused with exit 5 and one sentence naming the lock, the run, who
    /// took it and when, and how to see or release it; it leaves no run behind. The journal of
    /// the holder records the lock in `run.started` (format 1.3).
    @Test func aSecondRunIsRefusedWhileAPausedRunHoldsTheLock() throws {
        let dir = try repository(["hotfix.md": Self.runbook(id: "hotfix")])
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try pausedRun(dir)
        let started = try #require(try RepositoryRuns.events(dir, id: id).first?["data"] as? [String: Any])
        #expect(started["schema"] as? String == "runsheet.journal/1.3")
        #expect(started["lock"] as? [String: String] == ["service": "checkout", "environment": "prod", "mode": "exclusive"])
        let before = try journal(dir, id)

        let second = try runsheet(["run", "hotfix.md", "--as", "bob"], in: dir, stdin: "done\nquit\n")
        #expect(second.status == 5, "\(second.stdout)\(second.stderr)")
        let line = oneSentence(second.stderr)
        #expect(line.hasPrefix("runsheet: checkout / prod is locked by run \(id) (taken by alice at 20"), "\(line)")
        #expect(line.contains("now at step 'switch'") && line.contains("so nothing was started"), "\(line)")
        #expect(line.contains("'runsheet status' lists the locks, 'runsheet resume \(id)' continues that run"), "\(line)")
        #expect(line.contains("'runsheet unlock checkout prod --reason \"...\"'"), "\(line)")
        #expect(runs(dir) == [id], "the refused run left a folder behind")
        #expect(try journal(dir, id) == before)
    }

    /// Service and environment compare as people's names do: letter case, surrounding and
    /// repeated white space, full-width letters and invisible characters make no other lock.
    @Test(arguments: ["PROD", " prod ", "Ｐｒｏｄ", "pro\u{200B}d", "Prod\t"])
    func variantsOfTheNameAreTheSameLock(environment: String) throws {
        let hotfix = Self.runbook(id: "hotfix", service: " CHECKOUT", environment: environment)
        let dir = try repository(["hotfix.md": hotfix])
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try pausedRun(dir)
        let second = try runsheet(["run", "hotfix.md", "--as", "bob"], in: dir, stdin: "done\nquit\n")
        #expect(second.status == 5, "\(environment.debugDescription): \(second.stdout)\(second.stderr)")
        #expect(second.stderr.contains("is locked by run \(id)"), "\(second.stderr)")
        #expect(runs(dir) == [id])
    }

    /// A misspelt `service` or `environment` key would lock something else (the runbook's id, or
    /// `production`) and let the run past a lock on the real one: it is an error at its place,
    /// and the run does not start while another holds checkout / prod.
    @Test(arguments: ["Service: checkout", "servce: checkout", "enviroment: prod", "Environment: prod", "concurent: true"])
    func aMisspeltLockKeyIsAnError(line: String) throws {
        let hotfix = "---\nrunsheet: 1\nid: hotfix\ntitle: hotfix\nproduction: true\n\(line)\n---\n\n# hotfix\n\n- [ ] Prepare\n"
        let dir = try repository(["hotfix.md": hotfix])
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try pausedRun(dir)
        let check = try Fixtures.runsheet(["check", "hotfix.md"], directory: dir)
        #expect(check.status == 1, "\(line): \(check.stdout)\(check.stderr)")
        #expect((check.stdout + check.stderr).contains("hotfix.md:6:1: error: unknown front matter key"), "\(check.stdout)\(check.stderr)")
        let second = try runsheet(["run", "hotfix.md", "--as", "bob"], in: dir, stdin: "done\nquit\n")
        #expect(second.status != 0 && second.status != 3, "\(line): \(second.stdout)\(second.stderr)")
        #expect(runs(dir) == [id], "the misspelt runbook started a run")
    }

    /// Second adversary round: a YAML tag other than a plain string (`!!binary cHJvZA==` reads as
    /// its base64 text) would lock another name than the one meant: an error at its place, and
    /// no run starts while checkout / prod is held.
    @Test(arguments: ["environment: !!binary cHJvZA==", "environment: !custom prod", "service: !!binary Y2hlY2tvdXQ="])
    func aTaggedLockNameIsAnError(line: String) throws {
        let other = line.hasPrefix("service") ? "environment: prod" : "service: checkout"
        let hotfix = "---\nrunsheet: 1\nid: hotfix\ntitle: hotfix\nproduction: true\n\(other)\n\(line)\n---\n\n# hotfix\n\n- [ ] Prepare\n"
        let dir = try repository(["hotfix.md": hotfix])
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try pausedRun(dir)
        let check = try Fixtures.runsheet(["check", "hotfix.md"], directory: dir)
        #expect(check.status == 1 && check.stdout.contains("hotfix.md:7:"), "\(line): \(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains("has the YAML tag"), "\(check.stdout)")
        let second = try runsheet(["run", "hotfix.md", "--as", "bob"], in: dir, stdin: "done\nquit\n")
        #expect(second.status != 0 && second.status != 3, "\(line): \(second.stdout)\(second.stderr)")
        #expect(runs(dir) == [id], "the tagged runbook started a run")
    }

    /// A parameter named `environment` is the run's environment (as metrics read it), so the
    /// same runbook may run on staging while production is locked, and not on production.
    @Test func theEnvironmentParameterNamesTheLock() throws {
        let targeted = Self.runbook(id: "targeted", environment: nil, extra: "params:\n  environment:\n    choices: [staging, prod]")
        let dir = try repository(["targeted.md": targeted])
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try pausedRun(dir)
        let staging = try runsheet(["run", "targeted.md", "--as", "bob", "--param", "environment=staging"], in: dir, stdin: "quit\n")
        #expect(staging.status == 3, "\(staging.stdout)\(staging.stderr)")
        let prod = try runsheet(["run", "targeted.md", "--as", "bob", "--param", "environment=prod"], in: dir, stdin: "quit\n")
        #expect(prod.status == 5, "\(prod.stdout)\(prod.stderr)")
        #expect(prod.stderr.contains("checkout / prod is locked by run \(id)"), "\(prod.stderr)")
        #expect(runs(dir).count == 2)
    }

    /// A production runbook that names no service locks on its own id, and without an
    /// environment on `production`: two runs of it do not overlap.
    @Test func aRunbookThatNamesNoServiceLocksOnItsID() throws {
        let dir = try repository(["bare.md": Self.runbook(id: "bare", service: nil, environment: nil)])
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try pausedRun(dir, "bare.md")
        let second = try runsheet(["run", "bare.md", "--as", "bob"], in: dir, stdin: "quit\n")
        #expect(second.status == 5, "\(second.stdout)\(second.stderr)")
        #expect(second.stderr.contains("bare / production is locked by run \(id)"), "\(second.stderr)")
        // deploy.md (checkout / prod) is another lock.
        #expect(try runsheet(["run", "deploy.md", "--as", "bob"], in: dir, stdin: "quit\n").status == 3)
    }

    /// Completed and aborted runs free the lock; a run without production steps takes none.
    @Test func anEndedRunFreesTheLock() throws {
        let checklist = "---\nid: notes\nservice: checkout\nenvironment: prod\n---\n\n# Notes\n\n- [ ] Write\n"
        let dir = try repository(["hotfix.md": Self.runbook(id: "hotfix"), "notes.md": checklist])
        defer { try? FileManager.default.removeItem(at: dir) }
        let done = try runsheet(["run", "deploy.md", "--as", "alice"], in: dir, stdin: "done\ndone\ndone\n")
        #expect(done.status == 0, "\(done.stdout)\(done.stderr)")
        let id = try pausedRun(dir, "hotfix.md", as: "bob")
        let notes = try runsheet(["run", "notes.md", "--as", "carol"], in: dir, stdin: "quit\n")
        #expect(notes.status == 3, "no lock for a checklist: \(notes.stderr)")
        let abort = try runsheet(["resume", id, "--as", "bob"], in: dir, stdin: "abort wrong version\n")
        #expect(abort.status == 1, "\(abort.stdout)\(abort.stderr)")
        let again = try runsheet(["run", "deploy.md", "--as", "carol"], in: dir, stdin: "quit\n")
        #expect(again.status == 3, "\(again.stdout)\(again.stderr)")
        // The lock files of the ended runs were cleared when the next run took the lock.
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("runs/.locks").path).filter { $0.hasSuffix(".lock") }
        #expect(files.count == 1 && files[0].hasSuffix(".lock") && !files[0].contains(id), "\(files)")
    }

    /// `concurrent: true` runs share the lock with each other, never with a run that holds it alone.
    @Test func concurrentRunsShareTheLockButNotWithAnExclusiveOne() throws {
        let dir = try repository(["probe.md": Self.runbook(id: "probe", extra: "concurrent: true"),
                                  "canary.md": Self.runbook(id: "canary", extra: "concurrent: true")])
        defer { try? FileManager.default.removeItem(at: dir) }
        let probe = try pausedRun(dir, "probe.md", as: "alice")
        _ = try pausedRun(dir, "canary.md", as: "bob")
        let exclusive = try runsheet(["run", "deploy.md", "--as", "carol"], in: dir, stdin: "quit\n")
        #expect(exclusive.status == 5, "\(exclusive.stdout)\(exclusive.stderr)")
        #expect(exclusive.stderr.contains("checkout / prod is locked by run"), "\(exclusive.stderr)")
        let started = try #require(try RepositoryRuns.events(dir, id: probe).first?["data"] as? [String: Any])
        #expect((started["lock"] as? [String: String])?["mode"] == "shared")
        #expect(runs(dir).count == 2)

        let other = try repository(["probe.md": Self.runbook(id: "probe", extra: "concurrent: true")])
        defer { try? FileManager.default.removeItem(at: other) }
        let id = try pausedRun(other)
        let shared = try runsheet(["run", "probe.md", "--as", "bob"], in: other, stdin: "quit\n")
        #expect(shared.status == 5 && shared.stderr.contains("is locked by run \(id)"), "\(shared.stderr)")
    }

    /// The lock belongs to the open run, not to a process: a run whose session was killed with
    /// SIGKILL in the middle still holds it, and `status` lists it.
    @Test func aKilledRunStillHoldsTheLock() throws {
        let dir = try repository(["hotfix.md": Self.runbook(id: "hotfix")])
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try RunningRunsheet(["run", "deploy.md", "--runs-dir", "runs", "--as", "alice"], directory: dir)
        #expect(first.waitFor("▶ [0/3] prepare"), "\(first.printed)\(first.errors)")
        #expect(first.send("done"))
        #expect(first.waitFor("▶ [1/3] switch"), "\(first.printed)")
        _ = first.kill()
        let id = try #require(runs(dir).first)
        #expect(try types(dir, id).last == "step.started" && !(try types(dir, id).contains("run.ended")))
        let second = try runsheet(["run", "hotfix.md", "--as", "bob"], in: dir, stdin: "quit\n")
        #expect(second.status == 5, "\(second.stdout)\(second.stderr)")
        #expect(second.stderr.contains("checkout / prod is locked by run \(id) (taken by alice at "), "\(second.stderr)")
        #expect(runs(dir) == [id])
        let status = try runsheet(["status"], in: dir)
        #expect(status.stdout.contains("1 environment lock held"), "\(status.stdout)")
        let row = try #require(status.stdout.split(separator: "\n").first { $0.hasPrefix("checkout") })
        #expect(row.contains("prod") && row.contains(id) && row.contains("alice") && row.contains("at switch"), "\(row)")
    }

    /// Runs started at the same instant are decided one after the other: exactly one of them
    /// starts, every other is refused with exit 5, round after round (three runbooks that spell
    /// the environment three ways).
    @Test func ofRunsStartedAtTheSameInstantExactlyOneStarts() throws {
        let spellings = ["prod", "PROD", " Prod "]
        let more = Dictionary(uniqueKeysWithValues: (1...3).map { ("racer\($0).md", Self.runbook(id: "racer\($0)", environment: spellings[$0 - 1])) })
        for round in 1...12 {
            let dir = try repository(more)
            defer { try? FileManager.default.removeItem(at: dir) }
            let calls = (1...3).map { ["run", "racer\($0).md", "--as", ["alice", "bob", "carol"][$0 - 1]] }
            let results = try simultaneously(calls, in: dir, stdin: "quit\n")
            let statuses = results.map(\.status).sorted()
            #expect(statuses == [3, 5, 5], "round \(round): \(results.map { "\($0.status) \($0.stderr)" })")
            #expect(runs(dir).count == 1, "round \(round): \(runs(dir))")
            for refused in results where refused.status == 5 {
                #expect(refused.stderr.contains(" is locked by run \(runs(dir).first ?? "?") (taken by "), "\(refused.stderr)")
            }
        }
    }

    /// After an unlock, the released run's resume and a new run race for the lock: exactly one
    /// of them gets it, and the journals agree with what each was told.
    @Test func aResumeAndANewRunRacingForAReleasedLockDoNotBothGetIt() throws {
        for round in 1...5 {
            let dir = try repository(["hotfix.md": Self.runbook(id: "hotfix")])
            defer { try? FileManager.default.removeItem(at: dir) }
            let id = try pausedRun(dir)
            #expect(try runsheet(["unlock", "checkout", "prod", "--as", "rita", "--reason", "round \(round)"], in: dir).status == 0)
            let results = try simultaneously([["resume", id, "--as", "alice"], ["run", "hotfix.md", "--as", "bob"]], in: dir, stdin: "quit\n")
            let (resumed, started) = (results[0], results[1])
            #expect([resumed.status, started.status].sorted() == [3, 5], "round \(round): \(resumed.stderr) | \(started.stderr)")
            let retook = try types(dir, id).contains("lock.taken")
            #expect(retook == (resumed.status == 3), "round \(round)")
            #expect(runs(dir).count == (started.status == 3 ? 2 : 1), "round \(round): \(runs(dir))")
        }
    }

    /// Runs `runsheet` once per argument list, all started before any is waited for.
    func simultaneously(_ calls: [[String]], in dir: URL, stdin: String) throws -> [ProcessResult] {
        let results = LockedResults(count: calls.count)
        let ready = DispatchSemaphore(value: 0), go = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        for (index, arguments) in calls.enumerated() {
            Thread {
                ready.signal()
                go.wait()
                results.set(index, Result { try RepositoryRuns.runsheet(arguments, in: dir, stdin: stdin) })
                done.signal()
            }.start()
        }
        for _ in calls { ready.wait() }
        for _ in calls { go.signal() }
        for _ in calls { done.wait() }
        return try results.all.map { try $0!.get() }
    }

    /// Unlock: refused to someone without an exception role (exit 1) and to the run's starter
    /// even when they hold one; by the release manager it is `lock.released` in the holding run's
    /// journal. The released run, resumed while another run holds the lock, is refused (exit 5,
    /// nothing written); once that run has ended, its resume takes the lock again (`lock.taken`).
    @Test func unlockIsAnExceptionRecordedInTheHoldingRunAndResumeTakesTheLockAgain() throws {
        let roles = "roles:\n  operator: [alice, bob, carol]\n  release-manager: [rita, alice, carol]\n"
        let dir = try repository(["hotfix.md": Self.runbook(id: "hotfix")], roles: roles)
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try pausedRun(dir)
        let paused = try journal(dir, id)
        let byOperator = try runsheet(["unlock", "checkout", "prod", "--as", "bob", "--reason", "I need it"], in: dir)
        #expect(byOperator.status == 1, "\(byOperator.stdout)\(byOperator.stderr)")
        #expect(oneSentence(byOperator.stderr).contains("release-manager"), "\(byOperator.stderr)")
        #expect(try journal(dir, id) == paused, "a refused unlock wrote to the journal")
        // carol (also a release manager) takes a note in the run: she drove it.
        #expect(try runsheet(["resume", id, "--as", "carol"], in: dir, stdin: "note watching the graphs\nquit\n").status == 3)
        let byDriver = try runsheet(["unlock", "checkout", "prod", "--as", "carol", "--reason", "mine too"], in: dir)
        #expect(byDriver.status == 1 && byDriver.stderr.contains("carol drove run \(id) and may not release its lock"), "\(byDriver.stderr)")
        let before = try journal(dir, id)
        let byStarter = try runsheet(["unlock", "checkout", "prod", "--as", "Alice", "--reason", "mine"], in: dir)
        #expect(byStarter.status == 1, "\(byStarter.stdout)\(byStarter.stderr)")
        #expect(byStarter.stderr.contains("started run \(id) and may not release its lock"), "\(byStarter.stderr)")
        let noReason = try runsheet(["unlock", "checkout", "prod", "--as", "rita", "--reason", " "], in: dir)
        #expect(noReason.status == 2, "\(noReason.stderr)")
        let nothing = try runsheet(["unlock", "checkout", "staging", "--as", "rita", "--reason", "x"], in: dir)
        #expect(nothing.status == 1 && nothing.stderr.contains("no run holds the lock on checkout / staging"), "\(nothing.stderr)")
        #expect(try journal(dir, id) == before, "a refused unlock wrote to the journal")

        let unlock = try runsheet(["unlock", "CHECKOUT", "Prod", "--as", "rita", "--reason", "alice off shift, INC-881"], in: dir)
        #expect(unlock.status == 0, "\(unlock.stdout)\(unlock.stderr)")
        #expect(unlock.stdout.contains("released the lock on checkout / prod held by run \(id) as release-manager (rita)"), "\(unlock.stdout)")
        let released = try #require(try RepositoryRuns.events(dir, id: id).last)
        #expect(released["type"] as? String == "lock.released" && released["actor"] as? String == "rita")
        let data = try #require(released["data"] as? [String: Any])
        #expect(data["reason"] as? String == "alice off shift, INC-881" && data["role"] as? String == "release-manager")
        #expect(try runsheet(["verify", id], in: dir).status == 0)
        #expect(try runsheet(["status", id], in: dir).stdout.contains("lock     checkout / prod released by rita"))

        let hotfix = try pausedRun(dir, "hotfix.md", as: "bob")
        let beforeResume = try journal(dir, id)
        let resumed = try runsheet(["resume", id, "--as", "alice"], in: dir, stdin: "done\nquit\n")
        #expect(resumed.status == 5, "\(resumed.stdout)\(resumed.stderr)")
        let line = oneSentence(resumed.stderr)
        #expect(line.contains("checkout / prod is locked by run \(hotfix)") && line.contains("run \(id) (its lock was released by rita at ") &&
                line.contains("was not resumed and nothing was written"), "\(line)")
        #expect(try journal(dir, id) == beforeResume)

        #expect(try runsheet(["resume", hotfix, "--as", "bob"], in: dir, stdin: "done\ndone\n").status == 0)
        let again = try runsheet(["resume", id, "--as", "alice"], in: dir, stdin: "quit\n")
        #expect(again.status == 3, "\(again.stdout)\(again.stderr)")
        #expect(again.stderr.contains("took the lock on checkout / prod again"), "\(again.stderr)")
        let tail = try types(dir, id).suffix(3)
        #expect(Array(tail) == ["run.resumed", "lock.taken", "run.paused"], "\(tail)")
        let third = try runsheet(["run", "hotfix.md", "--as", "bob"], in: dir, stdin: "quit\n")
        #expect(third.status == 5 && third.stderr.contains("is locked by run \(id) (taken by alice at "), "\(third.stderr)")
    }

    /// While a session drives the holding run, unlock is refused (exit 5): the person at the
    /// keyboard is asked to quit instead.
    @Test func unlockIsRefusedWhileASessionDrivesTheRun() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try RunningRunsheet(["run", "deploy.md", "--runs-dir", "runs", "--as", "alice"], directory: dir)
        defer { _ = first.kill() }
        #expect(first.waitFor("▶ [0/3] prepare"), "\(first.printed)\(first.errors)")
        let id = try #require(runs(dir).first)
        let before = try journal(dir, id)
        let unlock = try runsheet(["unlock", "checkout", "prod", "--as", "rita", "--reason", "stuck?"], in: dir)
        #expect(unlock.status == 5, "\(unlock.stdout)\(unlock.stderr)")
        #expect(oneSentence(unlock.stderr).contains("run \(id) holds the lock on checkout / prod and is being driven by a session now"), "\(unlock.stderr)")
        #expect(try journal(dir, id) == before)
    }

    /// The lock files only name the holders: deleting them, or editing one to name another run
    /// or lock, frees nothing, as the journals decide.
    @Test(arguments: ["delete", "edit", "rename"])
    func aDeletedOrEditedLockFileDoesNotFreeTheLock(how: String) throws {
        let dir = try repository(["hotfix.md": Self.runbook(id: "hotfix")])
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try pausedRun(dir)
        let locks = dir.appendingPathComponent("runs/.locks")
        let file = try #require(try FileManager.default.contentsOfDirectory(atPath: locks.path).first { $0.hasSuffix(".lock") })
        #expect(file.hasSuffix(".\(id).lock"))
        let path = locks.appendingPathComponent(file)
        switch how {
        case "delete": try FileManager.default.removeItem(at: path)
        case "edit": try "{\"service\":\"other\",\"environment\":\"dev\",\"mode\":\"shared\",\"run\":\"x\",\"person\":\"x\",\"since\":\"x\"}\n".write(to: path, atomically: true, encoding: .utf8)
        default: try FileManager.default.moveItem(at: path, to: locks.appendingPathComponent("0000000000000000.\(id).lock"))
        }
        let second = try runsheet(["run", "hotfix.md", "--as", "bob"], in: dir, stdin: "quit\n")
        #expect(second.status == 5, "\(how): \(second.stdout)\(second.stderr)")
        #expect(second.stderr.contains("checkout / prod is locked by run \(id)"), "\(how): \(second.stderr)")
        #expect(runs(dir) == [id])
    }

    /// A holding journal that does not verify keeps the lock (a forged `run.ended` appended to
    /// free it, or a broken first line with the lock file gone), and unlock will not act on it.
    @Test(arguments: ["forged end", "first line"])
    func aJournalThatDoesNotVerifyKeepsTheLock(how: String) throws {
        let dir = try repository(["hotfix.md": Self.runbook(id: "hotfix"), "other.md": Self.runbook(id: "other", service: "billing")])
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try pausedRun(dir)
        let path = dir.appendingPathComponent("runs/\(id)/journal.jsonl")
        var text = try String(contentsOf: path, encoding: .utf8)
        if how == "forged end" {
            text += "{\"actor\":\"alice\",\"data\":{\"outcome\":\"completed\"},\"hash\":\"00\",\"host\":\"h\",\"prev\":\"00\",\"seq\":99,\"time\":\"2026-01-01T00:00:00.000Z\",\"type\":\"run.ended\",\"via\":\"script\"}\n"
        } else {
            text = text.replacingOccurrences(of: "\"mode\":\"exclusive\"", with: "\"mode\":\"shared\"")
            for file in try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("runs/.locks").path) where file.hasSuffix(".lock") {
                try FileManager.default.removeItem(at: dir.appendingPathComponent("runs/.locks/\(file)"))
            }
        }
        try text.write(to: path, atomically: false, encoding: .utf8)
        let second = try runsheet(["run", "hotfix.md", "--as", "bob"], in: dir, stdin: "quit\n")
        #expect(second.status == 5, "\(how): \(second.stdout)\(second.stderr)")
        #expect(oneSentence(second.stderr).contains("run \(id), whose journal"), "\(how): \(second.stderr)")
        #expect(second.stderr.contains("runsheet keeps a lock whose holder it cannot check"), "\(second.stderr)")
        #expect(runs(dir) == [id])
        if how == "forged end" {
            let status = try runsheet(["status"], in: dir)
            #expect(status.stdout.contains("\(id)") && status.stdout.contains("held: whose journal does not verify"), "\(status.stdout)")
            let unlock = try runsheet(["unlock", "checkout", "prod", "--as", "rita", "--reason", "it ended"], in: dir)
            #expect(unlock.status == 1 && unlock.stderr.contains("does not act on a journal it cannot check"), "\(unlock.stderr)")
        } else {
            // Which lock it holds cannot be told, so it holds them all.
            #expect(try runsheet(["run", "other.md", "--as", "bob"], in: dir, stdin: "quit\n").status == 5)
        }
    }
}

/// Results filled in by threads.
final class LockedResults: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Result<ProcessResult, any Error>?]

    init(count: Int) { values = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ value: Result<ProcessResult, any Error>) { lock.withLock { values[index] = value } }

    var all: [Result<ProcessResult, any Error>?] { lock.withLock { values } }
}
