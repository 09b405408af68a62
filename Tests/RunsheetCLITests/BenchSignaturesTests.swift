import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// scripts/bench-signatures times `runsheet verify` on journals `runsheet-bench signed` writes:
/// they must verify (every signature checked) or the benchmark would time a failing verify.
@Suite struct BenchSignaturesTests {
    /// A repository with the runbook the bench journal names and alice's Ed25519 key allowed.
    func repository() throws -> (dir: URL, alice: String, bob: String) {
        let dir = try Fixtures.temporaryDirectory()
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try "ref: refs/heads/main\n".write(to: dir.appendingPathComponent(".git/HEAD"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("runbooks"), withIntermediateDirectories: true)
        try "---\nrunsheet: 1\nid: deploy\ntitle: Deploy\n---\n\n# Deploy\n\n- [ ] Drain the nodes\n"
            .write(to: dir.appendingPathComponent("runbooks/deploy.md"), atomically: true, encoding: .utf8)
        let keys = dir.appendingPathComponent("keys")
        try FileManager.default.createDirectory(at: keys, withIntermediateDirectories: true)
        let alice = try SigningKeys.generate(name: "alice", in: keys)
        let bob = try SigningKeys.generate(name: "bob", in: keys)
        try SigningKeys.allow([("alice", alice)], in: dir)
        return (dir, alice, bob)
    }

    func bench(_ arguments: [String], in dir: URL) throws -> ProcessResult {
        try Fixtures.run(Fixtures.binary.deletingLastPathComponent().appendingPathComponent("runsheet-bench").path, arguments, directory: dir)
    }

    @Test func theSignedBenchJournalVerifiesAndItsSignaturesAreChecked() throws {
        let (dir, alice, bob) = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        for run in ["unsigned", "signed", "wrong-key"] {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent("runs/\(run)"), withIntermediateDirectories: true)
        }
        let unsigned = try bench(["signed", "runs/unsigned/journal.jsonl", "200", "10", "alice"], in: dir)
        #expect(unsigned.status == 0, "\(unsigned.stderr)")
        #expect(unsigned.stdout == "events=200 signed=0 signoffs=10\n")
        let signed = try bench(["signed", "runs/signed/journal.jsonl", "200", "10", "alice", alice], in: dir)
        #expect(signed.status == 0, "\(signed.stderr)")
        #expect(signed.stdout == "events=200 signed=10 signoffs=10\n")

        let events = try RepositoryRuns.events(dir, id: "signed")
        #expect(events.count == 200)
        let signOffs = events.filter { $0["type"] as? String == "signoff.signed" }
        #expect(signOffs.count == 10)
        #expect(signOffs.allSatisfy { ($0["signature"] as? String)?.hasPrefix("-----BEGIN SSH SIGNATURE-----\n") == true && $0["actor"] as? String == "alice" })
        #expect(events.filter { $0["signature"] != nil }.count == 10)
        let unsignedEvents = try RepositoryRuns.events(dir, id: "unsigned")
        #expect(unsignedEvents.count == 200 && unsignedEvents.allSatisfy { $0["signature"] == nil })
        #expect(unsignedEvents.map { $0["type"] as? String } == events.map { $0["type"] as? String }, "the same events but for their signatures")

        let verified = try Fixtures.runsheet(["verify", "signed", "--runs-dir", "runs"], directory: dir)
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        #expect(verified.stdout.contains("intact, 200 events"), "\(verified.stdout)")
        #expect(verified.stdout.components(separatedBy: ": verified\n").count - 1 == 10, "\(verified.stdout)")
        let plain = try Fixtures.runsheet(["verify", "unsigned", "--runs-dir", "runs"], directory: dir)
        #expect(plain.status == 0, "\(plain.stdout)\(plain.stderr)")
        #expect(plain.stdout.contains("intact, 200 events"), "\(plain.stdout)")

        // Signed with a key the allowed signers do not give alice: verify checks, and fails.
        let wrong = try bench(["signed", "runs/wrong-key/journal.jsonl", "200", "10", "alice", bob], in: dir)
        #expect(wrong.status == 0, "\(wrong.stderr)")
        let refused = try Fixtures.runsheet(["verify", "wrong-key", "--runs-dir", "runs"], directory: dir)
        #expect(refused.status != 0)
        #expect(refused.stdout.contains("does not verify") || refused.stderr.contains("does not verify"), "\(refused.stdout)\(refused.stderr)")
    }
}
