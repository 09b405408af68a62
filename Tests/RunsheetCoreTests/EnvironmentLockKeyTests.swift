import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// What an environment lock is on: the service and environment in one canonical form, and the
/// defaults for a production runbook that names neither (docs/FORMAT.md, "Environment locks").
@Suite struct EnvironmentLockKeyTests {
    @Test(arguments: ["PROD", " prod ", "Ｐｒｏｄ", "pro\u{200B}d", "prod\t", "p\u{00AD}rod"])
    func spellingsOfOneEnvironmentAreOneKey(_ spelling: String) {
        let key = EnvironmentLock.Key(service: "Checkout", environment: spelling)
        #expect(key == EnvironmentLock.Key(service: "checkout", environment: "prod"), "\(spelling.debugDescription)")
        #expect(key.stem == EnvironmentLock.Key(service: "checkout", environment: "prod").stem)
    }

    @Test func innerWhiteSpaceIsOneSpaceAndDifferentNamesStayApart() {
        #expect(EnvironmentLock.Key(service: "eu  west", environment: "prod") == EnvironmentLock.Key(service: "eu west", environment: "prod"))
        #expect(EnvironmentLock.Key(service: "checkout", environment: "prod") != EnvironmentLock.Key(service: "checkout", environment: "production"))
        #expect(EnvironmentLock.Key(service: "checkout", environment: "prod") != EnvironmentLock.Key(service: "checkou", environment: "tprod"))
        #expect(EnvironmentLock.Key(service: "a", environment: "b").stem.count == 16)
    }

    @Test func whatARunbookLocks() throws {
        func claim(_ front: String, _ body: String = "- [ ] Deploy\n  - Production: yes\n", values: [String: String] = [:]) -> LockClaim? {
            let result = Fixtures.compile("---\nid: deploy\n\(front)---\n\n# Deploy\n\n\(body)")
            #expect(!result.hasErrors, "\(result.diagnostics)")
            return EnvironmentLock.claim(for: result.runbook, values: values)
        }
        #expect(claim("service: checkout\nenvironment: prod\n") == LockClaim(service: "checkout", environment: "prod", mode: .exclusive))
        #expect(claim("service: checkout\n") == LockClaim(service: "checkout", environment: "production", mode: .exclusive))
        #expect(claim("") == LockClaim(service: "deploy", environment: "production", mode: .exclusive))
        #expect(claim("service: checkout\nenvironment: prod\nconcurrent: true\n")?.mode == .shared)
        #expect(claim("service: checkout\nenvironment: prod\n", values: ["environment": "staging"])?.environment == "staging")
        // A blank environment would lock `production` instead of what the runbook meant: an error.
        let blank = Fixtures.compile("---\nid: deploy\nservice: checkout\nenvironment: ' '\n---\n\n# Deploy\n\n- [ ] Deploy\n  - Production: yes\n")
        #expect(blank.diagnostics.contains { $0.severity == .error && $0.line == 4 && $0.message.hasPrefix("'environment' is empty") }, "\(blank.diagnostics)")
        #expect(claim("service: checkout\nenvironment: prod\n", "- [ ] Write notes\n") == nil)
        #expect(claim("production: true\n", "- [ ] Write notes\n")?.service == "deploy")
    }
}
