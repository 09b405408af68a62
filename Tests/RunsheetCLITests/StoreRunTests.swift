import Foundation
import RunsheetCore
import RunsheetTestSupport
import Synchronization
import Testing

/// `run` and `resume` on the PostgreSQL store, played as separate machines: each process has its
/// own working folder and HOME, and sees the others only through the store. Against a real
/// server, through the binary.
@Suite(.serialized) struct StoreRunTests {
    static let runbook = """
        ---
        runsheet: 1
        id: shared-deploy
        title: Shared deploy
        roles: [cab]
        ---

        # Deploy

        - [ ] Approve the deploy
          - Sign-off: 2 of cab
          - Separation: starter
        - [ ] Deploy

          ```bash run
          echo deployed
          ```
        """

    static let production = """
        ---
        runsheet: 1
        id: prod-deploy
        title: Production deploy
        production: true
        service: checkout
        environment: prod
        ---

        # Deploy

        - [ ] Prepare
        - [ ] Switch
        """

    /// A machine: a folder of its own (HOME too), connecting as its own database user; with
    /// `user`, also an OS user of its own that owns the folder (mode 0700), so that the others
    /// cannot read it.
    struct Machine {
        var dir: URL
        var url: String
        var environment: [String: String]
        var user: UInt32?

        func runsheet(_ arguments: [String], stdin: String? = nil) throws -> ProcessResult {
            let (executable, prefixed) = Fixtures.command(arguments + ["--store", url], user: user)
            return try Fixtures.run(executable, prefixed, stdin: stdin, environment: environment, directory: dir)
        }

        func start(_ arguments: [String]) throws -> RunningRunsheet {
            try RunningRunsheet(arguments + ["--store", url], environment: environment, directory: dir, user: user)
        }

        /// Gives the folder, and all in it, to the machine's OS user alone.
        func seal() throws {
            guard let user else { return }
            for (tool, arguments) in [("/bin/chown", ["-R", "\(user):\(user)", dir.path]), ("/bin/chmod", ["0700", dir.path])] {
                let done = try Fixtures.run(tool, arguments)
                #expect(done.status == 0, "\(tool): \(done.stderr)")
            }
        }

        /// Whether this machine's OS user can list `folder`.
        func canRead(_ folder: URL) throws -> Bool {
            guard let user else { return true }
            return try Fixtures.run("/usr/bin/setpriv", ["--reuid=\(user)", "--regid=\(user)", "--clear-groups", "--", "/bin/ls", folder.path]).status == 0
        }
    }

    struct Setup {
        var team: PostgresStoreTests.Team
        /// Alice's checkout of the repository, where runs start.
        var a: Machine
        var b: Machine
        var c: Machine
        var carol: (user: String, password: String)

