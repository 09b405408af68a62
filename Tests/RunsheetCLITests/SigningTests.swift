import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Issue 14: events a person acts with carry their SSH signature, made by the real `ssh-keygen`
/// (a key file, an agent, Git's signing key), and stock OpenSSH checks them from `verify --explain`.
@Suite struct SigningTests {
    static let runbook = """
        ---
        runsheet: 1
        id: signed-change
        title: Signed change
        roles: [sre]
        ---

        # Change

        - [ ] Approve the change
          - Sign-off: 1 of sre
          - Separation: starter
        - [ ] Make the change
        """

    /// A repository (a real Git one when `git`) with roles, the runbook, and keys for alice and bob in `keys/`.
    func repository(git: Bool = false) throws -> (dir: URL, alice: String, bob: String) {
        let dir = try Fixtures.temporaryDirectory()
        if git {
            #expect(try Fixtures.run("/usr/bin/git", ["init", "-q", dir.path]).status == 0)
        } else {
            try FileManager.default.createDirectory(at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
            try "ref: refs/heads/main\n".write(to: dir.appendingPathComponent(".git/HEAD"), atomically: true, encoding: .utf8)
        }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        try "roles:\n  sre: [alice, bob]\n".write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        try Self.runbook.write(to: dir.appendingPathComponent("change.md"), atomically: true, encoding: .utf8)
        let keys = dir.appendingPathComponent("keys")
        try FileManager.default.createDirectory(at: keys, withIntermediateDirectories: true)
        let alice = try SigningKeys.generate(name: "alice", in: keys)
        let bob = try SigningKeys.generate("ecdsa", bits: 384, name: "bob", in: keys)
        try SigningKeys.allow([("alice", alice), ("bob", bob)], in: dir)
        return (dir, alice, bob)
    }

    func runsheet(_ arguments: [String], in dir: URL, environment: [String: String] = [:]) throws -> ProcessResult {
        // In a session of its own, without a terminal: ssh-keygen can never stop to ask for a passphrase.
        try Fixtures.run("/usr/bin/setsid", ["--wait", Fixtures.binary.path] + arguments + ["--runs-dir", "runs"],
                         environment: environment, directory: dir)
    }

    /// Starts a run as alice (signed with her key), paused at the gate; returns its id.
    func startedRun(in dir: URL, key: String?) throws -> String {
        let started = try runsheet(["run", "change.md", "--auto", "--as", "alice"] + (key.map { ["--key", $0] } ?? []), in: dir)
        #expect(started.status == 3, "\(started.stdout)\(started.stderr)")
        return try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))
    }

    func journalLines(_ dir: URL, _ id: String) throws -> [String] {
        try String(contentsOf: dir.appendingPathComponent("runs/\(id)/journal.jsonl"), encoding: .utf8).split(separator: "\n").map(String.init)
    }

    @Test func aSignOffIsSignedAndStockOpenSSHChecksItFromTheExplanation() throws {
        let (dir, alice, bob) = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try startedRun(in: dir, key: alice)
        let signed = try runsheet(["sign", id, "approve-the-change", "--as", "bob", "--key", bob], in: dir)
        #expect(signed.status == 0, "\(signed.stdout)\(signed.stderr)")
        let events = try RepositoryRuns.events(dir, id: id)
        let signOff = try #require(events.first { $0["type"] as? String == "signoff.signed" })
        #expect((signOff["signature"] as? String)?.hasPrefix("-----BEGIN SSH SIGNATURE-----\n") == true, "\(signOff)")
        #expect((events.first?["signature"] as? String) != nil, "alice's run.started is signed with her key")
        #expect(events.filter { $0["type"] as? String == "step.started" }.allSatisfy { $0["signature"] == nil }, "only what a person acts with is signed")
        #expect(try runsheet(["verify", id], in: dir).status == 0)

        let folder = dir.appendingPathComponent("audit")
        let explained = try runsheet(["verify", id, "--explain", folder.path], in: dir)
        #expect(explained.status == 0, "\(explained.stdout)\(explained.stderr)")
        let commands = explained.stdout.split(separator: "\n").filter { $0.hasPrefix("ssh-keygen -Y verify ") }.map(String.init)
        #expect(commands.count == 2, "run.started and the sign-off: \(explained.stdout)")
        #expect(commands.contains { $0.contains("-I 'bob'") && $0.contains("-n runsheet") && $0.contains("-Overify-time=") }, "\(commands)")
        for command in commands {
            let checked = try Fixtures.run("/bin/sh", ["-c", command], directory: folder)
            #expect(checked.status == 0, "\(command): \(checked.stdout)\(checked.stderr)")
            #expect(checked.stdout.contains("Good \"runsheet\" signature for"), "\(checked.stdout)")
        }
        #expect(try Fixtures.run("/bin/sh", ["verify.sh"], directory: folder).status == 0)

        // One changed byte in an event's bytes, or a signature put on another event, and OpenSSH says no.
        let seq = try #require(signOff["seq"] as? Int)
        let eventFile = folder.appendingPathComponent("event-\(seq).json")
        let original = try String(contentsOf: eventFile, encoding: .utf8)
        try original.replacingOccurrences(of: "\"bob\"", with: "\"mallory\"").write(to: eventFile, atomically: true, encoding: .utf8)
        let tampered = try Fixtures.run("/bin/sh", ["-c", try #require(commands.first { $0.contains("event-\(seq).json") })], directory: folder)
        #expect(tampered.status != 0, "\(tampered.stdout)\(tampered.stderr)")
        try original.write(to: eventFile, atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(at: folder.appendingPathComponent("event-1.sig"), to: folder.appendingPathComponent("moved.sig"))
        let moved = try Fixtures.run("/bin/sh", ["-c", "ssh-keygen -Y verify -f allowed_signers -I alice -n runsheet -s moved.sig < event-\(seq).json"], directory: folder)
        #expect(moved.status != 0, "a signature moved to another event does not verify: \(moved.stdout)\(moved.stderr)")
        #expect(try Fixtures.run("/bin/sh", ["verify.sh"], directory: folder).status == 0, "the event put back verifies again")

        // An explanation never mixes with files already there.
        let again = try runsheet(["verify", id, "--explain", folder.path], in: dir)
        #expect(again.status == 2 && again.stderr.contains("is not empty"), "\(again.stdout)\(again.stderr)")
    }

    /// A key held by ssh-agent signs through its public half, as Git's SSH signing does.
    @Test func aKeyInTheAgentSigns() throws {
        let (dir, alice, bob) = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try startedRun(in: dir, key: alice)
        let agent = try SigningKeys.Agent()
        defer { agent.stop() }
        try agent.add(bob)
        try FileManager.default.removeItem(atPath: bob)  // only the agent holds the private key now
        let signed = try runsheet(["sign", id, "approve-the-change", "--as", "bob", "--key", bob + ".pub"], in: dir,
                                  environment: ["SSH_AUTH_SOCK": agent.socket])
        #expect(signed.status == 0, "\(signed.stdout)\(signed.stderr)")
        let signOff = try #require(try RepositoryRuns.events(dir, id: id).first { $0["type"] as? String == "signoff.signed" })
        #expect(signOff["signature"] is String, "\(signOff)")
        let folder = dir.appendingPathComponent("audit")
        #expect(try runsheet(["verify", id, "--explain", folder.path], in: dir).status == 0)
        #expect(try Fixtures.run("/bin/sh", ["verify.sh"], directory: folder).status == 0)
    }

    /// `RUNSHEET_SIGNING_KEY`, then Git's `user.signingkey` when `gpg.format` is `ssh` (a path, or
    /// a literal `key::` public key of a key in the agent).
    @Test func theKeyComesFromTheEnvironmentOrFromGit() throws {
        let (dir, alice, bob) = try repository(git: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try startedRun(in: dir, key: nil)
        #expect(try RepositoryRuns.events(dir, id: id).first?["signature"] == nil, "no key at hand: nothing signed")
        // The environment's key.
        let noted = try runsheet(["reject", id, "approve-the-change", "--as", "bob", "--reason", "not yet"], in: dir,
                                 environment: ["RUNSHEET_SIGNING_KEY": bob])
        #expect(noted.status == 0, "\(noted.stdout)\(noted.stderr)")
        let rejection = try #require(try RepositoryRuns.events(dir, id: id).first { $0["type"] as? String == "signoff.rejected" })
        #expect(rejection["signature"] is String, "\(rejection)")

        // Git's signing key, as `git config gpg.format ssh` users have it.
        let (gitDir, gitAlice, _) = try repository(git: true)
        defer { try? FileManager.default.removeItem(at: gitDir) }
        for setting in [["gpg.format", "ssh"], ["user.signingkey", gitAlice]] {
            #expect(try Fixtures.run("/usr/bin/git", ["-C", gitDir.path, "config"] + setting).status == 0)
        }
        let gitStart = try runsheet(["run", "change.md", "--auto", "--as", "alice"], in: gitDir)
        let gitRun = try #require(Fixtures.onlyRun(in: gitDir.appendingPathComponent("runs").path))
        #expect(try RepositoryRuns.events(gitDir, id: gitRun).first?["signature"] is String, "Git's user.signingkey signs: \(gitStart.stderr)")
        // Git's key where the allowed signers do not name it (many people sign commits): a warning, nothing signed, no refusal.
        #expect(try Fixtures.run("/usr/bin/git", ["-C", gitDir.path, "config", "user.signingkey", alice]).status == 0)
        let stranger = try runsheet(["resume", gitRun, "--auto", "--as", "alice"], in: gitDir)
        #expect(stranger.status == 3 && stranger.stderr.contains("warning: the key ") && stranger.stderr.contains("Git's user.signingkey is not used"), "\(stranger.stderr)")
        #expect(try RepositoryRuns.events(gitDir, id: gitRun).last { $0["type"] as? String == "run.resumed" }?["signature"] == nil)
        let agent = try SigningKeys.Agent()
        defer { agent.stop() }
        try agent.add(gitAlice)
        #expect(try Fixtures.run("/usr/bin/git", ["-C", gitDir.path, "config", "user.signingkey", "key::" + SigningKeys.publicKey(gitAlice)]).status == 0)
        let literal = try runsheet(["resume", gitRun, "--auto", "--as", "alice"], in: gitDir, environment: ["SSH_AUTH_SOCK": agent.socket])
        #expect(literal.status == 3, "\(literal.stdout)\(literal.stderr)")
        let resumed = try #require(try RepositoryRuns.events(gitDir, id: gitRun).last { $0["type"] as? String == "run.resumed" })
        #expect(resumed["signature"] is String, "a literal key:: public key signs through the agent: \(resumed)")
    }

    /// Every key that cannot sign is one sentence, exit 2, and nothing is written.
    @Test func aKeyThatCannotSignWritesNothing() throws {
        let (dir, alice, bob) = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try startedRun(in: dir, key: alice)
        let before = try journalLines(dir, id)
        let keys = dir.appendingPathComponent("keys")
        try "not a key\n".write(to: keys.appendingPathComponent("notes.txt"), atomically: true, encoding: .utf8)
        let locked = try SigningKeys.generate(name: "locked", in: keys, passphrase: "correct horse")
        let pubOnly = keys.appendingPathComponent("lonely")
        try SigningKeys.generate(name: "lonely", in: keys)
        try FileManager.default.removeItem(atPath: pubOnly.path)  // the public half, with no private key and no agent
        try SigningKeys.allow([("alice", alice), ("bob", bob), ("bob", locked), ("bob", pubOnly.path)], in: dir)
        let cases: [(what: String, key: String, environment: [String: String], says: String)] = [
            ("a missing file", keys.appendingPathComponent("nope").path, [:], "cannot read the signing key"),
            ("a folder", keys.path, [:], "cannot read the signing key"),
            ("not a key", keys.appendingPathComponent("notes.txt").path, [:], "is neither an SSH private key nor a public key"),
            ("a passphrase nobody can type", locked, [:], "ssh-keygen failed"),
            ("no agent for a public key", pubOnly.path + ".pub", ["SSH_AUTH_SOCK": "/nonexistent/agent.sock"], "ssh-keygen failed"),
            ("no ssh-keygen", bob, ["PATH": "/nonexistent"], "ssh-keygen is not installed"),
        ]
        for (what, key, environment, says) in cases {
            let refused = try runsheet(["sign", id, "approve-the-change", "--as", "bob", "--key", key], in: dir, environment: environment)
            #expect(refused.status == 2, "\(what): \(refused.stdout)\(refused.stderr)")
            #expect(refused.stderr.contains(says) && refused.stderr.contains(key), "\(what): \(refused.stderr)")
            #expect(refused.stderr.split(separator: "\n").count == 1, "\(what): one sentence: \(refused.stderr)")
            #expect(try journalLines(dir, id) == before, "\(what): nothing written")
        }
        // A start with an unusable key leaves no run behind.
        let runs = dir.appendingPathComponent("runs").path
        let count = try FileManager.default.contentsOfDirectory(atPath: runs).count
        let start = try runsheet(["run", "change.md", "--auto", "--as", "alice", "--key", keys.appendingPathComponent("nope").path], in: dir)
        #expect(start.status == 2 && start.stderr.contains("cannot read the signing key"), "\(start.stdout)\(start.stderr)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: runs).count == count, "no run folder, no staging folder")
    }
}

/// Issue 14: with a key, the allowed signers file says who signs; `verify` and every command that
/// decides from a journal check each signature natively, at its event's time.
@Suite struct SigningIdentityTests {
    let base = SigningTests()

    @Test func theKeySaysWhoActs() throws {
        let (dir, alice, bob) = try base.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try base.startedRun(in: dir, key: alice)
        let before = try base.journalLines(dir, id)
        // Alice's key under Bob's name: refused, whatever --as says.
        let borrowed = try base.runsheet(["sign", id, "approve-the-change", "--as", "bob", "--key", alice], in: dir)
        #expect(borrowed.status == 1, "\(borrowed.stdout)\(borrowed.stderr)")
        #expect(borrowed.stderr.contains("is allowed for alice in ") && borrowed.stderr.contains("not for bob given with --as"), "\(borrowed.stderr)")
        // Bob in another letter case is still Bob.
        #expect(try base.runsheet(["sign", id, "approve-the-change", "--as", "BOB", "--key", alice], in: dir).status == 1)
        // A key the file does not name, one whose line expired, one allowed only for Git's namespace.
        let keys = dir.appendingPathComponent("keys")
        let stranger = try SigningKeys.generate(name: "stranger", in: keys)
        let retired = try SigningKeys.generate(name: "retired", in: keys)
        let gitOnly = try SigningKeys.generate(name: "gitonly", in: keys)
        let file = dir.appendingPathComponent(".runsheet/allowed_signers")
        let lines = try String(contentsOf: file, encoding: .utf8)
            + "bob valid-before=\"20200101Z\" \(try SigningKeys.publicKey(retired))\n"
            + "bob namespaces=\"git\" \(try SigningKeys.publicKey(gitOnly))\n"
        try lines.write(to: file, atomically: true, encoding: .utf8)
        for key in [stranger, retired, gitOnly] {
            let refused = try base.runsheet(["sign", id, "approve-the-change", "--as", "bob", "--key", key], in: dir)
            #expect(refused.status == 1 && refused.stderr.contains("is not allowed to sign in"), "\(key): \(refused.stderr)")
            #expect(refused.stderr.split(separator: "\n").count == 1)
        }
        #expect(try base.journalLines(dir, id) == before, "nothing written")
        // No --as: the key's principal acts, whatever RUNSHEET_USER says.
        let signed = try base.runsheet(["sign", id, "approve-the-change", "--key", bob], in: dir, environment: ["RUNSHEET_USER": "alice"])
        #expect(signed.status == 0, "\(signed.stdout)\(signed.stderr)")
        let signOff = try #require(try RepositoryRuns.events(dir, id: id).last)
        #expect(signOff["type"] as? String == "signoff.signed" && signOff["actor"] as? String == "bob", "\(signOff)")
        let verify = try base.runsheet(["verify", id], in: dir)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("signed   event \(signOff["seq"] as? Int ?? 0) signoff.signed approve-the-change by bob, key SHA256:") && verify.stdout.contains(": verified"), "\(verify.stdout)")
        // Every report format says, per sign-off, whether it is signed, by which key, and whether it verified.
        let fingerprint = try #require(try Fixtures.run("/usr/bin/ssh-keygen", ["-lf", bob + ".pub"]).stdout.split(separator: " ").dropFirst().first.map(String.init))
        for format in ["md", "html", "csv"] {  // junit details settled steps only, and the gate is not passed yet
            let report = try base.runsheet(["report", id, "--format", format], in: dir)
            #expect(report.status == 0 && report.stdout.contains("SSH signature by \(fingerprint), verified"), "\(format): \(report.stdout)")
        }
        let json = try base.runsheet(["report", id, "--format", "json"], in: dir)
        #expect(json.stdout.contains("\"key\" : \"\(fingerprint)\"") && json.stdout.contains("\"verified\" : true"), "\(json.stdout)")
        // A key deleted from the file: the report says the signature does not verify.
        try String(contentsOf: file, encoding: .utf8).split(separator: "\n").filter { !$0.contains(try SigningKeys.publicKey(bob)) }
            .joined(separator: "\n").appending("\n").write(to: file, atomically: true, encoding: .utf8)
        let broken = try base.runsheet(["report", id, "--format", "md"], in: dir)
        #expect(broken.status == 1 && broken.stdout.contains("SSH signature by \(fingerprint), does not verify"), "\(broken.stdout)")
    }

    /// A journal rewritten by hand with every hash recomputed: the signed events no longer verify,
    /// and no command acts on it. Keys retired with valid-before keep old journals verifying;
    /// a key deleted from the file does not.
    @Test func signaturesAreCheckedNativelyAtTheirEventsTime() throws {
        let (dir, alice, bob) = try base.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try base.startedRun(in: dir, key: alice)
        #expect(try base.runsheet(["sign", id, "approve-the-change", "--as", "bob", "--key", bob, "--comment", "looks good"], in: dir).status == 0)
        let original = try base.journalLines(dir, id)
        let journal = dir.appendingPathComponent("runs/\(id)/journal.jsonl")
        func rewrite(_ change: (inout [RunEvent]) -> Void) throws {
            var events = try original.map { try JSONDecoder().decode(RunEvent.self, from: Data($0.utf8)) }
            change(&events)
            try RepositoryRuns.rewrite(dir, id: id, events)
        }
        let signOffIndex = original.count - 1
        // The comment changed; the signature moved from run.started onto the sign-off.
        for (what, change) in [
            ("a changed comment", { (events: inout [RunEvent]) in events[signOffIndex].data["comment"] = .string("LGTM, ship it") }),
            ("a signature moved from another event", { (events: inout [RunEvent]) in events[signOffIndex].signature = events[0].signature }),
            ("a truncated signature", { (events: inout [RunEvent]) in
                events[signOffIndex].signature = String(events[signOffIndex].signature!.prefix(120)) + "\n-----END SSH SIGNATURE-----" }),
            ("a signature that is not base64", { (events: inout [RunEvent]) in
                events[signOffIndex].signature = "-----BEGIN SSH SIGNATURE-----\n!!!! not base64 !!!!\n-----END SSH SIGNATURE-----" }),
        ] as [(String, (inout [RunEvent]) -> Void)] {
            try rewrite(change)
            let verify = try base.runsheet(["verify", id], in: dir)
            #expect(verify.status == 1, "\(what): \(verify.stdout)\(verify.stderr)")
            #expect(verify.stdout.contains("journal does not verify: the signature of event \(signOffIndex + 1) (signoff.signed approve-the-change by bob) does not verify"), "\(what): \(verify.stdout)")
            let resume = try base.runsheet(["resume", id, "--auto", "--as", "alice"], in: dir)
            #expect(resume.status == 1 && resume.stderr.contains("does not act on a journal that does not verify"), "\(what): \(resume.stderr)")
            let status = try base.runsheet(["status", id], in: dir)
            #expect(status.status == 1 && status.stderr.contains("the journal does not verify"), "\(what): \(status.stderr)")
        }
        try (original.joined(separator: "\n") + "\n").write(to: journal, atomically: true, encoding: .utf8)
        #expect(try base.runsheet(["verify", id], in: dir).status == 0)

        // Bob's key retired after he signed: the journal still verifies (checked at the event's time).
        let file = dir.appendingPathComponent(".runsheet/allowed_signers")
        let bobKey = try SigningKeys.publicKey(bob)
        let retired = "alice namespaces=\"runsheet\" \(try SigningKeys.publicKey(alice))\nbob namespaces=\"runsheet\",valid-before=\"21000101Z\" \(bobKey)\n"
        try retired.replacingOccurrences(of: "21000101Z", with: "20991231Z").write(to: file, atomically: true, encoding: .utf8)
        #expect(try base.runsheet(["verify", id], in: dir).status == 0)
        let before = "alice namespaces=\"runsheet\" \(try SigningKeys.publicKey(alice))\nbob namespaces=\"runsheet\",valid-before=\"20200101Z\" \(bobKey)\n"
        try before.write(to: file, atomically: true, encoding: .utf8)
        let expired = try base.runsheet(["verify", id], in: dir)
        #expect(expired.status == 1 && expired.stdout.contains("does not verify"), "a key that was not valid when it signed: \(expired.stdout)")
        // Deleted instead of retired: old journals stop verifying (keys are retired, never deleted).
        try "alice namespaces=\"runsheet\" \(try SigningKeys.publicKey(alice))\n".write(to: file, atomically: true, encoding: .utf8)
        let deleted = try base.runsheet(["verify", id], in: dir)
        #expect(deleted.status == 1 && deleted.stdout.contains("signature of event \(signOffIndex + 1)"), "\(deleted.stdout)")
        // No allowed signers file at all: nothing says whose key signed.
        try FileManager.default.removeItem(at: file)
        let none = try base.runsheet(["verify", id], in: dir)
        #expect(none.status == 1 && none.stdout.contains("no .runsheet/allowed_signers"), "\(none.stdout)")
    }

    /// `check` names, at their line in the roles file, each person with a role but no key, when
    /// the policy requires signatures; a warning (an error with --strict).
    @Test func checkNamesRoleMembersWithoutAKey() throws {
        let (dir, _, _) = try base.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "roles:\n  sre: [alice, bob]\n  release-manager: [carol]\n".write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        let quiet = try Fixtures.runsheet(["check", "change.md"], directory: dir)
        #expect(quiet.status == 0 && !quiet.stdout.contains("carol"), "no policy, no warning: \(quiet.stdout)")
        try "signatures: required\n".write(to: dir.appendingPathComponent(".runsheet/policy.yaml"), atomically: true, encoding: .utf8)
        let warned = try Fixtures.runsheet(["check", "change.md"], directory: dir)
        #expect(warned.status == 0, "\(warned.stdout)\(warned.stderr)")
        #expect(warned.stdout.contains(".runsheet/roles.yaml:3:21: warning: carol holds a role, and signatures are required, but ") && !warned.stdout.contains("alice holds"),
                "\(warned.stdout)")
        #expect(try Fixtures.runsheet(["check", "--strict", "change.md"], directory: dir).status == 1)
    }

    /// Readiness shows, per approver, the key that signed (a run whose signatures do not verify is not used).
    @Test func readinessShowsEachApproversKey() throws {
        let (dir, alice, bob) = try base.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "---\nrelease: r-1\nclass: normal\nowner: alice\n---\n# Release r-1\n\n## Requires\n\n- [Change](change.md)\n"
            .write(to: dir.appendingPathComponent("release.md"), atomically: true, encoding: .utf8)
        let id = try base.startedRun(in: dir, key: alice)
        #expect(try base.runsheet(["sign", id, "approve-the-change", "--key", bob], in: dir).status == 0)
        let finished = try Fixtures.run("/usr/bin/setsid", ["--wait", Fixtures.binary.path, "resume", id, "--as", "alice", "--key", alice, "--runs-dir", "runs"],
                                        stdin: "done\ndone\n", directory: dir)
        #expect(finished.status == 0, "\(finished.stdout)\(finished.stderr)")
        let fingerprint = try #require(try Fixtures.run("/usr/bin/ssh-keygen", ["-lf", bob + ".pub"]).stdout.split(separator: " ").dropFirst().first.map(String.init))
        let json = try base.runsheet(["readiness", "release.md", "--format", "json"], in: dir)
        let report = try JSONDecoder().decode(ReadinessReport.self, from: Data(json.stdout.utf8))
        #expect(report.items.first?.approvers.map(\.key) == [fingerprint], "\(json.stdout)")
        let markdown = try base.runsheet(["readiness", "release.md"], in: dir)
        #expect(markdown.stdout.contains("| by \(fingerprint), verified |"), "\(markdown.stdout)")
    }

    /// `check` reports a key allowed for more than one person (two lines, or a wildcard) as an
    /// error: whoever holds it may sign as any of them, so it binds nobody.
    @Test func checkRefusesAKeyAllowedForMoreThanOnePerson() throws {
        let (dir, alice, bob) = try base.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let quiet = try Fixtures.runsheet(["check", "change.md"], directory: dir)
        #expect(quiet.status == 0 && !quiet.stdout.contains("more than one person"), "\(quiet.stdout)")
        let file = dir.appendingPathComponent(".runsheet/allowed_signers")
        try (try String(contentsOf: file, encoding: .utf8) + "carol namespaces=\"runsheet\" \(try SigningKeys.publicKey(alice))\n"
             + "*@example.com \(try SigningKeys.publicKey(bob))\n").write(to: file, atomically: true, encoding: .utf8)
        let warned = try Fixtures.runsheet(["check", "change.md"], directory: dir)
        #expect(warned.status == 1 && warned.stdout.contains(".runsheet/allowed_signers:3:1: error: the key SHA256:") && warned.stdout.contains("(alice, carol)"), "\(warned.stdout)")
        #expect(warned.stdout.contains(".runsheet/allowed_signers:4:1: error: the key SHA256:"), "a wildcard: \(warned.stdout)")
    }
}
