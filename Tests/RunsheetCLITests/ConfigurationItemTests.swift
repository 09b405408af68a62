import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Issue 17, configuration items: `.runsheet/inventory.yaml`, `components:` and `Components:`,
/// the policy's `criticality` (more approvers and the owner's sign-off on every gate), one open
/// run per item (exit 5), and readiness listing the items a release changes; with the attacks.
@Suite struct ConfigurationItemTests {
    static let inventory = """
        items:
          payments-db: {owner: dba, criticality: critical}
          checkout-api: {owner: sre, criticality: low}
        """

    /// A gate first, then a production step that changes payments-db.
    static func runbook(id: String, service: String, components: String = "components: [payments-db]\n") -> String {
        """
        ---
        runsheet: 1
        id: \(id)
        title: \(id)
        service: \(service)
        environment: production
        \(components)---

        # Change

        - [ ] Approve the change
          - Sign-off: 1 of sre
        - [ ] Migrate the schema
          - Production: yes
        """
    }

    func repository(inventory: String = Self.inventory, policy: String = "criticality: {critical: {approvers: 1, owner-sign-off: true}}\n") throws -> URL {
        let dir = try Fixtures.temporaryDirectory()
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try "ref: refs/heads/main\n".write(to: dir.appendingPathComponent(".git/HEAD"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        try "roles:\n  sre: [alice, bob, carol]\n  dba: [dora]\n".write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        try policy.write(to: dir.appendingPathComponent(".runsheet/policy.yaml"), atomically: true, encoding: .utf8)
        try inventory.write(to: dir.appendingPathComponent(".runsheet/inventory.yaml"), atomically: true, encoding: .utf8)
        try Self.runbook(id: "migrate", service: "payments").write(to: dir.appendingPathComponent("migrate.md"), atomically: true, encoding: .utf8)
        try Self.runbook(id: "reindex", service: "ledger").write(to: dir.appendingPathComponent("reindex.md"), atomically: true, encoding: .utf8)
        return dir
    }

    func check(_ file: String, in dir: URL) throws -> ProcessResult {
        try Fixtures.runsheet(["check", file], environment: ["NO_COLOR": "1"], directory: dir)
    }

    func runs(_ dir: URL) -> [String] { RepositoryRuns.runs(in: dir) }

    @Test func unknownItemsAreErrorsWhereWritten() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try check("migrate.md", in: dir).status == 0)
        try Self.runbook(id: "migrate", service: "payments", components: "components: [payments-dbb]\n").write(to: dir.appendingPathComponent("migrate.md"), atomically: true, encoding: .utf8)
        let front = try check("migrate.md", in: dir)
        #expect(front.status == 1 && front.stdout.contains("migrate.md:7:1") && front.stdout.contains("'payments-dbb' is not listed")
                && front.stdout.contains("did you mean 'payments-db'?") && front.stdout.contains("[unknown-item]"), "\(front.stdout)")
        let annotated = Self.runbook(id: "migrate", service: "payments", components: "").replacingOccurrences(of: "  - Production: yes", with: "  - Production: yes\n  - Components: checkout-api, ledger")
        try annotated.write(to: dir.appendingPathComponent("migrate.md"), atomically: true, encoding: .utf8)
        let step = try check("migrate.md", in: dir)
        #expect(step.status == 1 && step.stdout.contains("migrate.md:15:5") && step.stdout.contains("'ledger' is not listed") && !step.stdout.contains("'checkout-api'"), "\(step.stdout)")
        let run = try RepositoryRuns.runsheet(["run", "migrate.md", "--as", "alice", "--auto"], in: dir)
        #expect(run.status == 1 && runs(dir).isEmpty, "\(run.stderr)")
    }

    @Test(arguments: [
        ("items:\n  payments-db: {owner: dba, criticality: severe}\n", "2:42", "is not one of low, high, critical"),
        ("items:\n  payments-db: {owner: dba, criticality: low}\n  Payments-DB: {owner: dba, criticality: low}\n", "3:3", "is listed twice"),
        ("items:\n  payments-db: {owner: dbas, criticality: low}\n", "2:24", "owner role 'dbas'"),
        ("items:\n  payments-db: {owner: dba}\n", "2:3", "needs 'criticality'"),
        ("item:\n  payments-db: {owner: dba, criticality: low}\n", "1:1", "must be a mapping with 'items'"),
    ])
    func aWrongInventoryIsAnErrorAtItsPlace(inventory: String, position: String, words: String) throws {
        let dir = try repository(inventory: inventory)
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try check("migrate.md", in: dir)
        #expect(result.status == 1 && result.stdout.contains(".runsheet/inventory.yaml:\(position)") && result.stdout.contains(words), "\(result.stdout)\(result.stderr)")
        let run = try RepositoryRuns.runsheet(["run", "migrate.md", "--as", "alice", "--auto"], in: dir)
        #expect(run.status != 0 && run.status != 3 && runs(dir).isEmpty, "\(run.stderr)")
    }

    /// A symbolic link could point the inventory elsewhere: refused, whatever it points at.
    @Test func aSymlinkedInventoryIsRefused() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let inventory = dir.appendingPathComponent(".runsheet/inventory.yaml")
        try FileManager.default.moveItem(at: inventory, to: dir.appendingPathComponent("elsewhere.yaml"))
        try FileManager.default.createSymbolicLink(atPath: inventory.path, withDestinationPath: "../elsewhere.yaml")
        let result = try check("migrate.md", in: dir)
        #expect(result.status == 1 && result.stdout.contains("symbolic link") && result.stdout.contains("[inventory-file]"), "\(result.stdout)")
        let run = try RepositoryRuns.runsheet(["run", "migrate.md", "--as", "alice", "--auto"], in: dir)
        #expect(run.status == 2 && run.stderr.contains("symbolic link") && runs(dir).isEmpty, "\(run.stderr)")
    }

    /// A critical item: every gate needs one more approver and its owner's sign-off, and an
    /// owner sign-off with no gate before the production step is an error (fail closed).
    @Test func aCriticalItemRaisesEveryGate() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let started = try RepositoryRuns.runsheet(["run", "migrate.md", "--as", "alice", "--auto"], in: dir)
        #expect(started.status == 3, "\(started.stderr)")
        let id = try #require(runs(dir).first)
        #expect(started.stdout.contains("sign-off: 2 of sre and 1 of dba"), "\(started.stdout)")
        let first = try RepositoryRuns.runsheet(["sign", id, "approve-the-change", "--as", "bob"], in: dir)
        #expect(first.status == 0 && first.stdout.contains("still needs 1 more of sre and 1 more of dba"), "\(first.stdout)\(first.stderr)")
        let early = try RepositoryRuns.runsheet(["resume", id, "--as", "alice", "--auto"], in: dir)
        #expect(early.status == 3, "\(early.stderr)")
        #expect(try RepositoryRuns.events(dir, id: id).allSatisfy { ($0["type"] as? String) != "step.completed" || ($0["data"] as? [String: Any])?["step"] as? String != "migrate-the-schema" })
        #expect(try RepositoryRuns.runsheet(["sign", id, "approve-the-change", "--as", "carol"], in: dir).status == 0)
        #expect(try RepositoryRuns.runsheet(["sign", id, "approve-the-change", "--as", "dora"], in: dir).status == 0)
        let through = try RepositoryRuns.runsheet(["resume", id, "--as", "alice"], in: dir, stdin: "done\ndone\n")
        #expect(through.status == 0, "\(through.stdout)\(through.stderr)")

        // A low item asks nothing more.
        try Self.runbook(id: "reindex", service: "ledger", components: "components: [checkout-api]\n").write(to: dir.appendingPathComponent("reindex.md"), atomically: true, encoding: .utf8)
        let low = try RepositoryRuns.runsheet(["run", "reindex.md", "--as", "alice", "--auto"], in: dir)
        #expect(low.status == 3, "\(low.stderr)")
        let other = try #require(runs(dir).first { $0.hasPrefix("reindex") })
        #expect(try RepositoryRuns.runsheet(["sign", other, "approve-the-change", "--as", "bob"], in: dir).status == 0)
        #expect(try RepositoryRuns.runsheet(["resume", other, "--as", "alice"], in: dir, stdin: "done\ndone\n").status == 0)

        // No gate before the production step: the owner could never sign first.
        let gateless = "---\nrunsheet: 1\nid: hotfix\nservice: payments\ncomponents: [payments-db]\n---\n\n# Fix\n\n- [ ] Patch the table\n  - Production: yes\n"
        try gateless.write(to: dir.appendingPathComponent("hotfix.md"), atomically: true, encoding: .utf8)
        let result = try check("hotfix.md", in: dir)
        #expect(result.status == 1 && result.stdout.contains("hotfix.md:10:") && result.stdout.contains("no gate comes before it"), "\(result.stdout)")
    }

    /// A runbook cannot set what criticality asks; only the repository's policy can.
    @Test func frontMatterCannotSetCriticality() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let own = Self.runbook(id: "migrate", service: "payments", components: "components: [payments-db]\npolicy:\n  criticality: {critical: {approvers: 0}}\n")
        try own.write(to: dir.appendingPathComponent("migrate.md"), atomically: true, encoding: .utf8)
        let result = try check("migrate.md", in: dir)
        #expect(result.status == 1 && result.stdout.contains("[weakens-governance]") && result.stdout.contains("only .runsheet/policy.yaml can"), "\(result.stdout)")
    }

    /// Two open runs may not change one item, whatever their service and however the name is written.
    @Test func oneOpenRunPerItem() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.runbook(id: "reindex", service: "ledger", components: "components: [PAYMENTS-DB]\n").write(to: dir.appendingPathComponent("reindex.md"), atomically: true, encoding: .utf8)
        let first = try RepositoryRuns.runsheet(["run", "migrate.md", "--as", "alice", "--auto"], in: dir)
        #expect(first.status == 3, "\(first.stderr)")
        let id = try #require(runs(dir).first)
        let second = try RepositoryRuns.runsheet(["run", "reindex.md", "--as", "bob", "--auto"], in: dir)
        #expect(second.status == 5, "\(second.stdout)\(second.stderr)")
        #expect(second.stderr.contains("configuration item 'payments-db' is being changed by run \(id)") && second.stderr.contains("nothing was started"), "\(second.stderr)")
        #expect(second.stderr.split(separator: "\n").count == 1, "one sentence: \(second.stderr)")
        #expect(runs(dir) == [id])
        // Once the first run has ended, the item is free.
        #expect(try RepositoryRuns.runsheet(["resume", id, "--as", "alice"], in: dir, stdin: "abort not today\n").status == 1)
        let after = try RepositoryRuns.runsheet(["run", "reindex.md", "--as", "bob", "--auto"], in: dir)
        #expect(after.status == 3, "\(after.stderr)")
    }

    /// A runbook edited after its run started to name an item an earlier open run changes: that
    /// run is not resumed (exit 5, nothing written), and the earlier one goes on.
    @Test func anItemAddedAfterTheStartIsTakenAtResume() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.runbook(id: "reindex", service: "ledger", components: "").write(to: dir.appendingPathComponent("reindex.md"), atomically: true, encoding: .utf8)
        #expect(try RepositoryRuns.runsheet(["run", "migrate.md", "--as", "alice", "--auto"], in: dir).status == 3)
        let first = try #require(runs(dir).first)
        #expect(try RepositoryRuns.runsheet(["run", "reindex.md", "--as", "bob", "--auto"], in: dir).status == 3)
        let second = try #require(runs(dir).first { $0 != first })
        try Self.runbook(id: "reindex", service: "ledger", components: "components: [payments-db]\n").write(to: dir.appendingPathComponent("reindex.md"), atomically: true, encoding: .utf8)
        let journal = dir.appendingPathComponent("runs/\(second)/journal.jsonl")
        let before = try Data(contentsOf: journal)
        let refused = try RepositoryRuns.runsheet(["resume", second, "--as", "bob", "--auto"], in: dir)
        #expect(refused.status == 5 && refused.stderr.contains("is being changed by run \(first)") && refused.stderr.contains("was not resumed and nothing was written"), "\(refused.stderr)")
        #expect(try Data(contentsOf: journal) == before)
        #expect(try RepositoryRuns.runsheet(["resume", first, "--as", "alice", "--auto"], in: dir).status == 3)
    }

    /// The attack: the first run's runbook edited to drop the item, so a second run could start
    /// while the first still holds it. The edited runbook is not the one the run recorded, so the
    /// first run counts as changing every item until its resume records the change.
    @Test func anItemDroppedFromAnOpenRunsRunbookStaysHeld() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try RepositoryRuns.runsheet(["run", "migrate.md", "--as", "alice", "--auto"], in: dir).status == 3)
        let first = try #require(runs(dir).first)
        try Self.runbook(id: "migrate", service: "payments", components: "").write(to: dir.appendingPathComponent("migrate.md"), atomically: true, encoding: .utf8)
        let refused = try RepositoryRuns.runsheet(["run", "reindex.md", "--as", "bob", "--auto"], in: dir)
        #expect(refused.status == 5, "\(refused.stdout)\(refused.stderr)")
        #expect(refused.stderr.contains("open run \(first)") && refused.stderr.contains("migrate.md") && refused.stderr.contains("changed since the run recorded it")
                && refused.stderr.contains("payments-db") && refused.stderr.contains("nothing was started"), "\(refused.stderr)")
        #expect(refused.stderr.split(separator: "\n").count == 1, "one sentence: \(refused.stderr)")
        #expect(runs(dir) == [first])
        // The same through a file the first run's runbook includes.
        #expect(try RepositoryRuns.runsheet(["resume", first, "--as", "alice"], in: dir, stdin: "abort not today\n").status == 1)
        try """
            ---
            runsheet: 1
            id: migrate
            title: migrate
            service: payments
            environment: production
            ---

            # Change

            - [ ] Approve the change
              - Sign-off: 1 of sre
            - [ ] Do the migration
              - Include: [Steps](steps.md)
            """.write(to: dir.appendingPathComponent("migrate.md"), atomically: true, encoding: .utf8)
        let steps = { (components: String) in
            "---\nrunsheet: 1\nid: steps\ntitle: steps\nservice: payments\nenvironment: production\n---\n\n# Steps\n\n- [ ] Migrate the schema\n  - Production: yes\n\(components)"
        }
        try steps("  - Components: checkout-api\n").write(to: dir.appendingPathComponent("steps.md"), atomically: true, encoding: .utf8)
        let second = try RepositoryRuns.runsheet(["run", "migrate.md", "--as", "alice", "--auto"], in: dir)
        #expect(second.status == 3, "\(second.stderr)")
        let held = try #require(runs(dir).first { $0 != first })
        try steps("").write(to: dir.appendingPathComponent("steps.md"), atomically: true, encoding: .utf8)
        try Self.runbook(id: "reindex", service: "ledger", components: "components: [checkout-api]\n").write(to: dir.appendingPathComponent("reindex.md"), atomically: true, encoding: .utf8)
        let again = try RepositoryRuns.runsheet(["run", "reindex.md", "--as", "bob", "--auto"], in: dir)
        #expect(again.status == 5 && again.stderr.contains("open run \(held)") && again.stderr.contains("includes"), "\(again.stderr)")
    }

    @Test func readinessListsTheItemsAndTheirOwners() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "---\ntarget: 2030-01-01\n---\n# Release\n\n## Requires\n\n- [Migrate](migrate.md)\n".write(to: dir.appendingPathComponent("release.md"), atomically: true, encoding: .utf8)
        let md = try RepositoryRuns.runsheet(["readiness", "release.md", "--format", "md"], in: dir)
        #expect(md.stdout.contains("## Configuration items") && md.stdout.contains("| `payments-db` | critical | dba | dora | Migrate |"), "\(md.stdout)")
        let json = try RepositoryRuns.runsheet(["readiness", "release.md", "--format", "json"], in: dir)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let components = try #require(object["components"] as? [[String: Any]], "\(json.stdout)")
        #expect(components.first?["owner"] as? String == "dba" && components.first?["owners"] as? [String] == ["dora"], "\(json.stdout)")
        let html = try RepositoryRuns.runsheet(["readiness", "release.md", "--format", "html"], in: dir)
        #expect(html.stdout.contains("<h2>Configuration items</h2>") && html.stdout.contains("<code>payments-db</code>"), "\(html.stdout)")
    }
}
