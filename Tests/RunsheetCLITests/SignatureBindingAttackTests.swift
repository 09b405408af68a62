import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Found by the adversary of issue 14 (binary and docs only), each played through the real binary:
/// unsigned sign-offs counting under `signatures: required` (the policy file moved aside for the
/// run), one key counting as two approvers, look-alike names, misleading refusals, and a run
/// backdated to before its key was retired (docs/JOURNAL.md, "Allowed signers and SSH signatures",
/// "Signatures in the journal", "Required signatures and seals").
@Suite struct SignatureBindingAttackTests {
    static let runbook = """
        ---
        runsheet: 1
        id: change
        title: Change
        owner: t
        class: normal
        roles:
          approver: a
          operator: o
        ---

        # Change

        ## Prep

        - [ ] Prepare

        ## Approve

        - [ ] Approve
          - Sign-off: 2 of approver
          - Separation: starter

        ## Do

        - [ ] Do it

        """

    /// A Git repository (committed) where alice and bob approve, op and rita operate, signatures
    /// are required, and each has an ed25519 key in a folder beside it.
    struct Repository {
        let dir: URL
        let keys: URL
        var root: URL { dir.deletingLastPathComponent() }

        init(roles: String = "roles:\n  approver: [alice@example.com, bob@example.com]\n  operator: [op@example.com, rita@example.com]\n",
             extraSigners: [String] = []) throws {
            let root = try Fixtures.temporaryDirectory()
            dir = root.appendingPathComponent("repo")
            keys = root.appendingPathComponent("keys")
            for folder in [dir.appendingPathComponent(".runsheet"), dir.appendingPathComponent("rb"), dir.appendingPathComponent("releases"), keys] {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            }
            #expect(try Fixtures.run("/usr/bin/git", ["init", "-q", dir.path]).status == 0)
            try roles.write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
            try "signatures: required\n".write(to: dir.appendingPathComponent(".runsheet/policy.yaml"), atomically: true, encoding: .utf8)
            var lines: [String] = []
            for name in ["op", "alice", "bob", "rita"] {
                let key = try SigningKeys.generate(name: name, in: keys)
                lines.append("\(name)@example.com namespaces=\"runsheet\" \(try SigningKeys.publicKey(key))")
            }
            try ((lines + extraSigners).joined(separator: "\n") + "\n").write(to: signers, atomically: true, encoding: .utf8)
            try SignatureBindingAttackTests.runbook.write(to: dir.appendingPathComponent("rb/change.md"), atomically: true, encoding: .utf8)
            try "---\nrelease: r1\nclass: normal\n---\n# R1\n\n## Requires\n\n- [Change](../rb/change.md)\n"
                .write(to: dir.appendingPathComponent("releases/r.md"), atomically: true, encoding: .utf8)
            try commit()
        }

        var signers: URL { dir.appendingPathComponent(".runsheet/allowed_signers") }
        var policy: URL { dir.appendingPathComponent(".runsheet/policy.yaml") }
        func key(_ name: String) -> String { keys.appendingPathComponent(name).path }

        func commit() throws {
            #expect(try Fixtures.run("/usr/bin/git", ["-C", dir.path, "add", "-A"]).status == 0)
            #expect(try Fixtures.run("/usr/bin/git", ["-C", dir.path, "-c", "user.email=x@x", "-c", "user.name=x", "commit", "-qm", "rules"]).status == 0)
        }

        /// runsheet in a session of its own (ssh-keygen never asks a terminal), from the repository.
        func runsheet(_ arguments: [String], stdin: String? = nil) throws -> ProcessResult {
            try Fixtures.run("/usr/bin/setsid", ["--wait", Fixtures.binary.path] + arguments + ["--runs-dir", "runs"],
                             stdin: stdin, environment: ["NO_COLOR": "1"], directory: dir)
        }

