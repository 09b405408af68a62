import Foundation
import RunsheetCore
import RunsheetTestSupport
import Synchronization
import Testing

/// `sign` on a run of the PostgreSQL store: check-and-append under the run's advisory lock, and
/// the database's refusal of an event in someone else's name. Against a real server, through the binary.
@Suite(.serialized) struct StoreSignTests {
    static let runbook = """
        ---
        runsheet: 1
        id: shared-change
        title: Shared change
        roles: [sre]
        ---

        # Change

        - [ ] Approve the change
          - Sign-off: 2 of sre
          - Separation: starter
        - [ ] Make the change
        """

    /// A store with alice, bob and carol; carol's run of the runbook, paused at its gate and pushed.
    func pushedRun() throws -> (dir: URL, id: String, team: PostgresStoreTests.Team, carol: (user: String, password: String)) {
        let team = try PostgresStoreTests().team()
        let carol = try team.store.makeUser("carol")
        let granted = try Fixtures.runsheet(["store", "grant", "carol@example.com", carol.user, "--store", team.store.url()],
                                            environment: team.store.environment(password: team.store.ownerPassword))
        #expect(granted.status == 0, "\(granted.stderr)")
        let dir = try Fixtures.temporaryDirectory("store-sign")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        try "roles:\n  sre: [alice@example.com, bob@example.com, carol@example.com]\n"
            .write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        try Self.runbook.write(to: dir.appendingPathComponent("change.md"), atomically: true, encoding: .utf8)
        let started = try RepositoryRuns.runsheet(["run", "change.md", "--auto", "--as", "carol@example.com"], in: dir)
        #expect(started.status == 3, "\(started.stdout)\(started.stderr)")
        let id = try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))
        let pushed = try Fixtures.runsheet(["store", "push", id, "--runs-dir", "runs", "--store", team.store.url(user: carol.user)],
                                           environment: team.store.environment(password: carol.password), directory: dir)
        #expect(pushed.status == 0, "\(pushed.stderr)")
        return (dir, id, team, carol)
    }

    func storeEvents(_ id: String, team: PostgresStoreTests.Team) throws -> [[String: Any]] {
        let exported = try Fixtures.runsheet(["export", id, "--store", team.store.url(user: team.bob.user)], environment: team.store.environment(password: team.bob.password))
        #expect(exported.status == 0, "\(exported.stderr)")
        return exported.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    @Test func twoSignersRacingOnOneGateEachCountOnceAndAnImpersonationIsRefusedByTheDatabase() throws {
        let (dir, id, team, _) = try pushedRun()
        defer { try? FileManager.default.removeItem(at: dir) }
        let before = try storeEvents(id, team: team).count

        // Alice, connected as herself, signs in Bob's name: the database refuses the row.
        let forged = try Fixtures.runsheet(["sign", id, "approve-the-change", "--as", "bob@example.com", "--store", team.store.url(user: team.alice.user)],
                                           environment: team.store.environment(password: team.alice.password), directory: dir)
        #expect(forged.status == 6 && forged.stderr.contains("only in their own name"), "\(forged.status) \(forged.stdout)\(forged.stderr)")
        #expect(try storeEvents(id, team: team).count == before, "nothing was written")

        // Alice and Bob each sign twice, all four at once.
        let signers = [("alice@example.com", team.alice), ("bob@example.com", team.bob), ("alice@example.com", team.alice), ("bob@example.com", team.bob)]
        let results = Mutex<[Int: ProcessResult]>([:])
        DispatchQueue.concurrentPerform(iterations: signers.count) { index in
            let (person, login) = signers[index]
            let result = try? Fixtures.runsheet(["sign", id, "approve-the-change", "--as", person, "--store", team.store.url(user: login.user)],
                                                environment: team.store.environment(password: login.password), directory: dir)
            if let result { results.withLock { $0[index] = result } }
        }
        let finished = results.withLock { $0 }
        #expect(finished.count == 4)
        let succeeded = finished.values.filter { $0.status == 0 }
        #expect(succeeded.count == 2, "\(finished.values.map { "\($0.status) \($0.stdout)\($0.stderr)" })")
        for refused in finished.values where refused.status != 0 {
            #expect(refused.status == 1 && !refused.stderr.isEmpty, "\(refused.status) \(refused.stdout)\(refused.stderr)")
        }
        let events = try storeEvents(id, team: team)
        let signatures = events.filter { $0["type"] as? String == "signoff.signed" }.compactMap { $0["actor"] as? String }
        #expect(signatures.sorted() == ["alice@example.com", "bob@example.com"], "\(signatures)")
        let verified = try Fixtures.runsheet(["verify", id, "--store", team.store.url(user: team.bob.user)],
                                             environment: team.store.environment(password: team.bob.password), directory: dir)
        #expect(verified.status == 0 && verified.stdout.contains(": intact, \(events.count) events"), "\(verified.stdout)\(verified.stderr)")
        let status = try Fixtures.runsheet(["status", id, "--store", team.store.url(user: team.bob.user)],
                                           environment: team.store.environment(password: team.bob.password), directory: dir)
        #expect(status.status == 0 && status.stdout.contains("approve-the-change"), "\(status.stdout)\(status.stderr)")
    }

    @Test func aRejectionOnTheStoreIsAppendedAndAnnouncedOnRunsheetRun() throws {
        let (dir, id, team, _) = try pushedRun()
        defer { try? FileManager.default.removeItem(at: dir) }
        // A listener on the channel while bob rejects the gate (psql reports a notification after its query).
        let heard = Mutex<ProcessResult?>(nil)
        let listening = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            // Two -c commands: LISTEN takes effect when its own transaction commits, before the wait.
            let server = team.store.server
            let result = try? Fixtures.run(server.binaries + "/psql", ["-X", "-q", "-t", "-A", "-h", "127.0.0.1", "-p", String(server.port), "-U", team.alice.user,
                                                                         "-d", team.store.database, "-c", "LISTEN runsheet_run", "-c", "SELECT pg_sleep(4)"],
                                           environment: ["PGPASSWORD": team.alice.password, "PGPASSFILE": "/nonexistent", "PGSSLMODE": "disable"])
            heard.withLock { $0 = result }
            listening.signal()
        }
        Thread.sleep(forTimeInterval: 1)
        let rejected = try Fixtures.runsheet(["reject", id, "approve-the-change", "--as", "bob@example.com", "--reason", "not yet", "--store", team.store.url(user: team.bob.user)],
                                             environment: team.store.environment(password: team.bob.password), directory: dir)
        #expect(rejected.status == 0, "\(rejected.stdout)\(rejected.stderr)")
        #expect(listening.wait(timeout: .now() + 30) == .success)
        let notification = heard.withLock { $0 }
        #expect(notification?.stdout.contains("notification \"runsheet_run\" with payload \"\(id)\"") == true, "\(String(describing: notification))")
        let events = try storeEvents(id, team: team)
        let rejection = try #require(events.last { $0["type"] as? String == "signoff.rejected" })
        #expect(rejection["actor"] as? String == "bob@example.com", "\(rejection)")
        // The folder the run was pushed from does not have it: the store is where the run goes on.
        let folder = try String(contentsOf: dir.appendingPathComponent("runs/\(id)/journal.jsonl"), encoding: .utf8)
        #expect(!folder.contains("signoff.rejected"))
    }
}
