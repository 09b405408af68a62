import Foundation
import RunsheetTestSupport
import Testing

/// `runsheet check` reports the repository's `.runsheet/allowed_signers` problems at
/// `path:line:col`, once however many runbooks share the file, and exits 1 for an error.
@Suite struct AllowedSignersCheckTests {
    /// A repository with two runbooks and an allowed signers file made of `lines`.
    func repository(_ lines: [String]) throws -> (root: URL, file: String) {
        let root = try Fixtures.temporaryDirectory("allowed-signers-check")
        let manager = FileManager.default
        for folder in [".git", ".runsheet", "runbooks"] {
            try manager.createDirectory(at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        try "ref: refs/heads/main\n".write(to: root.appendingPathComponent(".git/HEAD"), atomically: true, encoding: .utf8)
        for name in ["deploy", "rollback"] {
            try "# \(name)\n\n- [ ] Tell the channel\n".write(to: root.appendingPathComponent("runbooks/\(name).md"), atomically: true, encoding: .utf8)
        }
        let file = root.appendingPathComponent(".runsheet/allowed_signers").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        return (root, file)
    }

    @Test func malformedLinesArePrintedAtTheirPosition() throws {
        let keys = try Fixtures.temporaryDirectory("allowed-signers-keys")
        let key = try SSHKeygen.generate("ed25519", in: keys, name: "alice").publicLine
        let carolKey = try SSHKeygen.generate("ed25519", in: keys, name: "carol").publicLine
        let (root, file) = try repository([
            "# approvers",
            "alice@example.com \(key)",
            "bob@example.com ssh-ed448 AAAAC3NzaC1lZDI1NTE5",
            "Carol@Example.com valid-before=\"20261231\" \(carolKey)",
            "dave@example.com valid-after=\"2026\" \(key)",
        ])
        let result = try Fixtures.runsheet(["check", "runbooks/deploy.md", "runbooks/rollback.md"], directory: root)
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout == """
            \(file):3:17: error: unknown key type 'ssh-ed448'; runsheet verifies ssh-ed25519, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, ecdsa-sha2-nistp521, ssh-rsa, sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256@openssh.com [allowed-signers]
            \(file):4:1: error: principal 'Carol@Example.com' is not in canonical form, so OpenSSH, which compares names exactly, would never match the 'carol@example.com' runsheet asks for; write 'carol@example.com' [allowed-signers]
            \(file):4:19: warning: valid-before="20261231" has no Z, so OpenSSH reads it in the time zone of whoever verifies and two auditors in different zones can disagree; add Z to make it UTC [allowed-signers]
            \(file):5:18: error: valid-after="2026" is not a time: write YYYYMMDD or YYYYMMDDHHMM[SS], with Z for UTC [allowed-signers]

            """)
        #expect(result.stderr == "checked 2 files: 3 errors, 1 warning\n")

        // Machine-readable output carries the same findings with their code.
        let json = try Fixtures.runsheet(["check", "--format", "json", "runbooks/deploy.md"], directory: root)
        #expect(json.status == 1)
        #expect(json.stdout.components(separatedBy: "\"allowed-signers\"").count - 1 == 4, "\(json.stdout)")
    }

    @Test func aHealthyFileIsQuiet() throws {
        let keys = try Fixtures.temporaryDirectory("allowed-signers-keys")
        let key = try SSHKeygen.generate("ecdsa", bits: 256, in: keys, name: "alice").publicLine
        let bobKey = try SSHKeygen.generate("ed25519", in: keys, name: "bob").publicLine
        let (root, _) = try repository(["alice@example.com namespaces=\"runsheet\",valid-before=\"20991231Z\" \(key)",
                                        "bob@example.com namespaces=\"runsheet\" \(bobKey)"])
        let result = try Fixtures.runsheet(["check", "runbooks/"], directory: root)
        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.stdout == "")
        #expect(result.stderr == "checked 2 files: 0 errors, 0 warnings\n")
    }

    /// A file below the repository's own is refused like a nested roles file; only the warning
    /// of a time without Z leaves the exit status alone (and --strict counts it).
    @Test func aNestedFileIsAnErrorAndWarningsOnlyCountWithStrict() throws {
        let keys = try Fixtures.temporaryDirectory("allowed-signers-keys")
        let key = try SSHKeygen.generate("ed25519", in: keys, name: "alice").publicLine
        let (root, file) = try repository(["alice@example.com valid-after=\"20260101\" \(key)"])
        let warned = try Fixtures.runsheet(["check", "runbooks/deploy.md"], directory: root)
        #expect(warned.status == 0 && warned.stdout.hasPrefix("\(file):1:19: warning: "), "\(warned.stdout)")
        #expect(try Fixtures.runsheet(["check", "--strict", "runbooks/deploy.md"], directory: root).status == 1)

        let nested = root.appendingPathComponent("runbooks/.runsheet/allowed_signers").path
        try FileManager.default.createDirectory(atPath: (nested as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try "mallory@example.com \(key)\n".write(toFile: nested, atomically: true, encoding: .utf8)
        let refused = try Fixtures.runsheet(["check", "runbooks/deploy.md"], directory: root)
        #expect(refused.status == 1)
        #expect(refused.stdout.contains("\(nested):1:1: error: this allowed signers file is below the repository's own \(file), which is the one that applies; a folder may not set rules of its own, so move its rules there and remove it [allowed-signers]"),
                "\(refused.stdout)")
    }
}
