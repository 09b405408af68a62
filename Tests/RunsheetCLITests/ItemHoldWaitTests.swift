import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// A script arriving at a production step whose configuration item an earlier open run holds
/// sees the hold, and its `wait` waits until that run has ended, as it waits out a halt.
@Suite struct ItemHoldWaitTests {
    @Test func aScriptWaitsUntilTheItemIsFree() throws {
        let dir = try ConfigurationItemTests().repository(inventory: "items:\n  payments-db: {owner: dba, criticality: low}\n", policy: "normal: {approvers: 1}\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        try ItemHoldInSessionTests.second.write(to: dir.appendingPathComponent("reindex.md"), atomically: true, encoding: .utf8)
        #expect(try RepositoryRuns.runsheet(["run", "migrate.md", "--as", "alice", "--auto"], in: dir).status == 3)
        let first = try #require(ConfigurationItemTests().runs(dir).first)
        let held = dir.appendingPathComponent("runs/\(first)"), aside = dir.appendingPathComponent("aside")
        try FileManager.default.moveItem(at: held, to: aside)
        let bob = try GovernanceTests.Operator(["run", "reindex.md", "--as", "bob", "--runs-dir", "runs"], in: dir)
        #expect(bob.waitFor("prepare-the-index"))
        try FileManager.default.moveItem(at: aside, to: held)
        bob.send("done")
        #expect(bob.waitFor("ITEM HELD: configuration item 'payments-db' is being changed by run \(first)"), "\(bob.text)")
        #expect(bob.waitFor("'wait' waits until it is free"), "\(bob.text)")
        bob.send("wait")
        Thread.sleep(forTimeInterval: 0.5)
        #expect(!bob.text.contains("no open run holds"), "\(bob.text)")
        #expect(try RepositoryRuns.runsheet(["resume", first, "--as", "alice"], in: dir, stdin: "abort not today\n").status == 1)
        #expect(bob.waitFor("✓ no open run holds the step's configuration items now", seconds: 5), "\(bob.text)")
        bob.send("done")
        #expect(bob.finish() == 0, "\(bob.text)")
    }
}
