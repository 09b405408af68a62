import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// `status`, `verify`, `audit` and `report` on a run of the PostgreSQL store give what they give
/// on the run's folder; signatures and the run's binding are checked as strictly (docs/TEAMS.md,
/// "Reading a run from the store"). Against a real server, through the binary.
@Suite(.serialized) struct StoreReadTests {
    /// A Git repository with roles, allowed signers for alice and bob, and a signed run of
    /// change.md: started by alice with her key, its gate signed by bob with his; pushed by alice.
    struct Pushed {
        var dir: URL
        var id: String
        var url: String
        var environment: [String: String]
        var team: PostgresStoreTests.Team
        var bobKey: String
    }

    func pushedSignedRun() throws -> Pushed {
        let team = try PostgresStoreTests().team()
        let (dir, alice, bob) = try SigningTests().repository(git: true)
        // Committed, so the run records the commit it started from.
        let committed = try Fixtures.run("/bin/sh", ["-c", "git add -A && git -c user.name=t -c user.email=t@example.com -c commit.gpgsign=false commit -qm rules"], directory: dir)
        #expect(committed.status == 0, "\(committed.stderr)")
        let signing = SigningTests()
        let id = try signing.startedRun(in: dir, key: alice)
        let signed = try signing.runsheet(["sign", id, "approve-the-change", "--as", "bob", "--key", bob], in: dir)
        #expect(signed.status == 0, "\(signed.stdout)\(signed.stderr)")
        let url = team.store.url(user: team.alice.user)
        let environment = team.store.environment(password: team.alice.password)
        let pushed = try Fixtures.runsheet(["store", "push", id, "--runs-dir", "runs", "--store", url], environment: environment, directory: dir)
        #expect(pushed.status == 0, "\(pushed.stdout)\(pushed.stderr)")
        return Pushed(dir: dir, id: id, url: url, environment: environment, team: team, bobKey: bob)
    }

    func runsheet(_ arguments: [String], in dir: URL, environment: [String: String]) throws -> ProcessResult {
        try Fixtures.run("/usr/bin/setsid", ["--wait", Fixtures.binary.path] + arguments, environment: environment.merging(["NO_COLOR": "1"]) { $1 }, directory: dir)
    }

    /// Output with the journal's name (a path, or the store and run id) replaced by one word.
    func normalized(_ text: String, _ run: Pushed) -> String {
        text.replacingOccurrences(of: "runs/\(run.id)/journal.jsonl", with: "JOURNAL")
            .replacingOccurrences(of: "\(run.url) run \(run.id)", with: "JOURNAL")
    }

