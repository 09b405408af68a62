import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// `signatures: required` in the repository's policy (issue 14), played through the real binary:
/// the policy key and its attacks, the runs it records in, every act refused without a key, and
/// an unsigned act added by hand that fails `verify` and does not count.
@Suite struct RequiredSignaturesTests {
    static let roles = "roles:\n  operator: [alice]\n  sre: [bob, carol]\n  release-manager: [rita]\n"
    static let freeze = "freezes:\n  - name: all time\n    from: 2000-01-01\n    to: 2999-12-31\n"

    static let gate = """
        ---
        id: s
        roles: [sre]
        ---
        # S

        - [ ] Prepare
        - [ ] Approve
          - Sign-off: 1 of sre
        - [ ] Deploy
        """

    /// A production runbook (it takes a lock on checkout / prod), under a freeze when `calendar`.
    static let production = """
        ---
        id: p
        roles: [sre]
        production: true
        service: checkout
        environment: prod
        ---
        # P

        - [ ] Prepare
        - [ ] Approve
          - Sign-off: 1 of sre
        - [ ] Deploy
        """

    static func repository(policy: String?, files: [String: String] = ["s.md": gate], calendar: Bool = false) throws -> URL {
        let dir = try Fixtures.temporaryDirectory()
        let manager = FileManager.default
        try manager.createDirectory(at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try manager.createDirectory(at: dir.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        try roles.write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        if let policy { try policy.write(to: dir.appendingPathComponent(".runsheet/policy.yaml"), atomically: true, encoding: .utf8) }
        if calendar { try freeze.write(to: dir.appendingPathComponent(".runsheet/calendar.yaml"), atomically: true, encoding: .utf8) }
        for (name, text) in files { try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return dir
    }

    /// An Ed25519 key without a passphrase, made by ssh-keygen, allowed for `name` in the
    /// repository's allowed signers file: the private key's path (the same key for the same name).
    static func key(_ name: String, in dir: URL) throws -> String {
        let folder = dir.appendingPathComponent("keys")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent(name).path
        if FileManager.default.fileExists(atPath: path) { return path }
        let made = try Fixtures.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path])
        #expect(made.status == 0, "\(made.stderr)")
        let signers = dir.appendingPathComponent(".runsheet/allowed_signers")
        let existing = (try? String(contentsOf: signers, encoding: .utf8)) ?? ""
        try (existing + "\(name) namespaces=\"runsheet\" \(try SigningKeys.publicKey(path))\n").write(to: signers, atomically: true, encoding: .utf8)
        return path
    }

    static func runsheet(_ arguments: [String], in dir: URL, stdin: String? = nil) throws -> ProcessResult {
        // No key from the environment or Git: a test says where its key comes from.
        try Fixtures.runsheet(arguments + ["--runs-dir", "runs"], stdin: stdin,
                              environment: ["NO_COLOR": "1", "RUNSHEET_SIGNING_KEY": "", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"],
                              directory: dir)
    }

    /// `check`, which takes no runs folder.
    static func check(_ runbook: String, in dir: URL) throws -> ProcessResult {
        try Fixtures.runsheet(["check", runbook], environment: ["NO_COLOR": "1"], directory: dir)
    }

    static func journal(_ dir: URL, _ id: String) throws -> String {
        try String(contentsOf: dir.appendingPathComponent("runs/\(id)/journal.jsonl"), encoding: .utf8)
    }

    static func runs(_ dir: URL) -> [String] { RepositoryRuns.runs(in: dir) }

    /// The one sentence of a refusal, without the `runsheet: ` prefix.
    static func sentence(_ result: ProcessResult) -> String {
        result.stderr.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "runsheet: ", with: "")
    }

    // MARK: - The policy key

    /// `signatures: required` is a governance key: a misspelt key, another spelling of the value,
    /// a YAML tag, or a class saying `optional` under a top level that requires them is an error
    /// at path:line:col, and no run starts (exit 2, as for every rule file runsheet cannot read).
    @Test(arguments: [
        ("signature: required\n", "1:1", "did you mean 'signatures'?"),
        ("signatures: Required\n", "1:13", "'signatures' must be required or optional"),
        ("signatures: yes\n", "1:13", "'signatures' must be required or optional"),
        ("signatures: !!str required\n", "1:13", "it has the YAML tag tag:yaml.org,2002:str"),
        ("normal:\n  signaturs: required\n", "2:3", "did you mean 'signatures'?"),
        ("normal:\n  signatures: optinal\n", "2:15", "'signatures' must be required or optional"),
        ("signatures: required\nnormal:\n  signatures: optional\n", "3:3", "a class can only add the requirement"),
    ])
    func aWrongSignaturesSettingIsAnError(policy: String, position: String, words: String) throws {
        let dir = try Self.repository(policy: policy)
        defer { try? FileManager.default.removeItem(at: dir) }
        let check = try Self.check("s.md", in: dir)
        #expect(check.status != 0, "\(policy): \(check.stdout)\(check.stderr)")
        let said = check.stdout + check.stderr
        #expect(said.contains(".runsheet/policy.yaml:\(position): error:") && said.contains(words), "\(policy): \(said)")
        let run = try Self.runsheet(["run", "s.md", "--as", "alice"], in: dir, stdin: "quit\n")
        #expect(run.status == 2, "\(policy): \(run.stdout)\(run.stderr)")
        #expect(run.stderr.contains(".runsheet/policy.yaml:\(position): ") && run.stderr.contains(words), "\(run.stderr)")
        #expect(Self.runs(dir).isEmpty, "a run started under a policy runsheet could not read")
    }

    /// A runbook's front matter may not take back what the repository requires: `optional` under
    /// a class, or at its policy's top level, is an error in `check`.
    @Test(arguments: ["  signatures: optional\n", "  normal:\n    signatures: optional\n"])
    func aRunbookCannotTakeBackRequiredSignatures(lines: String) throws {
        let runbook = Self.gate.replacingOccurrences(of: "roles: [sre]\n", with: "roles: [sre]\npolicy:\n\(lines)")
        let dir = try Self.repository(policy: "signatures: required\n", files: ["s.md": runbook])
        defer { try? FileManager.default.removeItem(at: dir) }
        let check = try Self.check("s.md", in: dir)
        #expect(check.status == 1, "\(check.stdout)\(check.stderr)")
        #expect((check.stdout + check.stderr).contains("signatures: optional"), "\(check.stdout)\(check.stderr)")
        #expect((check.stdout + check.stderr).contains("never take them back"), "\(check.stdout)\(check.stderr)")
    }

    // MARK: - Recording and refusing

    /// Under `signatures: required` a run cannot start without a key (exit 1, nothing written);
    /// with one, `run.started` records the requirement in a 1.4 journal and is signed.
    @Test func aRunNeedsAKeyAndRecordsTheRequirement() throws {
        let dir = try Self.repository(policy: "signatures: required\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        let refused = try Self.runsheet(["run", "s.md", "--as", "alice"], in: dir, stdin: "quit\n")
        #expect(refused.status == 1, "\(refused.stdout)\(refused.stderr)")
        let line = Self.sentence(refused)
        #expect(line.hasPrefix(".runsheet/policy.yaml requires signatures for normal runs, so starting a run of s.md needs a key"), "\(line)")
        #expect(line.contains("--key PATH, RUNSHEET_SIGNING_KEY or Git's user.signingkey") && !line.contains("\n"), "\(line)")
        #expect(Self.runs(dir).isEmpty)
        let dry = try Self.runsheet(["run", "s.md", "--as", "alice", "--dry-run"], in: dir)
        #expect(dry.status == 0 && dry.stdout.contains("a real run needs a key: .runsheet/policy.yaml requires signatures for normal runs"), "\(dry.stdout)")

        let key = try Self.key("alice", in: dir)
        let started = try Self.runsheet(["run", "s.md", "--as", "alice", "--key", key], in: dir, stdin: "quit\n")
        #expect(started.status == 3, "\(started.stdout)\(started.stderr)")
        let id = try #require(Self.runs(dir).first)
        let first = try #require(try RepositoryRuns.events(dir, id: id).first)
        let data = try #require(first["data"] as? [String: Any])
        #expect(data["signatures"] as? String == "required")
        #expect(data["schema"] as? String == "runsheet.journal/1.4")
        #expect((first["signature"] as? String)?.hasPrefix("-----BEGIN SSH SIGNATURE-----") == true)
        let status = try Self.runsheet(["status", id], in: dir)
        #expect(status.stdout.contains("signing  required"), "\(status.stdout)")
    }

    /// In a run that requires signatures, resume, sign (a sign-off, a waiver, an exception, a
    /// follow-up review), reject and unlock are each refused without a key: exit 1, one sentence
    /// naming where a key comes from, and the journal unchanged.
    @Test func everyActIsRefusedWithoutAKey() throws {
        let runbook = Self.production.replacingOccurrences(of: "production: true\n", with: "production: true\nclass: emergency\n")
        let dir = try Self.repository(policy: "signatures: required\n", files: ["p.md": runbook], calendar: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = try Self.key("alice", in: dir)
        let started = try Self.runsheet(["run", "p.md", "--as", "alice", "--key", key], in: dir, stdin: "quit\n")
        #expect(started.status == 3, "\(started.stdout)\(started.stderr)")
        let id = try #require(Self.runs(dir).first)
        // A run that takes a lock and requires signatures writes 1.4, with both recorded.
        let first = try #require(try RepositoryRuns.events(dir, id: id).first?["data"] as? [String: Any])
        #expect(first["schema"] as? String == "runsheet.journal/1.4" && first["signatures"] as? String == "required" && first["lock"] != nil)
        let before = try Self.journal(dir, id)
        let attempts: [[String]] = [
            ["resume", id, "--as", "alice"],
            ["sign", id, "approve", "--as", "bob", "--role", "sre"],
            ["sign", id, "approve", "--waive", "--as", "rita", "--reason", "CAB by phone"],
            ["sign", id, "deploy", "--exception", "--as", "rita", "--reason", "security fix"],
            ["sign", id, "--follow-up", "--as", "bob", "--comment", "PIR held"],
            ["reject", id, "approve", "--as", "bob", "--reason", "no rollback"],
            ["unlock", "checkout", "prod", "--as", "rita", "--reason", "operator gone"],
        ]
        for arguments in attempts {
            let result = try Self.runsheet(arguments, in: dir, stdin: "quit\n")
            #expect(result.status == 1, "\(arguments): \(result.stdout)\(result.stderr)")
            let line = Self.sentence(result)
            #expect(line.hasPrefix("run \(id) requires signatures, so "), "\(arguments): \(line)")
            #expect(line.hasSuffix("give one with --key PATH, RUNSHEET_SIGNING_KEY or Git's user.signingkey (with gpg.format ssh), so nothing was written"), "\(arguments): \(line)")
            #expect(try Self.journal(dir, id) == before, "\(arguments) wrote to the journal")
        }
        // With a key, the same sign-off is taken, signed.
        let bob = try Self.key("bob", in: dir)
        let signed = try Self.runsheet(["sign", id, "approve", "--as", "bob", "--role", "sre", "--key", bob], in: dir)
        #expect(signed.status == 0, "\(signed.stdout)\(signed.stderr)")
        let last = try #require(try RepositoryRuns.events(dir, id: id).last)
        #expect(last["type"] as? String == "signoff.signed" && last["signature"] is String)
    }

    /// An insider adds a sign-off by hand to a run that requires signatures, recomputing every
    /// hash: `verify` fails naming the event, and the sign-off does not count in `status`.
    @Test func anUnsignedSignOffAddedByHandFailsVerifyAndDoesNotCount() throws {
        let dir = try Self.repository(policy: "signatures: required\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        let key = try Self.key("alice", in: dir)
        let started = try Self.runsheet(["run", "s.md", "--as", "alice", "--key", key], in: dir, stdin: "done\nquit\n")
        #expect(started.status == 3, "\(started.stdout)\(started.stderr)")
        let id = try #require(Self.runs(dir).first)
        let path = dir.appendingPathComponent("runs/\(id)/journal.jsonl")
        var events = try Self.journal(dir, id).split(separator: "\n").map { try JSONDecoder().decode(RunEvent.self, from: Data($0.utf8)) }
        guard case .runStarted(let run)? = try? events[0].payload() else { Issue.record("no run.started"); return }
        let last = try #require(events.last)
        let forged = try RunEvent(time: last.time, by: Actor(name: "bob", host: "ops-2", via: "script"), step: "approve",
                                  .signOff(SignOffSigned(role: "sre", stepHash: run.stepHashes["approve"] ?? "", sha256: run.sha256, plan: run.plan)))
        events.append(try forged.sealed(seq: last.seq + 1, after: last.hash))
        try events.map { String(decoding: try $0.canonicalJSON(), as: UTF8.self) + "\n" }.joined().write(to: path, atomically: true, encoding: .utf8)

        let verify = try Self.runsheet(["verify", id], in: dir)
        #expect(verify.status == 1, "\(verify.stdout)\(verify.stderr)")
        let seq = events.count
        #expect(verify.stdout == "runs/\(id)/journal.jsonl:\(seq): journal does not verify: event \(seq) (signoff.signed approve by bob) is not signed, and run \(id) requires signatures\n",
                "\(verify.stdout)")
        let status = try Self.runsheet(["status", id], in: dir)
        #expect(status.status == 1, "\(status.stdout)\(status.stderr)")
        #expect(status.stdout.contains("unsigned event \(seq) (signoff.signed approve by bob at \(last.time)) does not count: the run requires signatures"), "\(status.stdout)")
        #expect(!status.stdout.contains("approve  bob"), "\(status.stdout)")
        // Nobody acts on it: a resume is refused before anything is written.
        let resume = try Self.runsheet(["resume", id, "--as", "alice", "--key", key], in: dir, stdin: "quit\n")
        #expect(resume.status == 1 && resume.stderr.contains("is not signed, and run \(id) requires signatures"), "\(resume.stderr)")
    }

    /// `run --class` to a class that does not require signatures, when the runbook's own class
    /// does, asks less of the run: refused without the repository's downgrade permission, even
    /// where the other class's gates are as strict.
    @Test func anotherClassCannotDropTheRequirement() throws {
        let dir = try Self.repository(policy: "normal:\n  signatures: required\nmajor:\n  approvers: 2\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try Self.runsheet(["run", "s.md", "--class", "major", "--as", "alice"], in: dir, stdin: "quit\n")
        #expect(run.status == 1, "\(run.stdout)\(run.stderr)")
        #expect(Self.sentence(run).hasPrefix("--class major asks less of s.md than its class normal (signatures are not required); .runsheet/policy.yaml does not permit that"), "\(run.stderr)")
        #expect(Self.runs(dir).isEmpty)
    }

    // MARK: - The journal's rule, not today's policy

    /// A run recorded without the requirement stays valid when the policy later requires
    /// signatures; its next resume needs a key and records the stricter rule from then on.
    /// A run that recorded the requirement keeps it when the policy drops it.
    @Test func aPolicyChangedAfterTheStartDoesNotInvalidateTheRun() throws {
        let dir = try Self.repository(policy: nil)
        defer { try? FileManager.default.removeItem(at: dir) }
        let started = try Self.runsheet(["run", "s.md", "--as", "alice"], in: dir, stdin: "done\nquit\n")
        #expect(started.status == 3, "\(started.stdout)\(started.stderr)")
        let id = try #require(Self.runs(dir).first)
        try "signatures: required\n".write(to: dir.appendingPathComponent(".runsheet/policy.yaml"), atomically: true, encoding: .utf8)
        let verify = try Self.runsheet(["verify", id], in: dir)
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        let before = try Self.journal(dir, id)
        // The policy as it is now already asks approvers for a key, before any resume records it.
        let keyless = try Self.runsheet(["sign", id, "approve", "--as", "bob", "--role", "sre"], in: dir)
        #expect(keyless.status == 1 && Self.sentence(keyless).hasPrefix("run \(id) requires signatures, so a signoff.signed event must be signed"), "\(keyless.stderr)")
        let refused = try Self.runsheet(["resume", id, "--as", "alice"], in: dir, stdin: "quit\n")
        #expect(refused.status == 1 && Self.sentence(refused).hasPrefix("run \(id) requires signatures, so resuming it must be signed"), "\(refused.stderr)")
        #expect(try Self.journal(dir, id) == before)
        let key = try Self.key("alice", in: dir)
        let resumed = try Self.runsheet(["resume", id, "--as", "alice", "--key", key], in: dir, stdin: "quit\n")
        #expect(resumed.status == 3, "\(resumed.stdout)\(resumed.stderr)")
        let resume = try #require(try RepositoryRuns.events(dir, id: id).first { $0["type"] as? String == "run.resumed" })
        #expect((resume["data"] as? [String: Any])?["signatures"] as? String == "required")
        #expect(try Self.runsheet(["verify", id], in: dir).status == 0)

        // Dropping the policy does not relax a run that recorded the requirement.
        try FileManager.default.removeItem(at: dir.appendingPathComponent(".runsheet/policy.yaml"))
        let after = try Self.journal(dir, id)
        let unsigned = try Self.runsheet(["sign", id, "approve", "--as", "bob", "--role", "sre"], in: dir)
        #expect(unsigned.status == 1 && Self.sentence(unsigned).hasPrefix("run \(id) requires signatures"), "\(unsigned.stderr)")
        #expect(try Self.journal(dir, id) == after)
    }
}
