import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// `status RUN` shows what the policy's criticality rule adds to a run's gates (the extra
/// approvers, the owner's sign-off) and what the gate the run waits at still needs under it;
/// and an included runbook's front-matter `components` count for the including run: `check`,
/// the one-open-run-per-item lock and readiness's item list.
@Suite struct ItemDemandsShownTests {
    @Test func statusShowsWhatCriticalityAddsToTheGate() throws {
        let dir = try ConfigurationItemTests().repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try RepositoryRuns.runsheet(["run", "migrate.md", "--as", "alice", "--auto"], in: dir).status == 3)
        let id = try #require(ConfigurationItemTests().runs(dir).first)
        let status = try RepositoryRuns.runsheet(["status", id], in: dir)
        #expect(status.status == 0, "\(status.stderr)")
        #expect(status.stdout.contains("items    payments-db (critical): under .runsheet/policy.yaml's criticality rule every gate needs 1 more approver on each sign-off line and a sign-off by dba, owner of payments-db"), "\(status.stdout)")
        #expect(status.stdout.contains("gate     approve-the-change needs 2 of sre and 1 of dba (the runbook asks 1 of sre); it still needs"), "\(status.stdout)")
        // One sre signs: the line says what is left.
        #expect(try RepositoryRuns.runsheet(["sign", id, "approve-the-change", "--as", "bob"], in: dir).status == 0)
        let after = try RepositoryRuns.runsheet(["status", id], in: dir)
        #expect(after.stdout.contains("gate     approve-the-change needs 2 of sre and 1 of dba") && after.stdout.contains("dba") && !after.stdout.contains("2 more of sre"), "\(after.stdout)")
    }

    static let including = """
        ---
        runsheet: 1
        id: deploy
        title: deploy
        service: ledger
        environment: production
        ---

        # Deploy

        - [ ] Approve the deploy
          - Sign-off: 1 of sre
        - [ ] Migrate
          - Include: [Part](part.md)
        """

    static let part = """
        ---
        runsheet: 1
        id: part
        title: part
        service: ledger
        environment: production
        components: [payments-db]
        ---

        # Part

        - [ ] Migrate the schema
          - Production: yes
        """

    @Test func anIncludedRunbooksComponentsCount() throws {
        let dir = try ConfigurationItemTests().repository(inventory: "items:\n  payments-db: {owner: dba, criticality: high}\n",
                                                         policy: "criticality: {high: {approvers: 1}}\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.including.write(to: dir.appendingPathComponent("deploy.md"), atomically: true, encoding: .utf8)
        try Self.part.write(to: dir.appendingPathComponent("part.md"), atomically: true, encoding: .utf8)
        let check = try ConfigurationItemTests().check("deploy.md", in: dir)
        #expect(check.status == 0, "\(check.stdout)")
        // An open run changing payments-db holds it against the including runbook's run.
        #expect(try RepositoryRuns.runsheet(["run", "migrate.md", "--as", "alice", "--auto"], in: dir).status == 3)
        let first = try #require(ConfigurationItemTests().runs(dir).first)
        let refused = try RepositoryRuns.runsheet(["run", "deploy.md", "--as", "bob", "--auto"], in: dir)
        #expect(refused.status == 5 && refused.stderr.contains("configuration item 'payments-db' is being changed by run"), "\(refused.stderr)")
        // Once it has ended, the including run's gate is raised as the item's criticality asks.
        #expect(try RepositoryRuns.runsheet(["resume", first, "--as", "alice"], in: dir, stdin: "abort not today\n").status == 1)
        let started = try RepositoryRuns.runsheet(["run", "deploy.md", "--as", "bob", "--auto"], in: dir)
        #expect(started.status == 3 && started.stdout.contains("sign-off: 2 of sre"), "\(started.stdout)\(started.stderr)")
        // Readiness lists the item for the including runbook.
        try """
            ---
            release: rel-1
            title: Deploy release
            target: 2030-01-01
            ---
            # Deploy release

            ## Requires

            - [Deploy](deploy.md)
            """.write(to: dir.appendingPathComponent("release.md"), atomically: true, encoding: .utf8)
        let readiness = try RepositoryRuns.runsheet(["readiness", "release.md", "--format", "md"], in: dir)
        #expect(readiness.stdout.contains("## Configuration items") && readiness.stdout.contains("| `payments-db` | high | dba | dora | Deploy |"), "\(readiness.stdout)")
    }
}