    @Test func statusVerifyAuditAndReportOnTheStoreGiveWhatTheFolderGives() throws {
        let run = try pushedSignedRun()
        defer { try? FileManager.default.removeItem(at: run.dir) }
        // A temporary folder of this test's own, so the other tests' laid-out runs are not counted as its leftovers.
        let scratch = try Fixtures.temporaryDirectory("store-read-tmp")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let environment = run.environment.merging(["TMPDIR": scratch.path]) { $1 }
        let formats = ["md", "html", "json", "junit", "csv"]
        let commands = [["status", run.id], ["verify", run.id], ["audit", run.id], ["render", run.id]] + formats.map { ["report", run.id, "--format", $0] }
        for command in commands {
            let folder = try runsheet(command + ["--store", "folder", "--runs-dir", "runs"], in: run.dir, environment: [:])
            let store = try runsheet(command + ["--store", run.url], in: run.dir, environment: environment)
            #expect(folder.status == 0 && store.status == 0, "\(command): \(folder.status) \(folder.stderr) / \(store.status) \(store.stderr)")
            #expect(store.stderr.isEmpty, "\(command): \(store.stderr)")
            var shown = normalized(store.stdout, run)
            if command[0] == "audit" {
                // Beside each claimed actor, the database's own word: who wrote the row, and when.
                let events = store.stdout.split(separator: "\n").filter { $0.contains("@") && $0.contains(" (") }
                #expect(!events.isEmpty && events.allSatisfy { $0.contains("; pushed by database user \(run.team.alice.user) at ") && $0.contains("Z server time)") },
                        "\(store.stdout)")
                shown = shown.replacingOccurrences(of: #"; pushed by database user [a-z0-9_]+ at [0-9T:.-]+Z server time"#, with: "", options: .regularExpression)
            }
            #expect(shown == normalized(folder.stdout, run) && !shown.isEmpty, "\(command):\n\(store.stdout)\n---\n\(folder.stdout)")
        }
        let verified = try runsheet(["verify", run.id, "--store", run.url], in: run.dir, environment: environment)
        #expect(verified.stdout.hasPrefix("\(run.url) run \(run.id): intact, "), "\(verified.stdout)")
        #expect(verified.stdout.contains("approve-the-change by bob") && verified.stdout.contains(": verified"), "\(verified.stdout)")
        // RUNSHEET_STORE chooses the store as --store does.
        let chosen = try runsheet(["verify", run.id], in: run.dir, environment: environment.merging(["RUNSHEET_STORE": run.url]) { $1 })
        #expect(chosen.status == 0 && chosen.stdout == verified.stdout, "\(chosen.stdout)\(chosen.stderr)")
        // No laid-out copy is left behind.
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { $0.hasPrefix("runsheet-store-run-") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    @Test func aSignatureThatDoesNotVerifyStillFailsOnTheStore() throws {
        let run = try pushedSignedRun()
        defer { try? FileManager.default.removeItem(at: run.dir) }
        // Inside the repository, bob's key is taken out of the allowed signers: his sign-off no longer verifies.
        let signers = run.dir.appendingPathComponent(".runsheet/allowed_signers")
        let original = try String(contentsOf: signers, encoding: .utf8)
        let withoutBob = original.split(separator: "\n").filter { !$0.hasPrefix("bob ") }.joined(separator: "\n") + "\n"
        #expect(withoutBob != original)
        try withoutBob.write(to: signers, atomically: true, encoding: .utf8)
        for command in [["verify", run.id], ["status", run.id], ["audit", run.id], ["report", run.id]] {
            let folder = try runsheet(command + ["--store", "folder", "--runs-dir", "runs"], in: run.dir, environment: [:])
            let store = try runsheet(command + ["--store", run.url], in: run.dir, environment: run.environment)
            #expect(folder.status == 1 && store.status == 1, "\(command): \(folder.status) / \(store.status) \(store.stdout)\(store.stderr)")
            #expect((store.stdout + store.stderr).contains("does not verify"), "\(command): \(store.stdout)\(store.stderr)")
        }
        try original.write(to: signers, atomically: true, encoding: .utf8)
        #expect(try runsheet(["verify", run.id, "--store", run.url], in: run.dir, environment: run.environment).status == 0, "the positive control")

        // Outside any repository, the store keeps no allowed signers: a signed run does not verify there.
        let elsewhere = try Fixtures.temporaryDirectory("store-elsewhere")
        defer { try? FileManager.default.removeItem(at: elsewhere) }
        let outside = try runsheet(["verify", run.id, "--store", run.url], in: elsewhere, environment: run.environment)
        #expect(outside.status == 1 && outside.stdout.contains("journal does not verify"), "\(outside.stdout)\(outside.stderr)")
        // A repository of the operator's own, with a runbook at the same path and allowed signers
        // naming their key as bob's, is not the run's: it lacks the commit the run recorded.
        #expect(try Fixtures.run("/usr/bin/git", ["init", "-q", elsewhere.path]).status == 0)
        try FileManager.default.createDirectory(at: elsewhere.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: run.dir.appendingPathComponent("change.md"), to: elsewhere.appendingPathComponent("change.md"))
        try original.write(to: elsewhere.appendingPathComponent(".runsheet/allowed_signers"), atomically: true, encoding: .utf8)
        let started = try #require(try RepositoryRuns.events(run.dir, id: run.id).first)
        #expect((started["data"] as? [String: Any])?["gitCommit"] is String, "\(started)")
        let own = try runsheet(["verify", run.id, "--store", run.url], in: elsewhere, environment: run.environment)
        #expect(own.status == 1 && own.stdout.contains("journal does not verify"), "\(own.stdout)\(own.stderr)")
    }

    @Test func anUnsignedRunReadsFromTheStoreAnywhere() throws {
        let team = try PostgresStoreTests().team()
        let (runs, id, _) = try PostgresStoreTests().aliceRun()
        let url = team.store.url(user: team.bob.user)
        let environment = team.store.environment(password: team.bob.password)
        let pushed = try Fixtures.runsheet(["store", "push", id, "--runs-dir", runs.path, "--store", team.store.url(user: team.alice.user)],
                                           environment: team.store.environment(password: team.alice.password))
        #expect(pushed.status == 0, "\(pushed.stderr)")
        let elsewhere = try Fixtures.temporaryDirectory("store-anywhere")
        defer { try? FileManager.default.removeItem(at: elsewhere) }
        for command in [["status", id], ["verify", id], ["report", id, "--format", "json"]] {
            let folder = try runsheet(command + ["--runs-dir", runs.path], in: elsewhere, environment: [:])
            let store = try runsheet(command + ["--store", url], in: elsewhere, environment: environment)
            #expect(folder.status == 0 && store.status == 0, "\(command): \(store.stdout)\(store.stderr)")
            let shown = store.stdout.replacingOccurrences(of: "\(url) run \(id)", with: "JOURNAL")
            #expect(shown == folder.stdout.replacingOccurrences(of: runs.path + "/\(id)/journal.jsonl", with: "JOURNAL"), "\(command):\n\(store.stdout)\n---\n\(folder.stdout)")
        }
        let unknown = try runsheet(["status", "no-such-run", "--store", url], in: elsewhere, environment: environment)
        #expect(unknown.status == 2 && unknown.stderr.contains("holds no run 'no-such-run'"), "\(unknown.stderr)")
        // A prefix is not looked up in the store: a run there is named by its whole id.
        let prefix = try runsheet(["status", String(id.prefix(8)), "--store", url], in: elsewhere, environment: environment)
        #expect(prefix.status == 2, "\(prefix.stderr)")
    }

    /// A member copies a run's events into the store under another run's key (by hand, as a
    /// "pushed" run, whose actors the database does not check): one set of approvals used twice.
    @Test func aRunCopiedUnderAnotherKeyDoesNotVerify() throws {
        let run = try pushedSignedRun()
        defer { try? FileManager.default.removeItem(at: run.dir) }
        let lines = try String(contentsOf: run.dir.appendingPathComponent("runs/\(run.id)/journal.jsonl"), encoding: .utf8).split(separator: "\n").map(String.init)
        let copy = run.id + "-copy"
        var sql = "BEGIN; INSERT INTO runsheet.runs (run, pushed, pushed_through) VALUES ('\(copy)', true, \(lines.count));"
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let hex = Array(line.utf8).map { String(format: "%02x", $0) }.joined()
            sql += " INSERT INTO runsheet.events (run, seq, line, hash, prev, actor) VALUES ('\(copy)', \(object["seq"] as? Int ?? 0), decode('\(hex)', 'hex'), '\(object["hash"] as? String ?? "")', '\(object["prev"] as? String ?? "")', '\(object["actor"] as? String ?? "")');"
        }
        let inserted = try run.team.store.sql(sql + " COMMIT;", user: run.team.alice.user, password: run.team.alice.password)
        #expect(inserted.status == 0 && !inserted.stderr.contains("ERROR"), "\(inserted.stderr)")
        let original = try runsheet(["verify", run.id, "--store", run.url], in: run.dir, environment: run.environment)
        #expect(original.status == 0, "the positive control: \(original.stdout)\(original.stderr)")
        let copied = try runsheet(["verify", copy, "--store", run.url], in: run.dir, environment: run.environment)
        #expect(copied.status == 1 && copied.stdout.contains("holds the journal of run \(run.id)"), "\(copied.stdout)\(copied.stderr)")
    }

    /// A seal on the store: signed with the person's key, checked against the repository's allowed
    /// signers, written as the person the database user is mapped to.
    @Test func aSealOnTheStoreIsSignedAndVerifies() throws {
        let run = try pushedSignedRun()
        defer { try? FileManager.default.removeItem(at: run.dir) }
        // The run names its people as the roles file does ("alice"); the store maps alice's user to that name.
        let owner = run.team.store.environment(password: run.team.store.ownerPassword)
        let granted = try Fixtures.runsheet(["store", "grant", "alice", run.team.alice.user, "--store", run.team.store.url()], environment: owner)
        #expect(granted.status == 0, "\(granted.stderr)")
        let aliceKey = run.dir.appendingPathComponent("keys/alice").path
        // The roles file as the run started went into the store with it (pushed from the repository's root).
        let pulled = try Fixtures.temporaryDirectory("store-pulled")
        defer { try? FileManager.default.removeItem(at: pulled) }
        #expect(try runsheet(["store", "pull", run.id, "--runs-dir", pulled.path, "--store", run.url], in: run.dir, environment: run.environment).status == 0)
        let index = try String(contentsOf: pulled.appendingPathComponent("\(run.id)/started/files.tsv"), encoding: .utf8)
        #expect(index.contains("rule\t") && index.contains("\t.runsheet/roles.yaml\n"), "\(index)")
        let unsigned = try runsheet(["seal", run.id, "--as", "alice", "--store", run.url], in: run.dir, environment: run.environment)
        #expect(unsigned.status == 1 && unsigned.stderr.contains("a seal must be signed"), "\(unsigned.stdout)\(unsigned.stderr)")
        let sealed = try runsheet(["seal", run.id, "--as", "alice", "--key", aliceKey, "--store", run.url], in: run.dir, environment: run.environment)
        #expect(sealed.status == 0 && sealed.stdout.contains("sealed run \(run.id)"), "\(sealed.stdout)\(sealed.stderr)")
        let verified = try runsheet(["verify", run.id, "--store", run.url], in: run.dir, environment: run.environment)
        #expect(verified.status == 0 && verified.stdout.contains("sealed at event") && verified.stdout.contains("journal.sealed by alice, key"), "\(verified.stdout)\(verified.stderr)")
        // Bob's key named as alice's does not bind: the allowed signers say whose key it is.
        let bobAsAlice = try runsheet(["seal", run.id, "--as", "alice", "--key", run.bobKey, "--store", run.url], in: run.dir, environment: run.environment)
        #expect(bobAsAlice.status != 0, "\(bobAsAlice.stdout)\(bobAsAlice.stderr)")
    }
}
