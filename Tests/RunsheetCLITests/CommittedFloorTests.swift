import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// The repository's committed state (`HEAD`) is the floor of the rules a folder run obeys: an
/// uncommitted edit may add restrictions, never remove them. Each test is a bypass the adversary
/// found (/tmp/adv2/repro 01, 03, 06), through the real binary.
@Suite struct CommittedFloorTests {
    let rules = CommittedRulesTests()

    func halts(_ dir: URL) -> String { dir.appendingPathComponent(".runsheet/halts.jsonl").path }

    /// Rewrites record `seq` of the halts file with `edit` and recomputes the chain, as a hand
    /// with a script does: the file verifies again.
    func forge(_ dir: URL, seq: Int, verifies: Bool = true, _ edit: (inout GovernanceRecord) -> Void) throws {
        var records = try GovernanceLog(path: halts(dir), name: "halts").read()
        var bytes: [UInt8] = []
        var prev = ""
        for index in records.indices {
            if records[index].seq == seq { edit(&records[index]) }
            records[index].prev = prev
            records[index].hash = ""
            records[index].hash = try records[index].computedHash()
            prev = records[index].hash
            bytes += try records[index].canonicalBytes() + [UInt8(ascii: "\n")]
        }
        try Data(bytes).write(to: URL(fileURLWithPath: halts(dir)))
        if verifies { #expect(try GovernanceLog(path: halts(dir), name: "halts").read().count == records.count, "the forged file verifies") }
    }

    func halted(_ dir: URL) throws -> ProcessResult {
        try Fixtures.runsheet(["halt", "--as", "rita", "--reason", "INC-2041"], directory: dir)
    }

    func run(_ dir: URL, runs: String = "runs", store: Bool = false, answers: String = "done\ndone\n") throws -> ProcessResult {
        try Fixtures.runsheet(["run", "change.md", "--as", "olly", "--runs-dir", runs] + (store ? ["--store", "folder"] : []), stdin: answers, directory: dir)
    }

    /// 03: Olly grants himself the role in the uncommitted roles file, lifts, and rewrites the
    /// lift's `data.rules` to `{}` (or removes it) with the chain recomputed: the lift does not
    /// count, status says why, and the production step stays halted.
    @Test(arguments: ["empty", "absent"])
    func aLiftWithoutItsRulesIsJudgedByTheCommittedRolesFile(_ how: String) throws {
        let dir = try rules.repository()
        #expect(try halted(dir).status == 0)
        try rules.git(dir, ["add", "-A"])
        try rules.git(dir, ["commit", "-qm", "halt"])
        try CommittedRulesTests.withOlly.write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        #expect(try Fixtures.runsheet(["halt", "--lift", "--as", "olly"], directory: dir).status == 0)
        try forge(dir, seq: 2) { record in
            if how == "empty" { record.data["rules"] = .object([:]) } else { record.data["rules"] = nil }
        }
        let status = try Fixtures.runsheet(["status", "--runs-dir", "runs"], directory: dir)
        let why = how == "empty" ? "its rules name no rule file" : "olly holds none of release-manager in .runsheet/roles.yaml as committed at HEAD"
        #expect(status.stdout.contains("halt 1: production halted by rita") && status.stdout.contains("lift 2 by olly does not count: " + why), "\(status.stdout)")
        let result = try run(dir)
        #expect(result.status == 3 && result.stdout.contains("production is halted by rita"), "\(result.stdout)")
    }

    /// 06: deleting, emptying or rewriting the committed halts file without a commit blocks every
    /// production step, naming the file; appending to it (a new halt) is still allowed.
    @Test(arguments: ["deleted", "emptied", "rewritten"])
    func aHaltsFileThatDoesNotExtendTheCommittedOneBlocks(_ how: String) throws {
        let dir = try rules.repository()
        #expect(try halted(dir).status == 0)
        try rules.git(dir, ["add", "-A"])
        try rules.git(dir, ["commit", "-qm", "halt"])
        switch how {
        case "deleted": try FileManager.default.removeItem(atPath: halts(dir))
        case "emptied": try Data().write(to: URL(fileURLWithPath: halts(dir)))
        default: try forge(dir, seq: 1, verifies: false) { $0.data["until"] = .string("2000-01-01T00:00:00.000Z") }
        }
        let result = try run(dir)
        #expect(result.status == 3 && result.stdout.contains("production steps are blocked because")
                && result.stdout.contains("halts.jsonl does not verify: it differs from the version committed at HEAD"), "\(result.stdout)")
        #expect(try Fixtures.runsheet(["status", "--runs-dir", "runs"], directory: dir).stdout.contains("every production step is blocked"))
        // Restored from Git, the file is extended by a lift of a release manager in the committed roles file: that counts.
        try rules.git(dir, ["checkout", "--", ".runsheet/halts.jsonl"])
        #expect(try Fixtures.runsheet(["halt", "--lift", "--as", "rita"], directory: dir).status == 0)
        let after = try run(dir, runs: "runs-after", answers: "done\ndone\ndone\n")
        #expect(after.status == 0, "\(after.stdout)\(after.stderr)")
    }

    /// 01: the committed config names a PostgreSQL store (here one that cannot be reached); an
    /// uncommitted `store: folder`, or deleting the file, does not free a folder run from its halts.
    @Test(arguments: ["folder", "deleted"])
    func anUncommittedConfigEditKeepsTheStoreFloor(_ how: String) throws {
        let dir = try rules.repository()
        let config = dir.appendingPathComponent(".runsheet/config.yaml")
        try "store: postgresql://olly@127.0.0.1:1/team?sslmode=disable\n".write(to: config, atomically: true, encoding: .utf8)
        try rules.git(dir, ["add", "-A"])
        try rules.git(dir, ["commit", "-qm", "store"])
        if how == "folder" { try "store: folder\n".write(to: config, atomically: true, encoding: .utf8) } else { try FileManager.default.removeItem(at: config) }
        let result = try run(dir, store: true)
        #expect(result.status == 3 && result.stdout.contains("production steps do not start: the halts of the store") && result.stdout.contains("could not be read"),
                "\(result.status) \(result.stdout)\(result.stderr)")
    }
}
