import Foundation
import RunsheetCore
import RunsheetTestSupport
import Synchronization
import Testing

/// Appends to a run of the PostgreSQL store are optimistic: each is checked against the run as
/// its writer knows it and sent as one statement the database commits only onto that head; a
/// writer whose head moved reads what landed, checks again and sends again. Played for real:
/// many signers at once on their own database users, while the run's session waits at the gate.
@Suite(.serialized) struct StoreAppendRaceTests {
    static let runbook = """
        ---
        runsheet: 1
        id: cab-change
        title: CAB change
        roles: [cab]
        ---

        # Change

        - [ ] Approve the change
          - Sign-off: 3 of cab
          - Separation: starter
        - [ ] Make the change

          ```bash run
          echo changed
          ```
        """

    static let cab = ["bob", "carol", "dave", "erin", "frank"]

    @Test func fiveSignersEachSigningTwiceAtOnceLandThreeSignaturesOnceEachWhileTheWaitingSessionKeepsItsChain() throws {
        let team = try PostgresStoreTests().team()
        let owner = team.store.environment(password: team.store.ownerPassword)
        // Each cab member a database user of their own (bob's is the team's).
        var logins: [String: (user: String, password: String)] = ["bob": team.bob]
        for name in Self.cab where name != "bob" {
            let login = try team.store.makeUser(name)
            let granted = try Fixtures.runsheet(["store", "grant", "\(name)@example.com", login.user, "--store", team.store.url()], environment: owner)
            #expect(granted.status == 0, "\(granted.stderr)")
            logins[name] = login
        }
        func environment(_ login: (user: String, password: String), home: URL) throws -> [String: String] {
            var environment = team.store.environment(password: login.password)
            environment["HOME"] = home.path
            environment["TMPDIR"] = home.path + "/tmp"
            try FileManager.default.createDirectory(at: home.appendingPathComponent("tmp"), withIntermediateDirectories: true)
            return environment
        }
        let checkout = try Fixtures.temporaryDirectory("store-race-a")
        defer { try? FileManager.default.removeItem(at: checkout) }
        try FileManager.default.createDirectory(at: checkout.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        try "roles:\n  operator: [alice@example.com]\n  cab: [\(Self.cab.map { "\($0)@example.com" }.joined(separator: ", "))]\n"
            .write(to: checkout.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        try Self.runbook.write(to: checkout.appendingPathComponent("change.md"), atomically: true, encoding: .utf8)
        for arguments in [["init", "-q"], ["add", "-A"], ["-c", "user.name=Alice", "-c", "user.email=alice@example.com", "commit", "-qm", "rules and runbook"]] {
            let git = try Fixtures.run("/usr/bin/git", ["-C", checkout.path] + arguments)
            #expect(git.status == 0, "git \(arguments): \(git.stderr)")
        }
        let session = try RunningRunsheet(["run", "change.md", "--as", "alice@example.com", "--store", team.store.url(user: team.alice.user)],
                                          environment: try environment(team.alice, home: checkout), directory: checkout)
        session.send("wait", "run")
        let id = try StoreRunTests().startedID(session)
        #expect(session.waitFor("needs 3 more of cab", seconds: 30), "\(session.printed)\(session.errors)")

        // Ten processes at once: each of the five signs twice, each from a folder of their own.
        let signers = Self.cab + Self.cab
        let homes = try signers.indices.map { try Fixtures.temporaryDirectory("store-race-\(signers[$0])-\($0)") }
        defer { for home in homes { try? FileManager.default.removeItem(at: home) } }
        let results = Mutex<[Int: ProcessResult]>([:])
        let environments = try signers.indices.map { try environment(logins[signers[$0]]!, home: homes[$0]) }
        let urls = signers.map { team.store.url(user: logins[$0]!.user) }
        DispatchQueue.concurrentPerform(iterations: signers.count) { index in
            let name = signers[index]
            let result = try? Fixtures.runsheet(["sign", id, "approve-the-change", "--as", "\(name)@example.com", "--store", urls[index]],
                                                environment: environments[index], directory: homes[index])
            if let result { results.withLock { $0[index] = result } }
        }
        let finished = results.withLock { $0 }
        #expect(finished.count == signers.count)
        let signed = finished.filter { $0.value.status == 0 }
        #expect(signed.count == 3, "\(finished.sorted { $0.key < $1.key }.map { "\(signers[$0.key]): \($0.value.status) \($0.value.stdout)\($0.value.stderr)" })")
        // The others are refused by a rule (a second signature by the same person, the gate's rule
        // met, the run moved on or ended), exit 1: none by the store.
        for (index, refused) in finished where refused.status != 0 {
            #expect(refused.status == 1 && refused.stderr.hasPrefix("runsheet: ") && !refused.stderr.contains("store"),
                    "\(signers[index]): \(refused.status) \(refused.stdout)\(refused.stderr)")
        }
        // The session, waiting at the gate all along, moves on by itself and completes.
        #expect(session.waitFor("gate approved", seconds: 20), "\(session.printed)\(session.errors)")
        #expect(session.finish(seconds: 60) == 0, "\(session.printed)\(session.errors)")

        // In the store: three signatures by three people, each by their own database user, in one unbroken chain.
        let sql = { (text: String) in
            try team.store.sql(text, user: team.store.owner, password: team.store.ownerPassword).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let signatures = try sql("""
            SELECT string_agg(actor || '=' || db_user, ' ' ORDER BY seq) FROM runsheet.events
            WHERE run = '\(id)' AND convert_from(line, 'UTF8')::jsonb->>'type' = 'signoff.signed'
            """).split(separator: " ").map(String.init)
        #expect(signatures.count == 3 && Set(signatures.map { $0.split(separator: "=")[0] }).count == 3, "\(signatures)")
        for pair in signatures {
            let parts = pair.split(separator: "=").map(String.init)
            let name = String(parts[0].prefix { $0 != "@" })
            #expect(parts.count == 2 && logins[name]?.user == parts[1], "\(pair)")
        }
        let counted = try sql("SELECT count(*) || ' ' || max(seq) FROM runsheet.events WHERE run = '\(id)'").split(separator: " ").compactMap { Int($0) }
        #expect(counted.count == 2 && counted[0] == counted[1], "seqs 1 to the head with none missing: \(counted)")
        let signerSigned = finished.filter { $0.value.status == 0 }.map { "\(signers[$0.key])@example.com" }.sorted()
        #expect(signerSigned == signatures.map { String($0.split(separator: "=")[0]) }.sorted())
        let exported = checkout.appendingPathComponent("exported/\(id)/journal.jsonl")
        try FileManager.default.createDirectory(at: exported.deletingLastPathComponent(), withIntermediateDirectories: true)
        let export = try Fixtures.runsheet(["export", id, "-o", exported.path, "--store", team.store.url(user: team.bob.user)],
                                           environment: team.store.environment(password: team.bob.password), directory: checkout)
        #expect(export.status == 0, "\(export.stderr)")
        let verified = try Fixtures.runsheet(["verify", exported.path], environment: ["RUNSHEET_STORE": ""], directory: checkout)
        #expect(verified.status == 0 && verified.stdout.contains("intact"), "\(verified.stdout)\(verified.stderr)")
        let journal = try String(contentsOf: exported, encoding: .utf8)
        #expect(journal.contains("\"run.ended\"") && journal.contains("\"completed\""), "\(journal)")
    }
}
