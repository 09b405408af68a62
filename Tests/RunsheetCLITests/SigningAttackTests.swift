import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Issue 14, the adversary's findings: each way an insider with a key and a script got around a
/// signature, replayed through the real binary, and refused.
@Suite struct SigningAttackTests {
    let base = SigningTests()

    func events(_ dir: URL, _ id: String) throws -> [RunEvent] {
        try base.journalLines(dir, id).map { try JSONDecoder().decode(RunEvent.self, from: Data($0.utf8)) }
    }

    /// Writes `events` as run `id`'s journal with every seq, prev and hash computed again.
    func rewrite(_ dir: URL, _ id: String, _ events: [RunEvent]) throws {
        try RepositoryRuns.rewrite(dir, id: id, events)
    }

    /// `event` signed again with `key` by stock ssh-keygen, over its bytes in run `runID`.
    func resigned(_ event: RunEvent, key: String, run runID: String, in dir: URL) throws -> RunEvent {
        var copy = event
        copy.signature = nil
        let file = dir.appendingPathComponent("forged-\(UUID().uuidString)")
        try Data(try copy.signedBytes(run: runID)).write(to: file)
        let signed = try Fixtures.run("/usr/bin/ssh-keygen", ["-Y", "sign", "-n", "runsheet", "-f", key, file.path])
        #expect(signed.status == 0, "\(signed.stderr)")
        copy.signature = try String(contentsOfFile: file.path + ".sig", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return copy
    }

    func signedOff(in dir: URL, alice: String, bob: String) throws -> String {
        let id = try base.startedRun(in: dir, key: alice)
        let signed = try base.runsheet(["sign", id, "approve-the-change", "--key", bob], in: dir)
        #expect(signed.status == 0, "\(signed.stdout)\(signed.stderr)")
        return id
    }

    /// Mallory re-signs Bob's sign-off with her own key: canonical says mallory (which her key
    /// verifies), actor says bob (which everything shows). The two must be one person.
    @Test func anotherNameBesideTheSignersCanonicalNameFailsVerify() throws {
        let (dir, alice, bob) = try base.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let mallory = try SigningKeys.generate(name: "mallory", in: dir.appendingPathComponent("keys"))
        try SigningKeys.allow([("alice", alice), ("bob", bob), ("mallory", mallory)], in: dir)
        let id = try signedOff(in: dir, alice: alice, bob: bob)
        var journal = try events(dir, id)
        var forged = journal[journal.count - 1]
        forged.canonical = "mallory"
        forged.actor = "bob"
        journal[journal.count - 1] = try resigned(forged, key: mallory, run: id, in: dir)
        try rewrite(dir, id, journal)
        let verify = try base.runsheet(["verify", id], in: dir)
        #expect(verify.status == 1, "\(verify.stdout)")
        #expect(verify.stdout.contains("its actor bob is not the person its canonical name mallory says"), "\(verify.stdout)")
        let status = try base.runsheet(["status", id], in: dir)
        #expect(status.status == 1 && status.stderr.contains("the journal does not verify"), "\(status.stderr)")
    }

    /// Bob's sign-off copied from one run into another run of the same runbook (hashes
    /// recomputed): the signature covers the run id, so it does not verify there.
    @Test func aSignOffReplayedIntoAnotherRunFailsVerify() throws {
        let (dir, alice, bob) = try base.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try signedOff(in: dir, alice: alice, bob: bob)
        let started = try base.runsheet(["run", "change.md", "--auto", "--as", "alice", "--key", alice], in: dir)
        #expect(started.status == 3, "\(started.stderr)")
        let second = try #require(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("runs").path)
            .first { !$0.hasPrefix(".") && $0 != first })
        let signOff = try #require(try events(dir, first).last)
        try rewrite(dir, second, try events(dir, second) + [signOff])
        let verify = try base.runsheet(["verify", second], in: dir)
        #expect(verify.status == 1 && verify.stdout.contains("the signature of event") && verify.stdout.contains("does not verify"), "\(verify.stdout)")
        let resume = try base.runsheet(["resume", second, "--auto", "--as", "alice", "--key", alice], in: dir)
        #expect(resume.status == 1 && resume.stderr.contains("does not act on a journal that does not verify"), "\(resume.stderr)")
    }

