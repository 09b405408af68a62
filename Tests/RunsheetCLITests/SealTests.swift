import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// `runsheet seal` (issue 14): a signed `journal.sealed` naming the journal's head, which `verify`
/// checks even after every hash was recomputed, and which readiness asks for when signatures are
/// required. Through the real binary, with keys made by ssh-keygen.
@Suite struct SealTests {
    typealias R = RequiredSignaturesTests

    static let plain = "---\nid: s\n---\n# S\n\n- [ ] Prepare\n- [ ] Deploy\n"

    /// A completed run of `s.md` by alice, with her key: its id and the key.
    static func completedRun(_ dir: URL) throws -> (id: String, key: String) {
        let key = try R.key("alice", in: dir)
        let run = try R.runsheet(["run", "s.md", "--as", "alice", "--key", key], in: dir, stdin: "done\ndone\n")
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        return (try #require(R.runs(dir).first), key)
    }

    static func events(_ dir: URL, _ id: String) throws -> [RunEvent] {
        try R.journal(dir, id).split(separator: "\n").map { try JSONDecoder().decode(RunEvent.self, from: Data($0.utf8)) }
    }

    /// Writes `events` as the journal of `id`, every seq, prev and hash computed again, as an
    /// insider with a script would.
    static func rewrite(_ dir: URL, _ id: String, _ events: [RunEvent]) throws {
        try RepositoryRuns.rewrite(dir, id: id, events)
    }

    /// Someone other than the starter seals an ended run: a receipt, a signed `journal.sealed`
    /// naming the last event before it, and `verify` and `status` show the seal.
    @Test func aSealAfterTheEndVerifies() throws {
        let dir = try R.repository(policy: nil, files: ["s.md": Self.plain])
        defer { try? FileManager.default.removeItem(at: dir) }
        let (id, _) = try Self.completedRun(dir)
        let before = try Self.events(dir, id)
        let carol = try R.key("carol", in: dir)
        let sealed = try R.runsheet(["seal", id, "--as", "carol", "--key", carol], in: dir)
        #expect(sealed.status == 0, "\(sealed.stdout)\(sealed.stderr)")
        let events = try Self.events(dir, id)
        let seal = try #require(events.last)
        #expect(events.count == before.count + 1 && seal.type == .journalSealed && seal.actor == "carol")
        #expect(seal.data["head"]?.string == before.last?.hash && seal.data["seq"] == .int(before.count))
        #expect(seal.signature?.hasPrefix("-----BEGIN SSH SIGNATURE-----") == true)
        #expect(sealed.stdout == "sealed run \(id) at event \(before.count) (head \(before.last?.hash ?? "")) as carol\n" +
                "receipt: event \(seal.seq), hash \(seal.hash); 'runsheet verify \(id) --contains \(seal.hash)' checks it is still in the journal\n",
                "\(sealed.stdout)")
        let verify = try R.runsheet(["verify", id, "--contains", seal.hash], in: dir)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("sealed at event \(before.count) by carol at \(seal.time) (seal: event \(seal.seq))"), "\(verify.stdout)")
        let status = try R.runsheet(["status", id], in: dir)
        #expect(status.stdout.contains("seal     sealed at event \(before.count) by carol at \(seal.time) (head \(before.last?.hash ?? ""))"), "\(status.stdout)")
    }

    /// A seal is an append under the journal's lock, like a signature: it is taken while another
    /// session drives the run, and the run goes on after it; the journal verifies at its end.
    @Test func aSealIsTakenWhileAnotherSessionDrivesTheRun() throws {
        let dir = try R.repository(policy: nil, files: ["s.md": Self.plain])
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = try R.key("alice", in: dir)
        let walk = try RunningRunsheet(["run", "s.md", "--as", "alice", "--key", key, "--runs-dir", "runs"],
                                       environment: ["RUNSHEET_SIGNING_KEY": ""], directory: dir)
        let deadline = Date().addingTimeInterval(30)
        var id: String?
        while Date() < deadline {
            if let found = R.runs(dir).first, (try? Self.events(dir, found).count) ?? 0 >= 2 { id = found; break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        let run = try #require(id, "the run did not start: \(walk.errors)")
        let sealed = try R.runsheet(["seal", run, "--as", "carol", "--key", try R.key("carol", in: dir)], in: dir)
        #expect(sealed.status == 0, "\(sealed.stdout)\(sealed.stderr)")
        walk.send("done", "done")
        #expect(walk.finish() == 0, "\(walk.printed)\(walk.errors)")
        let events = try Self.events(dir, run)
        let seal = try #require(events.first { $0.type == .journalSealed })
        #expect(seal.seq < events.count && events.last?.type == .runEnded)
        let verify = try R.runsheet(["verify", run], in: dir)
        #expect(verify.status == 0 && verify.stdout.contains("sealed at event \(seal.seq - 1) by carol"), "\(verify.stdout)")
    }

    /// An insider rewrites an event before the seal and recomputes every hash after it, the
    /// seal's included: the chain is whole, but the seal's data still names the old hash, so
    /// `verify` fails naming the seal and the event it sealed.
    @Test func aRewriteBeforeTheSealFailsVerifyEvenWithHashesRecomputed() throws {
        let dir = try R.repository(policy: nil, files: ["s.md": Self.plain])
        defer { try? FileManager.default.removeItem(at: dir) }
        let (id, _) = try Self.completedRun(dir)
        let carol = try R.key("carol", in: dir)
        #expect(try R.runsheet(["seal", id, "--as", "carol", "--key", carol], in: dir).status == 0)
        var events = try Self.events(dir, id)
        let seal = try #require(events.last)
        let sealedSeq = seal.seq - 1
        let old = events[sealedSeq - 1].hash
        // Who did the first step, rewritten.
        let index = try #require(events.firstIndex { $0.type == .stepCompleted })
        events[index].actor = "mallory"
        try Self.rewrite(dir, id, events)
        let rewritten = try Self.events(dir, id)
        let verify = try R.runsheet(["verify", id], in: dir)
        #expect(verify.status == 1, "\(verify.stdout)\(verify.stderr)")
        let path = "runs/\(id)/journal.jsonl"
        #expect(verify.stdout == "\(path):\(seal.seq): journal does not verify: the seal event \(seal.seq) (journal.sealed by carol) at \(seal.time) sealed event \(sealedSeq) with hash \(old), " +
                "but event \(sealedSeq) now has hash \(rewritten[sealedSeq - 1].hash), so an event up to \(sealedSeq) was changed, removed or added after it was sealed, although the hashes were recomputed\n",
                "\(verify.stdout)")
        // Commands that act refuse it too.
        let signed = try R.runsheet(["seal", id, "--as", "bob", "--key", try R.key("bob", in: dir)], in: dir)
        #expect(signed.status == 1 && signed.stderr.contains("does not act on a journal that does not verify"), "\(signed.stderr)")
    }

    /// Rewriting the seal's data too (the new head in it) keeps `verify`'s presence checks quiet;
    /// what catches it is the seal's signature, which no longer matches its bytes (the native
    /// signature check). Here: the signature is the one made over the old data.
    @Test func aRewrittenSealKeepsItsOldSignature() throws {
        let dir = try R.repository(policy: nil, files: ["s.md": Self.plain])
        defer { try? FileManager.default.removeItem(at: dir) }
        let (id, _) = try Self.completedRun(dir)
        let carol = try R.key("carol", in: dir)
        #expect(try R.runsheet(["seal", id, "--as", "carol", "--key", carol], in: dir).status == 0)
        let original = try Self.events(dir, id)
        let sealBytes = try #require(original.last).signedBytes(run: id)
        var events = original
        let index = try #require(events.firstIndex { $0.type == .stepCompleted })
        events[index].actor = "mallory"
        var previous = ""
        for i in events.indices.dropLast() {
            events[i] = try events[i].sealed(seq: i + 1, after: previous)
            previous = events[i].hash
        }
        events[events.count - 1].data["head"] = .string(previous)
        try Self.rewrite(dir, id, events)
        let forged = try #require(try Self.events(dir, id).last)
        // The seal's signed bytes changed while its signature did not: only the signature check can tell.
        #expect(try forged.signedBytes(run: id) != sealBytes && forged.signature == original.last?.signature)
        // And the signature check tells: verify names the seal, and nobody acts on the journal.
        let verify = try R.runsheet(["verify", id], in: dir)
        #expect(verify.status == 1, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("journal does not verify: the signature of event \(forged.seq) (journal.sealed by carol) does not verify"), "\(verify.stdout)")
        let again = try R.runsheet(["seal", id, "--as", "carol", "--key", carol], in: dir)
        #expect(again.status == 1 && again.stderr.contains("does not act on a journal that does not verify"), "\(again.stderr)")
    }

    /// A seal added by hand without a signature (hashes recomputed) fails `verify`: runsheet
    /// never writes one, and an unsigned seal proves nothing.
    @Test func anUnsignedSealFailsVerify() throws {
        let dir = try R.repository(policy: nil, files: ["s.md": Self.plain])
        defer { try? FileManager.default.removeItem(at: dir) }
        let (id, _) = try Self.completedRun(dir)
        var events = try Self.events(dir, id)
        let last = try #require(events.last)
        events.append(try RunEvent(time: last.time, by: Actor(name: "carol", host: "h", via: "script"),
                                   .journalSealed(JournalSealed(head: last.hash, seq: last.seq))))
        try Self.rewrite(dir, id, events)
        let verify = try R.runsheet(["verify", id], in: dir)
        #expect(verify.status == 1, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout == "runs/\(id)/journal.jsonl:\(events.count): journal does not verify: the seal event \(events.count) (journal.sealed by carol) is not signed, and a seal is always signed\n", "\(verify.stdout)")
    }

    /// A seal needs a key (an unsigned seal proves nothing against a rewritten chain) and someone
    /// the roles file names: each refusal is one sentence, exit 1, nothing written.
    @Test func aSealNeedsAKeyAndSomeoneTheRolesFileNames() throws {
        let dir = try R.repository(policy: nil, files: ["s.md": Self.plain])
        defer { try? FileManager.default.removeItem(at: dir) }
        let (id, key) = try Self.completedRun(dir)
        let before = try R.journal(dir, id)
        let keyless = try R.runsheet(["seal", id, "--as", "carol"], in: dir)
        #expect(keyless.status == 1, "\(keyless.stdout)\(keyless.stderr)")
        #expect(R.sentence(keyless) == "a seal must be signed, since an unsigned one proves nothing against a rewritten chain, and no key is at hand; give one with --key PATH, RUNSHEET_SIGNING_KEY or Git's user.signingkey (with gpg.format ssh), so nothing was written",
                "\(keyless.stderr)")
        let stranger = try R.runsheet(["seal", id, "--as", "mallory", "--key", try R.key("mallory", in: dir)], in: dir)
        #expect(stranger.status == 1, "\(stranger.stdout)\(stranger.stderr)")
        #expect(R.sentence(stranger).hasPrefix("mallory is not named in "), "\(stranger.stderr)")
        // Another person's key under one's own name: the key says who signs.
        let borrowed = try R.runsheet(["seal", id, "--as", "mallory", "--key", key], in: dir)
        #expect(borrowed.status == 1, "\(borrowed.stdout)\(borrowed.stderr)")
        #expect(R.sentence(borrowed).contains("is allowed for alice in ") && R.sentence(borrowed).contains("not for mallory given with --as"), "\(borrowed.stderr)")
        #expect(try R.journal(dir, id) == before)
    }

    static let release = """
        ---
        release: r-1
        class: normal
        owner: alice
        ---
        # Release r-1

        ## Requires

        - [Ship](s.md)

        """

    /// Under `signatures: required`, readiness blocks a release whose run was not sealed after it
    /// ended by someone other than its starter (a seal by the starter does not do), and lists the
    /// seal once it is there.
    @Test func readinessWantsASealAfterTheEndByAnotherPerson() throws {
        let dir = try R.repository(policy: "signatures: required\n", files: ["s.md": Self.plain, "release.md": Self.release])
        defer { try? FileManager.default.removeItem(at: dir) }
        let (id, key) = try Self.completedRun(dir)
        func readiness() throws -> (ProcessResult, ReadinessReport?) {
            let result = try R.runsheet(["readiness", "release.md", "--format", "json"], in: dir)
            return (result, try? JSONDecoder().decode(ReadinessReport.self, from: Data(result.stdout.utf8)))
        }
        var (result, report) = try readiness()
        #expect(result.status == 1 && report?.decision == .noGo, "\(result.stdout)\(result.stderr)")
        let wanted = "run \(id) requires signatures and was not sealed after it ended by someone other than its starter, alice; someone the roles file names seals it with: runsheet seal \(id) --key PATH"
        #expect(report?.blockers.map(\.text) == [wanted], "\(report?.blockers.map(\.text) ?? [])")

        #expect(try R.runsheet(["seal", id, "--as", "alice", "--key", key], in: dir).status == 0)
        (result, report) = try readiness()
        #expect(result.status == 1 && report?.blockers.map(\.text) == [wanted], "a seal by the starter counted: \(result.stdout)")

        #expect(try R.runsheet(["seal", id, "--as", "carol", "--key", try R.key("carol", in: dir)], in: dir).status == 0)
        (result, report) = try readiness()
        #expect(result.status == 0 && report?.decision == .go, "\(result.stdout)\(result.stderr)")
        #expect(report?.items.first?.seals?.map(\.by) == ["alice", "carol"])
        let markdown = try R.runsheet(["readiness", "release.md"], in: dir)
        #expect(markdown.stdout.contains("## Seals") && markdown.stdout.contains("| carol |"), "\(markdown.stdout)")
    }

    /// A run started before the policy required signatures still verifies (an old journal does not
    /// turn invalid), but readiness judges a release by the policy as it is now: it wants the run
    /// sealed after it ended by someone other than its starter. Otherwise a journal rewritten
    /// without its recorded requirement and its signatures (hashes recomputed) would pass as GO.
    @Test func readinessWantsASealWhenThePolicyNowRequiresSignatures() throws {
        let dir = try R.repository(policy: nil, files: ["s.md": Self.plain, "release.md": Self.release])
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try R.runsheet(["run", "s.md", "--as", "alice"], in: dir, stdin: "done\ndone\n")
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let id = try #require(R.runs(dir).first)
        try "signatures: required\n".write(to: dir.appendingPathComponent(".runsheet/policy.yaml"), atomically: true, encoding: .utf8)
        #expect(try R.runsheet(["verify", id], in: dir).status == 0)
        let blocked = try R.runsheet(["readiness", "release.md", "--format", "json"], in: dir)
        #expect(blocked.status == 1 && blocked.stdout.contains("was not sealed after it ended by someone other than its starter"), "\(blocked.stdout)\(blocked.stderr)")
        #expect(try R.runsheet(["seal", id, "--as", "carol", "--key", try R.key("carol", in: dir)], in: dir).status == 0)
        let result = try R.runsheet(["readiness", "release.md", "--format", "json"], in: dir)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    }
}
