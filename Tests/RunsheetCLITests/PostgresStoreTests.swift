import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// The PostgreSQL store against a real throwaway server (`PostgresServer`): set-up, push, export,
/// pull, what the database refuses, and each way the store can be unusable. Through the binary.
@Suite(.serialized) struct PostgresStoreTests {
    static let fixture = Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/runbooks/run-demo.md").path

    func server() throws -> PostgresServer {
        try PostgresServer.shared.get()
    }

    /// A store with its schema, and two members: alice@example.com and bob@example.com.
    struct Team {
        var store: TestStore
        var role: String
        var alice: (user: String, password: String)
        var bob: (user: String, password: String)
    }

    func team(on own: PostgresServer? = nil) throws -> Team {
        let store = try (own ?? server()).makeStore()
        let role = "rs_\(store.suffix)"
        let owner = store.environment(password: store.ownerPassword)
        let initialized = try Fixtures.runsheet(["store", "init", store.url(), "--role", role], environment: owner)
        #expect(initialized.status == 0, "\(initialized.stderr)")
        let alice = try store.makeUser("alice"), bob = try store.makeUser("bob")
        for (person, user) in [("Alice@Example.com", alice.user), ("bob@example.com", bob.user)] {
            let granted = try Fixtures.runsheet(["store", "grant", person, user, "--store", store.url()], environment: owner)
            #expect(granted.status == 0, "\(granted.stderr)")
        }
        return Team(store: store, role: role, alice: alice, bob: bob)
    }

    /// A finished run of the demo runbook by alice, in a new runs folder.
    func aliceRun() throws -> (runs: URL, id: String, journal: String) {
        let runs = try Fixtures.temporaryDirectory("pg-runs")
        let result = try Fixtures.runsheet(["run", Self.fixture, "--runs-dir", runs.path, "--as", "alice@example.com"],
                                           stdin: "done\nrun\nnote all good\nrun\n")
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        let id = try #require(Fixtures.onlyRun(in: runs.path))
        return (runs, id, runs.path + "/\(id)/journal.jsonl")
    }

    /// `aliceRun()`, pushed to the team's store by alice.
    func pushedAliceRun(_ team: Team) throws -> (runs: URL, id: String, journal: String) {
        let run = try aliceRun()
        let pushed = try Fixtures.runsheet(["store", "push", run.id, "--runs-dir", run.runs.path, "--store", team.store.url(user: team.alice.user)],
                                           environment: team.store.environment(password: team.alice.password))
        #expect(pushed.status == 0, "\(pushed.stderr)")
        return run
    }