        func sql(_ text: String) throws -> String {
            try team.store.sql(text, user: team.store.owner, password: team.store.ownerPassword).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// `osUsers`: when the tests run as root, each machine is also an OS user of its own (ids
    /// 62001 to 62003, no account needed), owning its folder alone.
    func setup(on own: PostgresServer? = nil, osUsers: Bool = false) throws -> Setup {
        let team = try PostgresStoreTests().team(on: own)
        let carol = try team.store.makeUser("carol")
        let granted = try Fixtures.runsheet(["store", "grant", "carol@example.com", carol.user, "--store", team.store.url()],
                                            environment: team.store.environment(password: team.store.ownerPassword))
        #expect(granted.status == 0, "\(granted.stderr)")
        let separate = osUsers && getuid() == 0
        func machine(_ name: String, _ login: (user: String, password: String), uid: UInt32) throws -> Machine {
            let dir = try Fixtures.temporaryDirectory("store-run-\(name)")
            var environment = team.store.environment(password: login.password)
            environment["HOME"] = dir.path
            environment["TMPDIR"] = dir.path + "/tmp"
            try FileManager.default.createDirectory(at: dir.appendingPathComponent("tmp"), withIntermediateDirectories: true)
            return Machine(dir: dir, url: team.store.url(user: login.user), environment: environment, user: separate ? uid : nil)
        }
        let a = try machine("a", team.alice, uid: 62001)
        try FileManager.default.createDirectory(at: a.dir.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        try "roles:\n  operator: [alice@example.com, bob@example.com]\n  cab: [bob@example.com, carol@example.com]\n  release-manager: [carol@example.com]\n"
            .write(to: a.dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        try Self.runbook.write(to: a.dir.appendingPathComponent("deploy.md"), atomically: true, encoding: .utf8)
        try Self.production.write(to: a.dir.appendingPathComponent("prod.md"), atomically: true, encoding: .utf8)
        try HaltTests.runbook.write(to: a.dir.appendingPathComponent("change.md"), atomically: true, encoding: .utf8)
        // A Git repository with its rules committed, as a resume on the store needs; a copy of it is a clone.
        for arguments in [["init", "-q"], ["add", "-A"], ["-c", "user.name=Alice", "-c", "user.email=alice@example.com", "commit", "-qm", "rules and runbooks"]] {
            let git = try Fixtures.run("/usr/bin/git", ["-C", a.dir.path] + arguments)
            #expect(git.status == 0, "git \(arguments): \(git.stderr)")
        }
        let b = try machine("b", team.bob, uid: 62002), c = try machine("c", carol, uid: 62003)
        for machine in [a, b, c] { try machine.seal() }
        return Setup(team: team, a: a, b: b, c: c, carol: carol)
    }

    /// The run id a session announced on standard error.
    func startedID(_ session: RunningRunsheet) throws -> String {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let range = session.errors.range(of: "started run "), let id = session.errors[range.upperBound...].split(separator: " ").first {
                return String(id)
            }
            if !session.process.isRunning { break }
            Thread.sleep(forTimeInterval: 0.02)
        }
        Issue.record("no run started: \(session.printed)\(session.errors)")
        throw CancellationError()
    }

    func leftovers(_ machine: Machine) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: machine.dir.path + "/tmp")) ?? []).filter { $0.hasPrefix("runsheet-") }
    }

    @Test func aGateWaitingOnOneMachineMovesOnWhenTwoOthersSignAndTheRunReadsTheSameEverywhere() throws {
        let s = try setup(osUsers: true)
        if s.a.user != nil {
            // Three OS users: none of them can read another's folder, only the store joins them.
            for (machine, others) in [(s.a, [s.b, s.c]), (s.b, [s.a, s.c]), (s.c, [s.a, s.b])] {
                for other in others { #expect(try !machine.canRead(other.dir), "\(machine.dir.path) reads \(other.dir.path)") }
                #expect(try machine.canRead(machine.dir))
            }
        }
        let a = try s.a.start(["run", "deploy.md", "--as", "alice@example.com"])
        a.send("wait", "run")
        let id = try startedID(a)
        #expect(a.waitFor("needs 2 more of cab", seconds: 30), "\(a.printed)\(a.errors)")

        // B sees the run from its own folder, with no checkout, and signs; A still waits.
        let listed = try s.b.runsheet(["status"])
        #expect(listed.status == 0 && listed.stdout.contains(id), "\(listed.stdout)\(listed.stderr)")
        let bob = try s.b.runsheet(["sign", id, "approve-the-deploy", "--as", "bob@example.com"])
        #expect(bob.status == 0, "\(bob.stdout)\(bob.stderr)")
        #expect(a.waitFor("needs 1 more of cab", seconds: 10), "\(a.printed)")
        #expect(a.process.isRunning)

        // C signs: A moves on by itself, runs the command and completes.
        let carol = try s.c.runsheet(["sign", id, "approve-the-deploy", "--as", "carol@example.com"])
        #expect(carol.status == 0, "\(carol.stdout)\(carol.stderr)")
        #expect(a.waitFor("gate approved", seconds: 10), "\(a.printed)")
        #expect(a.finish(seconds: 60) == 0, "\(a.printed)\(a.errors)")

        // Within a moment of C's commit, A's next event is in the store (server times, one clock).
        let gap = try s.sql("""
            SELECT extract(epoch FROM (SELECT min(server_time) FROM runsheet.events WHERE run = '\(id)' AND seq > c.seq) - c.server_time)
            FROM runsheet.events c WHERE c.run = '\(id)' AND c.actor = 'carol@example.com'
            """)
        let seconds = try #require(Double(gap), "\(gap)")
        #expect(seconds < 0.5, "A moved on \(seconds) s after C's sign-off")

        // Every event's database user is the person's own.
        let users = try s.sql("SELECT string_agg(DISTINCT actor || '=' || db_user, ' ' ORDER BY actor || '=' || db_user) FROM runsheet.events WHERE run = '\(id)'")
        #expect(users == "alice@example.com=\(s.team.alice.user) bob@example.com=\(s.team.bob.user) carol@example.com=\(s.carol.user)", "\(users)")

        if let a = s.a.user, let b = s.b.user, let c = s.c.user {
            // And each person's events were written by their own OS user.
            let uids = try s.sql("""
                SELECT string_agg(DISTINCT actor || '=' || (convert_from(line, 'UTF8')::jsonb->>'uid'), ' ' ORDER BY actor || '=' || (convert_from(line, 'UTF8')::jsonb->>'uid'))
                FROM runsheet.events WHERE run = '\(id)'
                """)
            #expect(uids == "alice@example.com=\(a) bob@example.com=\(b) carol@example.com=\(c)", "\(uids)")
        }

        // B reads it whole: status, metrics; the export verifies as a folder journal.
        let status = try s.b.runsheet(["status", id])
        #expect(status.status == 0 && status.stdout.contains("completed"), "\(status.stdout)\(status.stderr)")
        let metrics = try s.b.runsheet(["metrics"])
        #expect(metrics.status == 0 && metrics.stdout.contains("shared-deploy"), "\(metrics.stdout)\(metrics.stderr)")
        // Into a folder named for the run, as a run folder is.
        try FileManager.default.createDirectory(at: s.b.dir.appendingPathComponent("runs/\(id)"), withIntermediateDirectories: true)
        try s.b.seal()
        let exported = s.b.dir.appendingPathComponent("runs/\(id)/journal.jsonl").path
        let export = try s.b.runsheet(["export", id, "-o", exported])
        #expect(export.status == 0, "\(export.stderr)")
        let verified = try Fixtures.runsheet(["verify", exported], environment: ["RUNSHEET_STORE": ""], directory: s.b.dir)
        #expect(verified.status == 0 && verified.stdout.contains("intact"), "\(verified.stdout)\(verified.stderr)")
        let lines = try String(contentsOfFile: exported, encoding: .utf8)
        #expect(lines.contains("\"run.ended\"") && lines.contains("\"completed\""), "\(lines)")
        // The command's output log went to the store with the run.
        let outputs = try s.sql("SELECT count(*) FROM runsheet.run_files WHERE run = '\(id)' AND kind = 'output'")
        #expect(outputs != "0", "the output log is kept")
        for machine in [s.a, s.b, s.c] { #expect(leftovers(machine).isEmpty, "\(machine.dir.path): \(leftovers(machine))") }
    }

    @Test func aSecondSessionElsewhereIsRefusedWhileTheFirstLivesAndResumesOnceItDies() throws {
        let s = try setup()
        let a = try s.a.start(["run", "deploy.md", "--as", "alice@example.com"])
        let id = try startedID(a)
        // B has a checkout of the repository (the same files).
        for name in ["deploy.md", ".runsheet", ".git"] {
            try FileManager.default.copyItem(at: s.a.dir.appendingPathComponent(name), to: s.b.dir.appendingPathComponent(name))
        }
        let second = try s.b.runsheet(["resume", id, "--as", "bob@example.com"], stdin: "quit\n")
        #expect(second.status == 5 && second.stderr.contains("being driven by another session") && second.stderr.contains("alice@example.com"),
                "\(second.status) \(second.stdout)\(second.stderr)")
        #expect(second.stderr.split(separator: "\n").count == 1, "one sentence: \(second.stderr)")

        // A resume without a checkout is refused before anything is written.
        let bare = try s.c.runsheet(["resume", id, "--as", "carol@example.com"], stdin: "quit\n")
        #expect(bare.status == 2 && bare.stderr.contains("checkout"), "\(bare.status) \(bare.stderr)")

        // A dies without a word: the server drops its lease with its connection.
        _ = a.kill()
        let before = try s.sql("SELECT count(*) FROM runsheet.events WHERE run = '\(id)'")
        // Not under rules edited in this checkout and not committed (found by the adversary).
        let roles = s.b.dir.appendingPathComponent(".runsheet/roles.yaml")
        let committed = try String(contentsOf: roles, encoding: .utf8)
        try (committed + "  extra: [bob@example.com]\n").write(to: roles, atomically: true, encoding: .utf8)
        let edited = try s.b.runsheet(["resume", id, "--as", "bob@example.com"], stdin: "quit\n")
        #expect(edited.status == 1 && edited.stderr.contains(".runsheet/roles.yaml") && edited.stderr.contains("not committed"), "\(edited.status) \(edited.stderr)")
        #expect(try s.sql("SELECT count(*) FROM runsheet.events WHERE run = '\(id)'") == before, "nothing was written")
        try committed.write(to: roles, atomically: true, encoding: .utf8)
        let resumed = try s.b.runsheet(["resume", id, "--as", "bob@example.com"], stdin: "quit\n")
        #expect(resumed.status == 3, "\(resumed.status) \(resumed.stdout)\(resumed.stderr)")
        // The summary names the store, never the session's temporary copy.
        #expect(resumed.stdout.contains("runsheet resume \(id) --store '\(s.b.url)'") && !resumed.stdout.contains("--runs-dir"), "\(resumed.stdout)")
        let after = try s.sql("SELECT string_agg(line::text, '') FROM (SELECT convert_from(line, 'UTF8') AS line FROM runsheet.events WHERE run = '\(id)' AND seq > \(before) ORDER BY seq) l")
        #expect(after.contains("run.resumed") && after.contains("run.paused"), "\(after)")
        let verified = try s.b.runsheet(["verify", id])
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
    }

    @Test func theServiceAndEnvironmentLockIsHeldAcrossMachinesForTheSession() throws {
        let s = try setup()
        for name in ["prod.md", ".runsheet", ".git"] {
            try FileManager.default.copyItem(at: s.a.dir.appendingPathComponent(name), to: s.b.dir.appendingPathComponent(name))
        }
        let a = try s.a.start(["run", "prod.md", "--as", "alice@example.com"])
        let id = try startedID(a)
        let refused = try s.b.runsheet(["run", "prod.md", "--as", "bob@example.com"], stdin: "quit\n")
        #expect(refused.status == 5 && refused.stderr.contains("checkout") && refused.stderr.contains("prod") && refused.stderr.contains(id),
                "\(refused.status) \(refused.stdout)\(refused.stderr)")
        #expect(refused.stderr.split(separator: "\n").count == 1, "one sentence: \(refused.stderr)")
        let runs = try s.sql("SELECT count(*) FROM runsheet.runs")
        #expect(runs == "1", "nothing was started: \(runs)")
        // Letter case and spaces name the same service and environment, in another runbook.
        try Self.production.replacingOccurrences(of: "id: prod-deploy", with: "id: prod-other")
            .replacingOccurrences(of: "service: checkout", with: "service: \" Checkout\"")
            .replacingOccurrences(of: "environment: prod", with: "environment: PROD")
            .write(to: s.b.dir.appendingPathComponent("other.md"), atomically: true, encoding: .utf8)
        let cased = try s.b.runsheet(["run", "other.md", "--as", "bob@example.com"], stdin: "quit\n")
        #expect(cased.status == 5, "\(cased.status) \(cased.stdout)\(cased.stderr)")
        a.send("quit")
        #expect(a.finish() == 3, "\(a.printed)\(a.errors)")
        let next = try s.b.runsheet(["run", "prod.md", "--as", "bob@example.com"], stdin: "quit\n")
        #expect(next.status == 3, "\(next.status) \(next.stdout)\(next.stderr)")
    }

    @Test func theServerKilledMidRunPausesTheSessionAndLosesNothingItAcknowledged() throws {
        let server = try PostgresServer.own()
        defer { server.remove() }
        let s = try setup(on: server)
        let a = try s.a.start(["run", "prod.md", "--as", "alice@example.com"])
        let id = try startedID(a)
        a.send("done")
        #expect(a.waitFor("Switch", seconds: 30), "\(a.printed)\(a.errors)")
        let acknowledged = try s.sql("SELECT count(*) FROM runsheet.events WHERE run = '\(id)'")
        try server.stop(immediate: true)

        // The next action cannot be committed: the session stops with one sentence, exit 6.
        a.send("done")
        #expect(a.finish(seconds: 60) == 6, "\(a.printed)\(a.errors)")
        let sentence = a.errors.split(separator: "\n").last.map(String.init) ?? ""
        #expect(sentence.contains("the session stops here with every event up to \(acknowledged) in the store") && sentence.contains("runsheet resume \(id)"), "\(a.errors)")
        #expect(leftovers(s.a).isEmpty, "\(leftovers(s.a))")

        // Back up: every acknowledged event is there, nothing more; the run resumes and completes.
        try server.start()
        #expect(try s.sql("SELECT count(*) FROM runsheet.events WHERE run = '\(id)'") == acknowledged)
        let last = try s.sql("SELECT convert_from(line, 'UTF8') FROM runsheet.events WHERE run = '\(id)' ORDER BY seq DESC LIMIT 1")
        #expect(last.contains("\"step.started\"") && last.contains("\"switch\""), "\(last)")
        let resumed = try s.a.runsheet(["resume", id, "--as", "alice@example.com"], stdin: "done\n")
        #expect(resumed.status == 0, "\(resumed.status) \(resumed.stdout)\(resumed.stderr)")
        let verified = try s.a.runsheet(["verify", id])
        #expect(verified.status == 0 && verified.stdout.contains("intact"), "\(verified.stdout)\(verified.stderr)")
    }

    @Test func aStoreThatCannotBeReachedStartsNothingAnywhere() throws {
        let s = try setup()
        let unreachable = try Fixtures.runsheet(["run", "deploy.md", "--as", "alice@example.com", "--store", "postgresql://alice@127.0.0.1:\(PostgresServer.freePort())/db?sslmode=disable"],
                                                stdin: "quit\n", environment: s.a.environment, directory: s.a.dir)
        #expect(unreachable.status == 6 && unreachable.stderr.contains("cannot be reached"), "\(unreachable.status) \(unreachable.stderr)")
        #expect(unreachable.stderr.split(separator: "\n").count == 1, "one sentence: \(unreachable.stderr)")
        #expect(!FileManager.default.fileExists(atPath: s.a.dir.appendingPathComponent("runs").path), "no run folder instead")
        #expect(leftovers(s.a).isEmpty)
        #expect(try s.sql("SELECT count(*) FROM runsheet.runs") == "0")
    }

    @Test func updateLearnsFromTheRunsInTheStore() throws {
        let s = try setup()
        let run = try s.a.runsheet(["run", "prod.md", "--as", "alice@example.com"], stdin: "lesson check the dashboards before switching\ndone\ndone\n")
        #expect(run.status == 0, "\(run.status) \(run.stdout)\(run.stderr)")
        let updated = try s.a.runsheet(["update", "prod.md", "--all"])
        #expect(updated.status == 0, "\(updated.status) \(updated.stdout)\(updated.stderr)")
        let text = try String(contentsOf: s.a.dir.appendingPathComponent("prod.md"), encoding: .utf8)
        #expect(text.contains("Lesson: check the dashboards before switching"), "\(text)")
        #expect(!FileManager.default.fileExists(atPath: s.a.dir.appendingPathComponent("runs").path), "the run is in the store only")
        #expect(leftovers(s.a).isEmpty)
    }

    /// A halt declared on the store from another machine while the operator waits at the step
    /// before a production step stops it there, within a second, with who, why and since when;
    /// nothing is written to any repository's halts file; the lift on the store lets it go on.
    @Test func aHaltDeclaredOnTheStoreStopsTheNextProductionStepOnAnotherMachine() throws {
        let s = try setup()
        for name in [".runsheet", ".git"] {
            try FileManager.default.copyItem(at: s.a.dir.appendingPathComponent(name), to: s.c.dir.appendingPathComponent(name))
        }
        let a = try s.a.start(["run", "change.md", "--as", "alice@example.com"])
        let id = try startedID(a)
        #expect(a.waitFor("Prepare", seconds: 30), "\(a.printed)\(a.errors)")

        // Bob holds no exception role: refused by the rules, nothing in the store.
        let bob = try s.b.runsheet(["halt", "--reason", "INC-7 checkout errors", "--as", "bob@example.com"])
        #expect(bob.status != 0, "\(bob.stdout)\(bob.stderr)")
        // Carol (release-manager) halts production from her own checkout; Alice cannot write in her name.
        let forged = try Fixtures.runsheet(["halt", "--reason", "INC-7", "--as", "carol@example.com", "--store", s.a.url], environment: s.a.environment, directory: s.c.dir)
        #expect(forged.status == 6 && forged.stderr.contains("only in their own name"), "\(forged.status) \(forged.stderr)")
        let halted = try s.c.runsheet(["halt", "--reason", "INC-7 checkout errors", "--as", "carol@example.com"])
        #expect(halted.status == 0 && halted.stdout.contains("halted by carol@example.com"), "\(halted.stdout)\(halted.stderr)")
        #expect(try s.sql("SELECT count(*) FROM runsheet.governance WHERE log = 'halts'") == "1")
        // A record dated a day ahead (which no lift, being older, could end) is refused by the
        // database, even well-formed and in the member's own name (found by the adversary).
        let head = try s.sql("SELECT hash FROM runsheet.governance WHERE log = 'halts' AND seq = 1")
        var future = GovernanceRecord(type: Halt.declared, by: Actor(name: "bob@example.com", host: "h", via: "script", canonical: "bob@example.com"),
                                      data: ["reason": .string("unliftable")], time: Timestamp.format(Date().addingTimeInterval(86_400)))
        (future.seq, future.prev) = (2, head)
        future.hash = try future.computedHash()
        let line = try future.canonicalBytes().map { String(format: "%02x", $0) }.joined()
        let dated = try s.team.store.sql("INSERT INTO runsheet.governance (log, seq, line, hash, prev, actor) VALUES ('halts', 2, decode('\(line)', 'hex'), '\(future.hash)', '\(head)', 'bob@example.com')",
                                         user: s.team.bob.user, password: s.team.bob.password)
        #expect(dated.status != 0 && dated.stderr.contains("is dated"), "\(dated.stdout)\(dated.stderr)")
        #expect(try s.sql("SELECT count(*) FROM runsheet.governance WHERE log = 'halts'") == "1")
        for machine in [s.a, s.c] {
            #expect(!FileManager.default.fileExists(atPath: machine.dir.appendingPathComponent(".runsheet/halts.jsonl").path), "the halt is in the store only")
        }
        let listed = try s.b.runsheet(["status"])
        #expect(listed.stdout.contains("halt 1: production halted by carol@example.com"), "\(listed.stdout)\(listed.stderr)")

        // A finishes the step before the production one: the production step does not start.
        a.send("done", "done")
        #expect(a.waitFor("production is halted by carol@example.com", seconds: 10), "\(a.printed)")
        #expect(a.printed.contains("INC-7 checkout errors"))
        let switched = try s.sql("SELECT count(*) FROM runsheet.events WHERE run = '\(id)' AND convert_from(line, 'UTF8') LIKE '%\"step.completed\"%switch-traffic%'")
        #expect(switched == "0", "the halted step was never done")

        // Lifted on the store: the step goes on.
        let lifted = try s.c.runsheet(["halt", "--lift", "--as", "carol@example.com"])
        #expect(lifted.status == 0 && lifted.stdout.contains("lifted halt 1"), "\(lifted.stdout)\(lifted.stderr)")
        a.send("done", "done", "done")
        #expect(a.finish(seconds: 60) == 0, "\(a.printed)\(a.errors)")
        #expect(try s.sql("SELECT count(*) FROM runsheet.governance WHERE log = 'halts'") == "2")
        // A member cannot take the lift back, rewrite the halt, or add a record beside the chain.
        for statement in ["DELETE FROM runsheet.governance WHERE seq = 2", "UPDATE runsheet.governance SET line = line", "TRUNCATE runsheet.governance",
                          "INSERT INTO runsheet.governance (log, seq, line, hash, prev, actor) SELECT log, 3, line, hash, prev, actor FROM runsheet.governance WHERE seq = 1"] {
            let refused = try s.team.store.sql(statement, user: s.team.alice.user, password: s.team.alice.password)
            #expect(refused.status != 0, "\(statement): \(refused.stdout)")
        }
        #expect(try s.sql("SELECT count(*) FROM runsheet.governance WHERE log = 'halts'") == "2")
        for machine in [s.a, s.b, s.c] { #expect(leftovers(machine).isEmpty, "\(machine.dir.path): \(leftovers(machine))") }
    }

    @Test func aReleaseIsClosedOnTheStoreOnceAndReadinessFromAnotherMachineShowsIt() throws {
        let s = try setup()
        try "---\nrelease: rel-1\ntitle: Checkout release\nowner: alice@example.com\n---\n# Checkout release\n\n## Requires\n\n- [Change](change.md)\n"
            .write(to: s.a.dir.appendingPathComponent("release.md"), atomically: true, encoding: .utf8)
        let run = try s.a.runsheet(["run", "change.md", "--as", "alice@example.com"], stdin: "done\ndone\ndone\n")
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let ready = try s.a.runsheet(["readiness", "release.md"])
        #expect(ready.status == 0 && ready.stdout.contains("GO"), "\(ready.stdout)\(ready.stderr)")
        // Bob may not close (not the owner, no closing role); Carol (release-manager) may, once.
        let bob = try Fixtures.runsheet(["release", "close", "release.md", "--as", "bob@example.com", "--store", s.b.url], environment: s.b.environment, directory: s.a.dir)
        #expect(bob.status == 1 && bob.stderr.contains("nothing was written"), "\(bob.status) \(bob.stderr)")
        let carol = try Fixtures.runsheet(["release", "close", "release.md", "--as", "carol@example.com", "--store", s.c.url], environment: s.c.environment, directory: s.a.dir)
        #expect(carol.status == 0 && carol.stdout.contains("release rel-1 closed by carol@example.com"), "\(carol.stdout)\(carol.stderr)")
        #expect(try s.sql("SELECT count(*) FROM runsheet.governance WHERE log = 'closures'") == "1")
        #expect(!FileManager.default.fileExists(atPath: s.a.dir.appendingPathComponent(".runsheet/closures.jsonl").path), "the closure is in the store only")
        let again = try s.a.runsheet(["release", "close", "release.md", "--as", "alice@example.com"])
        #expect(again.status == 1 && again.stderr.contains("closed once"), "\(again.stderr)")
        let shown = try s.a.runsheet(["readiness", "release.md"])
        #expect(shown.stdout.contains("closed by carol@example.com"), "\(shown.stdout)")
        // `release pir` reads the closure from the store: closed, with no PIR due (nothing failed).
        let pir = try Fixtures.runsheet(["release", "pir", "release.md", "--link", "https://wiki/pir", "--as", "carol@example.com", "--store", s.c.url],
                                        environment: s.c.environment, directory: s.a.dir)
        #expect(pir.status == 1 && pir.stderr.contains("with no PIR follow-up due"), "\(pir.status) \(pir.stderr)")
        #expect(leftovers(s.a).isEmpty, "\(leftovers(s.a))")
    }

    @Test func aRunOnTheStoreNotifiesAsOnAFolder() throws {
        let s = try setup()
        try "notify:\n  - events: [gate.waiting, run.ended]\n    command: cat >> notified.jsonl; echo >> notified.jsonl\n"
            .write(to: s.a.dir.appendingPathComponent(".runsheet/config.yaml"), atomically: true, encoding: .utf8)
        let a = try s.a.start(["run", "deploy.md", "--as", "alice@example.com"])
        a.send("wait", "run")
        let id = try startedID(a)
        #expect(a.waitFor("needs 2 more of cab", seconds: 30), "\(a.printed)\(a.errors)")
        for (machine, person) in [(s.b, "bob@example.com"), (s.c, "carol@example.com")] {
            #expect(try machine.runsheet(["sign", id, "approve-the-deploy", "--as", person]).status == 0)
        }
        #expect(a.finish(seconds: 60) == 0, "\(a.printed)\(a.errors)")
        let sent = try String(contentsOf: s.a.dir.appendingPathComponent("notified.jsonl"), encoding: .utf8)
            .split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(sent.map { $0["kind"] as? String ?? "" } == ["gate.waiting", "run.ended"], "\(sent)")
        #expect(sent.allSatisfy { $0["run"] as? String == id }, "\(sent)")
        // Each names its event in the store: seq and hash are the store's.
        for notice in sent {
            let seq = notice["seq"] as? Int ?? 0
            #expect(try s.sql("SELECT hash FROM runsheet.events WHERE run = '\(id)' AND seq = \(seq)") == notice["hash"] as? String, "\(notice)")
        }
    }

    /// A session waiting at a gate when the server restarts has lost its lease with its
    /// connection: it stops with one sentence (exit 6) instead of sitting there as if it drove
    /// the run, and the run resumes. Found by the adversary (the session went on waiting, blind).
    @Test func aSessionWaitingWhenTheServerRestartsStopsInsteadOfWaitingBlind() throws {
        let server = try PostgresServer.own()
        defer { server.remove() }
        let s = try setup(on: server)
        let a = try s.a.start(["run", "deploy.md", "--as", "alice@example.com"])
        a.send("wait")
        let id = try startedID(a)
        #expect(a.waitFor("needs 2 more of cab", seconds: 30), "\(a.printed)\(a.errors)")
        try server.stop(immediate: true)
        try server.start()
        let started = Date()
        #expect(a.finish(seconds: 30) == 6, "\(a.printed)\(a.errors)")
        #expect(Date().timeIntervalSince(started) < 25, "stopped within the follower's bound")
        #expect(a.errors.contains("'runsheet resume \(id)' continues the run once the store answers again"), "\(a.errors)")
        let resumed = try s.a.runsheet(["resume", id, "--as", "alice@example.com"], stdin: "quit\n")
        #expect(resumed.status == 3, "\(resumed.status) \(resumed.stdout)\(resumed.stderr)")
    }

    /// A start refused on a later lock (a configuration item) after taking an earlier one (a
    /// shared environment) leaves no row naming it: the next refusal names the real holder.
    @Test func aRefusedStartNamesNobodyAsAHolder() throws {
        let s = try setup()
        try "items:\n  payments-db: {owner: operator, criticality: low}\n".write(to: s.a.dir.appendingPathComponent(".runsheet/inventory.yaml"), atomically: true, encoding: .utf8)
        let concurrent = Self.production.replacingOccurrences(of: "production: true", with: "production: true\nconcurrent: true\ncomponents: [payments-db]")
        try concurrent.replacingOccurrences(of: "id: prod-deploy", with: "id: conc-a").write(to: s.a.dir.appendingPathComponent("conc-a.md"), atomically: true, encoding: .utf8)
        try concurrent.replacingOccurrences(of: "id: prod-deploy", with: "id: conc-b").write(to: s.a.dir.appendingPathComponent("conc-b.md"), atomically: true, encoding: .utf8)
        let a = try s.a.start(["run", "conc-a.md", "--as", "alice@example.com"])
        let id = try startedID(a)
        // Bob's concurrent run shares the environment, then is refused on the item.
        let bob = try Fixtures.runsheet(["run", "conc-b.md", "--as", "bob@example.com", "--store", s.b.url], stdin: "quit\n", environment: s.b.environment, directory: s.a.dir)
        #expect(bob.status == 5 && bob.stderr.contains("payments-db") && bob.stderr.contains(id), "\(bob.status) \(bob.stderr)")
        // An exclusive run on the environment is refused, naming Alice's run, not Bob's refused one.
        let exclusive = try Fixtures.runsheet(["run", "prod.md", "--as", "bob@example.com", "--store", s.b.url], stdin: "quit\n", environment: s.b.environment, directory: s.a.dir)
        #expect(exclusive.status == 5 && exclusive.stderr.contains(id) && exclusive.stderr.contains("alice@example.com"), "\(exclusive.status) \(exclusive.stderr)")
        a.send("quit")
        #expect(a.finish() == 3, "\(a.printed)\(a.errors)")
    }

    /// After a resume that records a changed runbook, approvers without a checkout still sign:
    /// the store keeps the runbook the run goes on with. Found by the adversary (every sign was
    /// refused, asking for a resume that had already happened).
    @Test func signersWithoutACheckoutSignAfterTheRunbookChanged() throws {
        let s = try setup()
        let paused = try s.a.runsheet(["run", "deploy.md", "--as", "alice@example.com"], stdin: "quit\n")
        #expect(paused.status == 3, "\(paused.stdout)\(paused.stderr)")
        let id = try #require(try s.sql("SELECT run FROM runsheet.runs").split(separator: "\n").first.map(String.init))
        let runbook = s.a.dir.appendingPathComponent("deploy.md")
        try (try String(contentsOf: runbook, encoding: .utf8)).replacingOccurrences(of: "# Deploy\n", with: "# Deploy\n\nCheck the dashboards first.\n")
            .write(to: runbook, atomically: true, encoding: .utf8)
        for arguments in [["add", "deploy.md"], ["-c", "user.name=Alice", "-c", "user.email=alice@example.com", "commit", "-qm", "a note"]] {
            #expect(try Fixtures.run("/usr/bin/git", ["-C", s.a.dir.path] + arguments).status == 0)
        }
        let resumed = try s.a.runsheet(["resume", id, "--as", "alice@example.com"], stdin: "quit\n")
        #expect(resumed.status == 3 && resumed.stderr.contains("changed since this run started"), "\(resumed.stdout)\(resumed.stderr)")
        for (machine, person) in [(s.b, "bob@example.com"), (s.c, "carol@example.com")] {
            let signed = try machine.runsheet(["sign", id, "approve-the-deploy", "--as", person])
            #expect(signed.status == 0, "\(person): \(signed.stdout)\(signed.stderr)")
        }
        let done = try s.a.runsheet(["resume", id, "--as", "alice@example.com"], stdin: "wait\nrun\n")
        #expect(done.status == 0, "\(done.stdout)\(done.stderr)")
    }

    /// A halt in the repository's own halts file still stops a run on the store (it reads the
    /// store's halts and the file's). Found by the adversary (the file's halt was ignored).
    @Test func aHaltInTheRepositorysFileStillStopsARunOnTheStore() throws {
        let s = try setup()
        let halted = try Fixtures.runsheet(["halt", "--reason", "INC-8 from the file", "--as", "carol@example.com", "--store", "folder"], directory: s.a.dir)
        #expect(halted.status == 0 && FileManager.default.fileExists(atPath: s.a.dir.appendingPathComponent(".runsheet/halts.jsonl").path), "\(halted.stderr)")
        let run = try s.a.runsheet(["run", "change.md", "--as", "alice@example.com"], stdin: "done\ndone\n")
        #expect(run.status == 3 && run.stdout.contains("INC-8 from the file"), "\(run.status) \(run.stdout)\(run.stderr)")
        let id = try #require(try s.sql("SELECT run FROM runsheet.runs").split(separator: "\n").first.map(String.init))
        #expect(try s.sql("SELECT count(*) FROM runsheet.events WHERE run = '\(id)' AND convert_from(line, 'UTF8') LIKE '%\"step.completed\"%switch-traffic%'") == "0")
    }
}