        /// Starts a run as op (signed with op's key unless `key` is false), paused at the gate.
        /// The run this call started: the one new in the runs folder (a test may start several).
        func startedRun(key: Bool = true) throws -> String {
            let before = Set(RepositoryRuns.runs(in: dir))
            let started = try runsheet(["run", "rb/change.md", "--as", "op@example.com"] + (key ? ["--key", self.key("op")] : []), stdin: "done\nquit\n")
            #expect(started.status != 2, "\(started.stdout)\(started.stderr)")
            let new = RepositoryRuns.runs(in: dir).filter { !before.contains($0) }
            #expect(new.count == 1, "one run started: \(new)")
            return try #require(new.first)
        }

        func check() throws -> ProcessResult {
            try Fixtures.runsheet(["check", "rb/change.md"], environment: ["NO_COLOR": "1"], directory: dir)
        }

        func remove() { try? FileManager.default.removeItem(at: root) }
    }

    // MARK: A. Unsigned sign-offs under today's policy

    /// The operator moves the policy aside, runs the gate with typed names, and puts it back:
    /// readiness blocks on the gate, seal refuses, status and report say the sign-offs do not count.
    @Test func unsignedSignOffsDoNotCountWhenThePolicyNowRequiresSignatures() throws {
        let repo = try Repository()
        defer { repo.remove() }
        let hidden = repo.root.appendingPathComponent("policy.hidden")
        try FileManager.default.moveItem(at: repo.policy, to: hidden)
        let id = try repo.startedRun(key: false)
        #expect(try repo.runsheet(["sign", id, "approve", "--as", "alice@example.com"]).status == 0)
        #expect(try repo.runsheet(["sign", id, "approve", "--as", "bob@example.com"]).status == 0)
        let finished = try repo.runsheet(["resume", id, "--as", "op@example.com"], stdin: "done\ndone\n")
        #expect(finished.stdout.contains("completed"), "\(finished.stdout)\(finished.stderr)")
        try FileManager.default.moveItem(at: hidden, to: repo.policy)

        let sealed = try repo.runsheet(["seal", id, "--key", repo.key("rita")])
        #expect(sealed.status == 1, "\(sealed.stdout)\(sealed.stderr)")
        #expect(sealed.stderr.contains("holds sign-offs without a signature (event 6 by alice@example.com on approve, event 7 by bob@example.com on approve)")
                && sealed.stderr.contains("requires signatures for a normal run, so it is not sealed"), "\(sealed.stderr)")
        let readiness = try repo.runsheet(["readiness", "releases/r.md"])
        #expect(readiness.status == 1, "\(readiness.stdout)")
        #expect(readiness.stdout.contains("gate approve is not met: its sign-offs event 6 by alice@example.com on approve, event 7 by bob@example.com on approve are not signed"), "\(readiness.stdout)")
        let status = try repo.runsheet(["status", id])
        #expect(status.stdout.contains("unsigned sign-off, event 6 by alice@example.com as approver at ") && status.stdout.contains("does not count: .runsheet/policy.yaml requires signatures for a normal run now"), "\(status.stdout)")
        let report = try repo.runsheet(["report", id, "--format", "md"])
        #expect(report.stdout.contains("alice@example.com (approver; no SSH signature, does not count: .runsheet/policy.yaml requires signatures for a normal run)"), "\(report.stdout)")
    }

    /// `sign` and `resume` under today's policy do not take a gate as met by an unsigned sign-off.
    @Test func signAndResumeDoNotCountAnUnsignedSignOffUnderTodaysPolicy() throws {
        let repo = try Repository()
        defer { repo.remove() }
        let hidden = repo.root.appendingPathComponent("policy.hidden")
        try FileManager.default.moveItem(at: repo.policy, to: hidden)
        let id = try repo.startedRun(key: false)
        #expect(try repo.runsheet(["sign", id, "approve", "--as", "alice@example.com"]).status == 0)
        try FileManager.default.moveItem(at: hidden, to: repo.policy)
        let signed = try repo.runsheet(["sign", id, "approve", "--key", repo.key("bob")])
        #expect(signed.status == 0 && signed.stdout.contains("signed approve as approver (bob@example.com); still needs 1 more of approver"), "\(signed.stdout)\(signed.stderr)")
        let resumed = try repo.runsheet(["resume", id, "--key", repo.key("op")], stdin: "done\ndone\n")
        #expect(!resumed.stdout.contains("completed"), "\(resumed.stdout)\(resumed.stderr)")
        let status = try repo.runsheet(["status", id])
        #expect(status.stdout.contains("status   in progress"), "\(status.stdout)")
    }

    // MARK: B. One key is one person

    @Test func aKeyListedForTwoPeopleIsACheckErrorAndCannotSign() throws {
        let repo = try Repository()
        defer { repo.remove() }
        let shared = try SigningKeys.generate(name: "shared", in: repo.keys)
        try (try String(contentsOf: repo.signers, encoding: .utf8) + "alice@example.com,bob@example.com namespaces=\"runsheet\" \(try SigningKeys.publicKey(shared))\n")
            .write(to: repo.signers, atomically: true, encoding: .utf8)
        let checked = try repo.check()
        #expect(checked.status == 1 && checked.stdout.contains(".runsheet/allowed_signers:5:1: error: the key SHA256:") && checked.stdout.contains("binds nobody"), "\(checked.stdout)")
        let id = try repo.startedRun()
        let signed = try repo.runsheet(["sign", id, "approve", "--key", shared, "--as", "alice@example.com"])
        #expect(signed.status == 1 && signed.stderr.contains("is allowed for more than one person") && signed.stderr.contains("nothing was written"), "\(signed.stderr)")
    }

    /// Two sign-offs signed by one key (a second one written by a script, the file listing the key
    /// for both names) count once at the gate.
    @Test func twoSignOffsByOneKeyCountOnce() throws {
        let repo = try Repository()
        defer { repo.remove() }
        let id = try repo.startedRun()
        #expect(try repo.runsheet(["sign", id, "approve", "--key", repo.key("alice")]).status == 0)
        var events = try Self.events(repo, id)
        var copy = try #require(events.last)
        (copy.actor, copy.canonical) = ("bob@example.com", "bob@example.com")
        try Self.sign(&copy, in: repo, run: id, key: repo.key("alice"), name: "copy")
        events.append(copy)
        try RepositoryRuns.rewrite(repo.dir, id: id, events)
        try (try String(contentsOf: repo.signers, encoding: .utf8) + "bob@example.com namespaces=\"runsheet\" \(try SigningKeys.publicKey(repo.key("alice")))\n")
            .write(to: repo.signers, atomically: true, encoding: .utf8)
        let verified = try repo.runsheet(["verify", id])
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        #expect(verified.stdout.contains("which already counted for alice@example.com's sign-off, and one key counts once at gate approve"), "\(verified.stdout)")
        let resumed = try repo.runsheet(["resume", id, "--key", repo.key("op")], stdin: "done\ndone\n")
        #expect(!resumed.stdout.contains("completed"), "\(resumed.stdout)\(resumed.stderr)")
    }

    /// A completed run whose second sign-off was re-signed with the first approver's key (the
    /// file listing that key for both): readiness says the gate is not met, and why.
    @Test func readinessCountsAKeyOnceAtAGate() throws {
        let repo = try Repository()
        defer { repo.remove() }
        let id = try repo.startedRun()
        #expect(try repo.runsheet(["sign", id, "approve", "--key", repo.key("alice")]).status == 0)
        #expect(try repo.runsheet(["sign", id, "approve", "--key", repo.key("bob")]).status == 0)
        let finished = try repo.runsheet(["resume", id, "--key", repo.key("op")], stdin: "done\ndone\n")
        #expect(finished.stdout.contains("completed"), "\(finished.stdout)\(finished.stderr)")
        var events = try Self.events(repo, id)
        let bobs = try #require(events.firstIndex { $0.type == .signOff && $0.actor == "bob@example.com" })
        try Self.sign(&events[bobs], in: repo, run: id, key: repo.key("alice"), name: "bob")
        try RepositoryRuns.rewrite(repo.dir, id: id, events)
        try (try String(contentsOf: repo.signers, encoding: .utf8) + "bob@example.com namespaces=\"runsheet\" \(try SigningKeys.publicKey(repo.key("alice")))\n")
            .write(to: repo.signers, atomically: true, encoding: .utf8)
        // The gate was recorded done on what counts as one approver: verify says so (ForgedGateCompletionTests).
        let verified = try repo.runsheet(["verify", id])
        #expect(verified.status == 1 && verified.stdout.contains("gate 'approve' is recorded done (event ")
                && verified.stdout.contains("it still needed 1 more of approver"), "\(verified.stdout)")
        let readiness = try repo.runsheet(["readiness", "releases/r.md"])
        #expect(readiness.status == 1, "\(readiness.stdout)")
        #expect(readiness.stdout.contains("gate approve is not met: the sign-off by bob@example.com (event ") && readiness.stdout.contains("one key counts once; it still needs 1 more of approver"), "\(readiness.stdout)")
    }

    static func events(_ repo: Repository, _ id: String) throws -> [RunEvent] {
        let journal = repo.dir.appendingPathComponent("runs/\(id)/journal.jsonl")
        return try String(contentsOf: journal, encoding: .utf8).split(separator: "\n").map { try JSONDecoder().decode(RunEvent.self, from: Data($0.utf8)) }
    }

    /// Signs `event` again with `key`, as a script with ssh-keygen would.
    static func sign(_ event: inout RunEvent, in repo: Repository, run id: String, key: String, name: String) throws {
        event.signature = nil
        let bytes = repo.root.appendingPathComponent(name)
        try Data(try event.signedBytes(run: id)).write(to: bytes)
        try? FileManager.default.removeItem(atPath: bytes.path + ".sig")
        #expect(try Fixtures.run("/usr/bin/ssh-keygen", ["-q", "-Y", "sign", "-n", "runsheet", "-f", key, bytes.path]).status == 0)
        event.signature = try String(contentsOfFile: bytes.path + ".sig", encoding: .utf8).trimmingCharacters(in: .newlines)
    }

    @Test func anAllowedSignersFileThatIsASymbolicLinkIsRefused() throws {
        let repo = try Repository()
        defer { repo.remove() }
        let id = try repo.startedRun()
        let elsewhere = repo.root.appendingPathComponent("elsewhere_signers")
        try FileManager.default.moveItem(at: repo.signers, to: elsewhere)
        try FileManager.default.createSymbolicLink(atPath: repo.signers.path, withDestinationPath: elsewhere.path)
        let signed = try repo.runsheet(["sign", id, "approve", "--key", repo.key("alice")])
        #expect(signed.status == 1 && signed.stderr.contains("allowed_signers cannot be read: it is a symbolic link (to \(elsewhere.path))"), "\(signed.stdout)\(signed.stderr)")
        let checked = try repo.check()
        #expect(checked.status == 1 && checked.stdout.contains("error: the allowed signers file cannot be read: it is a symbolic link"), "\(checked.stdout)")
    }

    // MARK: C. Look-alike names

    @Test func lookAlikeNamesAreWarnedAndShownWithTheirCodePoints() throws {
        let cyrillic = "\u{430}lice@example.com"
        let repo = try Repository(roles: "roles:\n  approver: [alice@example.com, bob@example.com, \(cyrillic)]\n  operator: [op@example.com, rita@example.com]\n")
        defer { repo.remove() }
        let fake = try SigningKeys.generate(name: "fake", in: repo.keys)
        try (try String(contentsOf: repo.signers, encoding: .utf8) + "\(cyrillic) namespaces=\"runsheet\" \(try SigningKeys.publicKey(fake))\n")
            .write(to: repo.signers, atomically: true, encoding: .utf8)
        let checked = try repo.check()
        #expect(checked.stdout.contains(".runsheet/roles.yaml:2:50: warning: the name \(cyrillic) (U+0430 at 1) mixes Cyrillic and Latin letters"), "\(checked.stdout)")
        #expect(checked.stdout.contains("warning: the name \(cyrillic) (U+0430 at 1) looks like alice@example.com"), "\(checked.stdout)")
        let id = try repo.startedRun()
        let signed = try repo.runsheet(["sign", id, "approve", "--key", fake])
        #expect(signed.stdout.contains("(\(cyrillic) (U+0430 at 1))"), "\(signed.stdout)\(signed.stderr)")
        #expect(try repo.runsheet(["status", id]).stdout.contains("\(cyrillic) (U+0430 at 1)"))
        #expect(try repo.runsheet(["verify", id]).stdout.contains("by \(cyrillic) (U+0430 at 1), key SHA256:"))
    }

    @Test func invisibleCharactersInNamesAreShownEscaped() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try "# T\n\n- [ ] One\n".write(to: dir.appendingPathComponent("t.md"), atomically: true, encoding: .utf8)
        #expect(try RepositoryRuns.runsheet(["run", "t.md", "--as", "al\u{AD}ice\u{200B}"], in: dir, stdin: "done\n").status == 0)
        let id = try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))
        let status = try RepositoryRuns.runsheet(["status", id], in: dir)
        #expect(status.stdout.contains("al\\u00adice\\u200b (U+00AD at 3, U+200B at 7)") && !status.stdout.contains("\u{AD}"), "\(status.stdout)")
    }

    // MARK: D. Refusals that say what is wrong

    @Test func aRefusedKeySaysWhyTheFileDoesNotAllowIt() throws {
        let repo = try Repository()
        defer { repo.remove() }
        let original = try String(contentsOf: repo.signers, encoding: .utf8)
        let aliceKey = try SigningKeys.publicKey(repo.key("alice"))
        let id = try repo.startedRun()
        func refusal(_ aliceLine: String, _ extra: [String] = []) throws -> String {
            let lines = original.split(separator: "\n").map(String.init).map { $0.hasPrefix("alice@") ? aliceLine : $0 }
            try (lines.joined(separator: "\n") + "\n").write(to: repo.signers, atomically: true, encoding: .utf8)
            let signed = try repo.runsheet(["sign", id, "approve", "--key", repo.key("alice")] + extra)
            #expect(signed.status == 1, "\(signed.stdout)\(signed.stderr)")
            return signed.stderr
        }
        #expect(try refusal("*,!alice@example.com namespaces=\"runsheet\" \(aliceKey)", ["--as", "alice@example.com"]).contains("excludes alice@example.com with '!alice@example.com'"))
        #expect(try refusal("*@example.com namespaces=\"runsheet\" \(aliceKey)").contains("names people only by the pattern '*@example.com'"))
        #expect(try refusal("alice@example.com cert-authority,namespaces=\"runsheet\" \(aliceKey)").contains("is a cert-authority line"))
        #expect(try refusal("ALICE@example.com namespaces=\"runsheet\" \(aliceKey)").contains("principal 'ALICE@example.com' is not in canonical form"))
        try FileManager.default.removeItem(at: repo.signers)
        try FileManager.default.createDirectory(at: repo.signers, withIntermediateDirectories: false)
        let signed = try repo.runsheet(["sign", id, "approve", "--key", repo.key("alice")])
        #expect(signed.status == 1 && signed.stderr.contains("allowed_signers cannot be read: it is a directory"), "\(signed.stderr)")
        let verified = try repo.runsheet(["verify", id])
        #expect(verified.status == 1 && verified.stdout.contains("allowed_signers cannot be read: it is a directory"), "\(verified.stdout)")
        #expect(try RepositoryRuns.events(repo.dir, id: id).filter { $0["type"] as? String == "signoff.signed" }.isEmpty)
    }

    // MARK: E. A run backdated to before its key was retired

    @Test func aRunStampedBeforeTheCommitItRecordsDoesNotVerify() throws {
        let repo = try Repository()
        defer { repo.remove() }
        let id = try repo.startedRun()
        #expect(try repo.runsheet(["verify", id]).status == 0)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var events: [RunEvent] = []
        for var event in try Self.events(repo, id) {
            event.time = formatter.string(from: try #require(formatter.date(from: event.time)).addingTimeInterval(-40 * 86400))
            if event.signature != nil { try Self.sign(&event, in: repo, run: id, key: repo.key("op"), name: "event-\(event.seq)") }
            events.append(event)
        }
        try RepositoryRuns.rewrite(repo.dir, id: id, events)
        let verified = try repo.runsheet(["verify", id])
        #expect(verified.status == 1, "\(verified.stdout)\(verified.stderr)")
        #expect(verified.stdout.contains("event 1 (run.started) is stamped ") && verified.stdout.contains(", which its run.started records, was made ("), "\(verified.stdout)")
    }
}
