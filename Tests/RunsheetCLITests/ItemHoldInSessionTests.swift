import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Two open runs on one configuration item: run B got past the start's check while run A's
/// folder was moved aside for a moment, and put back. B's production step does not
/// start while A is open: the check is made again in the session, with a note on the step.
@Suite struct ItemHoldInSessionTests {
    static let second = """
        ---
        runsheet: 1
        id: reindex
        title: reindex
        service: ledger
        environment: production
        components: [payments-db]
        ---

        # Change

        - [ ] Prepare the index
        - [ ] Reindex the ledger
          - Production: yes
        """

    @Test func anEarlierOpenRunHoldsTheItemAtTheProductionStep() throws {
        let dir = try ConfigurationItemTests().repository(inventory: "items:\n  payments-db: {owner: dba, criticality: low}\n", policy: "normal: {approvers: 1}\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.second.write(to: dir.appendingPathComponent("reindex.md"), atomically: true, encoding: .utf8)
        #expect(try RepositoryRuns.runsheet(["run", "migrate.md", "--as", "alice", "--auto"], in: dir).status == 3)
        let first = try #require(ConfigurationItemTests().runs(dir).first)
        let refused = try RepositoryRuns.runsheet(["run", "reindex.md", "--as", "bob", "--auto"], in: dir)
        #expect(refused.status == 5, "\(refused.stderr)")
        // Editing A's runbook for a moment no longer helps (a changed runbook holds every item):
        let runbook = dir.appendingPathComponent("migrate.md")
        let original = try String(contentsOf: runbook, encoding: .utf8)
        try original.replacingOccurrences(of: "components: [payments-db]", with: "components: []").write(to: runbook, atomically: true, encoding: .utf8)
        #expect(try RepositoryRuns.runsheet(["run", "reindex.md", "--as", "bob", "--auto"], in: dir).status == 5)
        try original.write(to: runbook, atomically: true, encoding: .utf8)
        // so the insider moves A's run folder aside for a moment, starts B, and puts it back.
        let held = dir.appendingPathComponent("runs/\(first)"), aside = dir.appendingPathComponent("aside")
        try FileManager.default.moveItem(at: held, to: aside)
        let bob = try GovernanceTests.Operator(["run", "reindex.md", "--as", "bob", "--runs-dir", "runs"], in: dir)
        #expect(bob.waitFor("prepare-the-index"))
        try FileManager.default.moveItem(at: aside, to: held)
        bob.send("done")
        #expect(bob.waitFor("reindex-the-ledger"))
        bob.send("done")
        #expect(bob.waitFor("configuration item 'payments-db' is being changed by run \(first)"))
        bob.send("quit")
        _ = bob.finish()
        let second = try #require(ConfigurationItemTests().runs(dir).first { $0 != first })
        let events = try RepositoryRuns.events(dir, id: second)
        #expect(!events.contains { ($0["type"] as? String) == "step.completed" && ($0["step"] as? String) == "reindex-the-ledger" },
                "\(bob.text)")
        let notes = events.filter { ($0["type"] as? String) == "note" && ($0["step"] as? String) == "reindex-the-ledger" }
        #expect(notes.count == 1 && "\(notes)".contains("is being changed by run \(first)"), "\(notes)")
        // Once A has ended, B goes on.
        #expect(try RepositoryRuns.runsheet(["resume", first, "--as", "alice"], in: dir, stdin: "abort not today\n").status == 1)
        let resumed = try RepositoryRuns.runsheet(["resume", second, "--as", "bob"], in: dir, stdin: "done\n")
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
    }
}
