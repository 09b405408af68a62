import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Found by the adversary of issue 14: the refusal read "only a operator may start"; the article
/// follows the role's first letter.
@Suite struct RoleArticleTests {
    @Test func anInitiatorRoleStartingWithAVowelTakesAn() throws {
        let byOperator = try InitiatorTests().repository(policy: "normal:\n  initiators: [operator]\n")
        defer { try? FileManager.default.removeItem(at: byOperator) }
        try "roles:\n  operator: [alice@example.com]\n  sre: [bob@example.com]\n"
            .write(to: byOperator.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        let refused = try RepositoryRuns.runsheet(["run", "upgrade.md", "--auto", "--as", "bob@example.com"], in: byOperator)
        #expect(refused.status == 1 && refused.stderr.contains("only an operator may start a run of upgrade.md"), "\(refused.stderr)")
        // A role starting with a consonant keeps "a" (InitiatorTests: "only a release-manager may start").
    }
}
