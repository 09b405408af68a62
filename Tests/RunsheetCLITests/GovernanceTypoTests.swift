import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// A misspelt governance key must never turn into step text and let a run start without its rule.
@Suite struct GovernanceTypoTests {
    static func runbook(_ annotation: String) -> String {
        """
        ---
        runsheet: 1
        id: typo
        title: Typo
        roles: [sre]
        ---

        # Deploy

        - [ ] Approve the deploy
          - \(annotation)
        - [ ] Deploy
        """
    }

    @Test(arguments: ["Sign-of: 2 of sre", "Signoff: sre", "Seperation: starter", "Prodution: yes", "On rejct: #deploy", "Roles: sre"])
    func typoNearAGovernanceKeyIsAnErrorThatStopsTheRun(annotation: String) throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("typo.md")
        try Self.runbook(annotation).write(to: file, atomically: true, encoding: .utf8)
        let key = String(annotation.prefix { $0 != ":" })

        let check = try Fixtures.runsheet(["check", file.path])
        #expect(check.status == 1, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains("typo.md:11:5: error: unknown annotation '\(key)'"), "\(check.stdout)")

        let runs = dir.appendingPathComponent("runs").path
        for arguments in [["run", file.path, "--dry-run"], ["run", file.path, "--auto"]] {
            let run = try Fixtures.runsheet(arguments + ["--runs-dir", runs], stdin: "done\ndone\n")
            #expect(run.status == 1, "\(arguments): \(run.stdout)\(run.stderr)")
            #expect(run.stderr.contains("error: unknown annotation '\(key)'"), "\(run.stderr)")
            #expect(!run.stdout.contains("Deploy"), "the plan or the run went ahead: \(run.stdout)")
        }
        #expect(!FileManager.default.fileExists(atPath: runs), "a run folder was made for a runbook with errors")
    }

    /// A typo near a key without a rule stays a warning, as on real checklists.
    @Test func typoNearAnOrdinaryKeyStaysAWarning() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("typo.md")
        try Self.runbook("Estimat: 5m").write(to: file, atomically: true, encoding: .utf8)
        let check = try Fixtures.runsheet(["check", file.path])
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains("warning: unknown annotation 'Estimat'; did you mean 'Estimate'?"))
    }
}

/// Issue 12, item 11: a run aborted after a production step acted is a failed deployment.
@Suite struct AbortedDeploymentMetricsTests {
    @Test func abortedAfterAProductionStepIsAFailedDeployment() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try """
        ---
        runsheet: 1
        id: abort-deploy
        title: Abort deploy
        service: api
        environment: production
        ---

        # Deploy

        - [ ] Migrate the database
          - Production: yes
        - [ ] Verify
        """.write(to: dir.appendingPathComponent("a.md"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        try "roles:\n  operator: [alice]\n".write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        let arguments = ["run", "a.md", "--runs-dir", "runs", "--as", "alice"]
        // Production touched, then aborted: a failed deployment.
        #expect(try Fixtures.runsheet(arguments, stdin: "done\nabort changed our mind\n", directory: dir).status == 1)
        // Aborted on the production step's screen, nothing done: no deployment at all.
        #expect(try Fixtures.runsheet(arguments, stdin: "abort nothing done\n", directory: dir).status == 1)
        let json = try Fixtures.runsheet(["metrics", "--runs-dir", "runs", "--format", "json"], directory: dir)
        #expect(json.status == 0, "\(json.stderr)")
        let metrics = try JSONDecoder().decode(DeliveryMetrics.self, from: Data(json.stdout.utf8))
        let group = try #require(metrics.groups.first)
        #expect(metrics.groups.count == 1 && group.deployments == 1)
        let failRate = try #require(group.measures.first { $0.name == "change fail rate" })
        #expect(failRate.n == 1 && failRate.value == 100)
        #expect(group.weeks.map(\.failed).reduce(0, +) == 1)
    }
}