    /// A key retired with valid-before signs an event stamped before its retirement, appended
    /// after later events: a signed event stamped well before the event before it fails verify.
    @Test func aBackdatedSignedEventFailsVerify() throws {
        let (dir, alice, bob) = try base.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try signedOff(in: dir, alice: alice, bob: bob)
        var journal = try events(dir, id)
        var backdated = journal[journal.count - 1]
        backdated.time = "2026-01-01T00:00:00.000Z"  // when the key was still valid, say
        journal[journal.count - 1] = try resigned(backdated, key: bob, run: id, in: dir)
        try rewrite(dir, id, journal)
        let verify = try base.runsheet(["verify", id], in: dir)
        #expect(verify.status == 1 && verify.stdout.contains("more than 5 minutes before the event before it"), "\(verify.stdout)")
    }

    /// Bytes after the armor's end (one signature, many written forms) and a signature too long
    /// to be one are refused, the long one at once.
    @Test func aSignatureWithTrailingBytesOrHugeIsRefused() throws {
        let (dir, alice, bob) = try base.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try signedOff(in: dir, alice: alice, bob: bob)
        let original = try events(dir, id)
        for (what, signature, says) in [
            ("trailing bytes", (original.last?.signature ?? "") + "\nGARBAGE", "is not an armored SSH signature"),
            ("huge", "-----BEGIN SSH SIGNATURE-----\n" + String(repeating: "QUFB", count: 2_000_000) + "\n-----END SSH SIGNATURE-----", "bytes long, more than any SSH signature"),
        ] {
            var journal = original
            journal[journal.count - 1].signature = signature
            try rewrite(dir, id, journal)
            let started = Date()
            let verify = try base.runsheet(["verify", id], in: dir)
            #expect(verify.status == 1 && verify.stdout.contains(says), "\(what): \(verify.stdout.prefix(400))")
            #expect(Date().timeIntervalSince(started) < 20, "\(what): refused without reading it")
        }
    }

    /// A finished run rewritten without its recorded requirement and without any signature
    /// (hashes recomputed) verifies as an old run would, but readiness under today's policy still
    /// wants it sealed by someone other than its starter: no GO.
    @Test func strippingTheRequirementAndTheSignaturesGivesNoGo() throws {
        let (dir, alice, bob) = try base.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "signatures: required\n".write(to: dir.appendingPathComponent(".runsheet/policy.yaml"), atomically: true, encoding: .utf8)
        try "---\nrelease: r-1\nclass: normal\nowner: alice\n---\n# Release r-1\n\n## Requires\n\n- [Change](change.md)\n"
            .write(to: dir.appendingPathComponent("release.md"), atomically: true, encoding: .utf8)
        let id = try signedOff(in: dir, alice: alice, bob: bob)
        let finished = try Fixtures.run("/usr/bin/setsid", ["--wait", Fixtures.binary.path, "resume", id, "--as", "alice", "--key", alice, "--runs-dir", "runs"],
                                        stdin: "done\ndone\n", directory: dir)
        #expect(finished.status == 0, "\(finished.stdout)\(finished.stderr)")
        var journal = try events(dir, id)
        journal[0].data["signatures"] = nil
        journal[0].data["schema"] = .string("runsheet.journal/1.3")
        for index in journal.indices { journal[index].signature = nil }
        try rewrite(dir, id, journal)
        // The chain itself is whole, but its gate was recorded done on sign-offs that, unsigned under
        // today's policy, do not count: verify says so (ForgedGateCompletionTests).
        let verified = try base.runsheet(["verify", id], in: dir)
        #expect(verified.status == 1 && verified.stdout.contains("is recorded done (event ")
                && verified.stdout.contains("without the sign-offs its rule needs"), "\(verified.stdout)")
        let readiness = try base.runsheet(["readiness", "release.md"], in: dir)
        #expect(readiness.status == 1 && readiness.stdout.contains("was not sealed after it ended by someone other than its starter"), "\(readiness.stdout)")
    }
}