    @Test func initTwiceIsIdempotentAndTheRoleHoldsExactlyItsGrants() throws {
        let store = try server().makeStore()
        let role = "rs_\(store.suffix)"
        let owner = store.environment(password: store.ownerPassword)
        let first = try Fixtures.runsheet(["store", "init", store.url(), "--role", role], environment: owner)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("created the runsheet schema, version 4"))
        let second = try Fixtures.runsheet(["store", "init", store.url(), "--role", role], environment: owner)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("at version 4 already"))
        let grants = try store.sql("""
            SELECT string_agg(t || ':' || p || '=' || has_table_privilege('\(role)', 'runsheet.' || t, p)::text, ' ' ORDER BY t, p)
            FROM unnest(ARRAY['events','runs','members','blobs','run_files','store','governance','voided']) t,
                 unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE']) p
            """, user: store.owner, password: store.ownerPassword)
        let table = grants.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        for name in ["events", "runs", "blobs", "run_files", "governance"] {
            #expect(table.contains("\(name):SELECT=true") && table.contains("\(name):INSERT=true"), "\(table)")
        }
        // What store void moved aside is read by all and written by the owner alone.
        for name in ["members", "store", "voided"] {
            #expect(table.contains("\(name):SELECT=true") && table.contains("\(name):INSERT=false"), "\(table)")
        }
        for privilege in ["UPDATE", "DELETE", "TRUNCATE"] { #expect(!table.contains("\(privilege)=true"), "\(table)") }
        // Who holds a session lock is the one table a member may rewrite, and never delete from.
        let locks = try store.sql("""
            SELECT string_agg(p || '=' || has_table_privilege('\(role)', 'runsheet.session_locks', p)::text, ' ' ORDER BY p)
            FROM unnest(ARRAY['SELECT','INSERT','UPDATE','DELETE','TRUNCATE']) p
            """, user: store.owner, password: store.ownerPassword)
        #expect(locks.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "DELETE=false INSERT=true SELECT=true TRUNCATE=false UPDATE=true", "\(locks.stdout)")
        let login = try store.sql("SELECT rolcanlogin FROM pg_roles WHERE rolname = '\(role)'", user: store.owner, password: store.ownerPassword)
        #expect(login.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "f", "the role is NOLOGIN")
        let version = try store.sql("SELECT version FROM runsheet.store", user: store.owner, password: store.ownerPassword)
        #expect(version.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "4")
    }

    @Test func initUpgradesAVersion1StoreToVersion4() throws {
        let store = try server().makeStore()
        let role = "rs_\(store.suffix)"
        let owner = store.environment(password: store.ownerPassword)
        let created = try Fixtures.runsheet(["store", "init", store.url(), "--role", role], environment: owner)
        #expect(created.status == 0, "\(created.stderr)")
        // The store as version 1 left it: no session_locks, governance or voided table, no canonical check.
        let downgraded = try store.sql("DROP TABLE runsheet.session_locks, runsheet.governance, runsheet.voided; DROP FUNCTION runsheet.stamp_voided(), runsheet.check_governance(); DROP FUNCTION runsheet.check_file() CASCADE; DROP FUNCTION runsheet.canonical_event(jsonb), runsheet.canonical_governance(jsonb), runsheet.canonical(jsonb), runsheet.armored_signature(text); UPDATE runsheet.store SET version = 1", user: store.owner, password: store.ownerPassword)
        #expect(downgraded.status == 0, "\(downgraded.stderr)")
        let refused = try Fixtures.runsheet(["status", "--store", store.url()], environment: owner)
        #expect(refused.status == 6 && refused.stderr.contains("older than version 4"), "\(refused.stderr)")
        let upgraded = try Fixtures.runsheet(["store", "init", store.url(), "--role", role], environment: owner)
        #expect(upgraded.status == 0 && upgraded.stdout.contains("from version 1 to 4"), "\(upgraded.stdout)\(upgraded.stderr)")
        let table = try store.sql("SELECT to_regclass('runsheet.session_locks') IS NOT NULL", user: store.owner, password: store.ownerPassword)
        #expect(table.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "t")
    }

    @Test func pushExportVerifyAndPullGiveTheSameBytes() throws {
        let team = try team()
        let (runs, id, journal) = try aliceRun()
        let alice = team.store.environment(password: team.alice.password)
        let url = team.store.url(user: team.alice.user)
        let pushed = try Fixtures.runsheet(["store", "push", id, "--runs-dir", runs.path, "--store", url], environment: alice)
        #expect(pushed.status == 0, "\(pushed.stderr)")
        #expect(pushed.stdout.contains("pushed \(id):") && pushed.stdout.contains("verified in the store"))
        let original = try Data(contentsOf: URL(fileURLWithPath: journal))

        let exported = try Fixtures.runsheet(["export", id, "--store", url], environment: alice)
        #expect(exported.status == 0, "\(exported.stderr)")
        #expect(Data(exported.stdout.utf8) == original, "export writes journal.jsonl byte for byte")
        // verify reads a journal by the name journal.jsonl, in a folder named for its run (RunBinding).
        let folder = try Fixtures.temporaryDirectory("exported").appendingPathComponent(id)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("journal.jsonl").path
        let written = try Fixtures.runsheet(["export", id, "-o", file], environment: alice.merging(["RUNSHEET_STORE": url]) { $1 })
        #expect(written.status == 0, "\(written.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: file)) == original)
        let fromFolder = try Fixtures.runsheet(["verify", runs.path + "/\(id)"])
        let fromStore = try Fixtures.runsheet(["verify", file])
        #expect(fromFolder.status == 0 && fromStore.status == 0, "\(fromStore.stdout)")
        func answer(_ output: String) -> String { output.components(separatedBy: ": intact").dropFirst().joined() }
        #expect(answer(fromStore.stdout) == answer(fromFolder.stdout) && !answer(fromStore.stdout).isEmpty, "verify gives the same answer")

        let elsewhere = try Fixtures.temporaryDirectory("pg-pulled")
        let pulled = try Fixtures.runsheet(["store", "pull", id, "--runs-dir", elsewhere.path, "--store", url], environment: alice)
        #expect(pulled.status == 0, "\(pulled.stderr)")
        #expect(try Data(contentsOf: elsewhere.appendingPathComponent("\(id)/journal.jsonl")) == original)
        let log = try String(contentsOf: elsewhere.appendingPathComponent("\(id)/output/say-hello-1-1.log"), encoding: .utf8)
        #expect(log == (try String(contentsOfFile: runs.path + "/\(id)/output/say-hello-1-1.log", encoding: .utf8)))
        let index = try String(contentsOf: elsewhere.appendingPathComponent("\(id)/started/files.tsv"), encoding: .utf8)
        let runbookSHA = SHA256Hex.of(Array(try Data(contentsOf: URL(fileURLWithPath: Self.fixture))))
        #expect(index.contains("runbook\t\(runbookSHA)\t"), "the runbook as the run started travels with it: \(index)")
        #expect(try Fixtures.runsheet(["verify", elsewhere.path + "/\(id)"]).status == 0)

        let again = try Fixtures.runsheet(["store", "push", id, "--runs-dir", runs.path, "--store", url], environment: alice)
        #expect(again.status == 2 && again.stderr.contains("already in the store"), "\(again.stderr)")
        let twice = try Fixtures.runsheet(["store", "pull", id, "--runs-dir", elsewhere.path, "--store", url], environment: alice)
        #expect(twice.status == 2 && twice.stderr.contains("already exists"), "\(twice.stderr)")
    }

    /// The line of the event after `head`, by `actor`, as runsheet would write it.
    func nextLine(after events: [RunEvent], actor: String, prev: String? = nil) throws -> (event: RunEvent, line: String) {
        let last = try #require(events.last)
        // A review: an act of someone other than the session driving the run, which a member may
        // append without the run's lease (StoreDrivingTests: a driving event needs it).
        let event = try RunEvent(seq: last.seq + 1, time: Timestamp.now(), type: .reviewSigned, actor: actor, host: "h", via: "script",
                                 data: ["comment": .string("by \(actor)")], canonical: PersonName.canonical(actor))
            .sealed(seq: last.seq + 1, after: prev ?? last.hash)
        return (event, String(decoding: try event.canonicalJSON(), as: UTF8.self))
    }

    func insert(_ runID: String, _ event: RunEvent, _ line: String) -> String {
        let hex = Array(line.utf8).map { String(format: "%02x", $0) }.joined()
        return "INSERT INTO runsheet.events (run, seq, line, hash, prev, actor) VALUES ('\(runID)', \(event.seq), decode('\(hex)', 'hex'), '\(event.hash)', '\(event.prev)', '\(event.actor)')"
    }

    @Test func theDatabaseRefusesForgeriesAndChanges() throws {
        let team = try team()
        let (_, id, journal) = try pushedAliceRun(team)
        var events = try JournalFile.read(at: journal).events
        func asAlice(_ sql: String) throws -> ProcessResult { try team.store.sql(sql, user: team.alice.user, password: team.alice.password) }
        func asBob(_ sql: String) throws -> ProcessResult { try team.store.sql(sql, user: team.bob.user, password: team.bob.password) }

        // Bob's own review goes in: the positive control for what follows.
        let own = try nextLine(after: events, actor: "bob@example.com")
        let accepted = try asBob(insert(id, own.event, own.line))
        #expect(accepted.status == 0, "\(accepted.stderr)")
        events.append(own.event)

        // Alice writes a well-formed, correctly chained approval-like note in Bob's name.
        let forged = try nextLine(after: events, actor: "bob@example.com")
        let refused = try asAlice(insert(id, forged.event, forged.line))
        #expect(refused.status != 0 && refused.stderr.contains("a member writes events only in their own name"), "\(refused.stderr)")
        // The same with the canonical field claiming Alice while actor says Bob.
        var mixed = forged.event
        mixed.canonical = "alice@example.com"
        mixed = try mixed.sealed(seq: mixed.seq, after: mixed.prev)
        let mixedRefused = try asAlice(insert(id, mixed, String(decoding: try mixed.canonicalJSON(), as: UTF8.self)))
        #expect(mixedRefused.status != 0 && mixedRefused.stderr.contains("only in their own name"), "\(mixedRefused.stderr)")

        // A row forged by hand whose prev is not the head (hash recomputed, so only the chain is wrong).
        let skipped = try nextLine(after: events, actor: "alice@example.com", prev: events[0].hash)
        let offChain = try asAlice(insert(id, skipped.event, skipped.line))
        #expect(offChain.status != 0 && offChain.stderr.contains("does not follow the run's head"), "\(offChain.stderr)")
        // A line whose hash was not recomputed after an edit.
        let honest = try nextLine(after: events, actor: "alice@example.com")
        let edited = honest.line.replacingOccurrences(of: "by alice@example.com", with: "by alice@example.org")
        let badHash = try asAlice(insert(id, honest.event, edited))
        #expect(badHash.status != 0 && badHash.stderr.contains("does not match its line"), "\(badHash.stderr)")

        // A run started in the database by Bob whose first event is Alice's.
        let firstLine = try #require(try String(contentsOfFile: journal, encoding: .utf8).split(separator: "\n").first.map(String.init))
        let started = try asBob("INSERT INTO runsheet.runs (run) VALUES ('fresh-\(id)'); " + insert("fresh-\(id)", events[0], firstLine))
        #expect(started.status != 0 && started.stderr.contains("only in their own name"), "\(started.stderr)")
        // Marking a run as pushed to slip unchecked events in later: its events must come with it.
        let hollow = try asBob("INSERT INTO runsheet.runs (run, pushed, pushed_through) VALUES ('hollow-\(id)', true, 3)")
        #expect(hollow.status != 0 && hollow.stderr.contains("was pushed with 3 events, but only 0 came with it"), "\(hollow.stderr)")

        // No UPDATE, DELETE or TRUNCATE for a member; and no rewriting who is who.
        for sql in ["UPDATE runsheet.events SET actor = 'x' WHERE run = '\(id)'", "DELETE FROM runsheet.events WHERE run = '\(id)'",
                    "TRUNCATE runsheet.events", "INSERT INTO runsheet.members (db_user, person) VALUES ('\(team.alice.user)x', 'bob@example.com')",
                    "UPDATE runsheet.members SET person = 'bob@example.com'"] {
            let result = try asAlice(sql)
            #expect(result.status != 0 && result.stderr.contains("permission denied"), "\(sql): \(result.stderr)")
        }
        // The database's word on who and when, not the client's.
        let claimed = try nextLine(after: events, actor: "alice@example.com")
        let stamped = try asAlice(insert(id, claimed.event, claimed.line).replacingOccurrences(of: "(run, seq, line, hash, prev, actor)", with: "(db_user, server_time, run, seq, line, hash, prev, actor)")
            .replacingOccurrences(of: "VALUES (", with: "VALUES ('\(team.bob.user)', '2001-01-01', "))
        #expect(stamped.status == 0, "\(stamped.stderr)")
        let who = try asAlice("SELECT db_user || ' ' || (server_time > now() - interval '1 hour')::text FROM runsheet.events WHERE run = '\(id)' AND seq = \(claimed.event.seq)")
        #expect(who.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "\(team.alice.user) true")

        // What the store holds still verifies, with Bob's and Alice's own events in it.
        try expectVerifies(team, id, events: events.count + 1)
    }

    /// The run as the store holds it, exported by bob, verifies, with `events` events; `directory`:
    /// where `verify` runs (a run started in another repository than this package's is checked there).
    func expectVerifies(_ team: Team, _ id: String, events: Int, directory: URL? = nil) throws {
        let folder = try Fixtures.temporaryDirectory("canonical").appendingPathComponent(id)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("journal.jsonl").path
        let exported = try Fixtures.runsheet(["export", id, "-o", file, "--store", team.store.url(user: team.bob.user)],
                                             environment: team.store.environment(password: team.bob.password))
        #expect(exported.status == 0, "\(exported.stderr)")
        let verified = try Fixtures.runsheet(["verify", file], directory: directory)
        #expect(verified.status == 0 && verified.stdout.contains("intact, \(events) events"), "\(verified.stdout)\(verified.stderr)")
    }

    /// Each way the store cannot be used: one sentence on standard error, exit 6.
    @Test func anUnusableStoreIsOneSentenceAndExitSix() throws {
        let team = try team()
        let store = team.store
        let (runs, id, _) = try aliceRun()
        let alice = store.environment(password: team.alice.password)
        let cases: [(String, [String: String], String)] = [
            (store.url(user: team.alice.user), store.environment(password: "wrong"), "refused the password"),
            (store.url(user: team.alice.user, port: PostgresServer.freePort()), alice, "cannot be reached: connection refused"),
            (store.url(user: team.alice.user, query: "sslmode=require"), alice, "does not offer TLS, which sslmode=require requires"),
            (store.url(user: team.alice.user, query: "sslmode=prefer").replacingOccurrences(of: "/\(store.database)?", with: "/nodb_\(store.suffix)?"), alice, "the server has no such database"),
            (store.url(user: team.alice.user), store.environment(password: ""), "asks for a password and none was found"),
        ]
        for (url, environment, words) in cases {
            let result = try Fixtures.runsheet(["store", "push", id, "--runs-dir", runs.path, "--store", url], environment: environment)
            #expect(result.status == 6, "\(url): \(result.stderr)")
            #expect(result.stderr.hasPrefix("runsheet: ") && result.stderr.contains(words), "\(url): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "one sentence: \(result.stderr)")
        }

        // No schema in a fresh database; then one too old and one too new.
        let bare = try server().makeStore()
        let missing = try Fixtures.runsheet(["export", id, "--store", bare.url()], environment: bare.environment(password: bare.ownerPassword))
        #expect(missing.status == 6 && missing.stderr.contains("holds no runsheet schema") && missing.stderr.contains("runsheet store init"), "\(missing.stderr)")
        for (version, words) in [(99, "newer than version 4 this runsheet knows; upgrade runsheet"), (1, "older than version 4")] {
            let set = try store.sql("UPDATE runsheet.store SET version = \(version)", user: store.owner, password: store.ownerPassword)
            #expect(set.status == 0, "\(set.stderr)")
            let result = try Fixtures.runsheet(["export", id, "--store", store.url(user: team.alice.user)], environment: alice)
            #expect(result.status == 6 && result.stderr.contains(words), "\(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1)
        }

        // A password in the URL is refused before anything is sent, and never echoed.
        let inURL = try Fixtures.runsheet(["export", id, "--store", "postgresql://alice:hunter2@127.0.0.1/db"])
        #expect(inURL.status == 2 && inURL.stderr.contains("carries a password") && !inURL.stderr.contains("hunter2"), "\(inURL.stderr)")
        let noStore = try Fixtures.runsheet(["store", "push", id, "--runs-dir", runs.path], environment: ["RUNSHEET_STORE": ""])
        #expect(noStore.status == 2 && noStore.stderr.contains("needs a PostgreSQL store"), "\(noStore.stderr)")
    }
}
