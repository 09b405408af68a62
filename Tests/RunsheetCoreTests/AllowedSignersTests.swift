import Crypto
import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// `.runsheet/allowed_signers` read as ssh-keygen(1)'s ALLOWED SIGNERS: good lines, every
/// malformed one at its line:col, options, patterns and validity times, and where OpenSSH is
/// asked the same, the same answer.
@Suite struct AllowedSignersTests {
    static let path = "/repo/.runsheet/allowed_signers"
    static let alice = SSHSIGForge.Ed25519Key()
    static let bob = SSHSIGForge.Ed25519Key()

    static func parse(_ text: String) -> (AllowedSigners, [Diagnostic]) {
        AllowedSigners.parse(text: text, path: path)
    }

    /// Diagnostics as `line:col: severity: message`.
    static func dump(_ diagnostics: [Diagnostic]) -> [String] {
        diagnostics.map { "\($0.line):\($0.column): \($0.severity.rawValue): \($0.message)" }
    }

    /// The 1-based column of `needle` in `line`.
    static func column(of needle: String, in line: String) -> Int {
        line.distance(from: line.startIndex, to: line.range(of: needle)!.lowerBound) + 1
    }

    static var p256Blob: [UInt8] {
        var wire = SSHSIGForge.Wire()
        wire.string("ecdsa-sha2-nistp256")
        wire.string("nistp256")
        wire.string(P256.Signing.PrivateKey().publicKey.x963Representation)
        return wire.bytes
    }

    @Test func aGoodFile() throws {
        let text = """
            # Who signs runsheet approvals.

              alice@example.com \(Self.alice.allowedLine) alice@laptop
            bob@example.com,carol@example.com NAMESPACES="runsheet,git",Valid-After="20260101Z" \(Self.bob.allowedLine)
            "dave smith" valid-before="20261231235959Z",cert-authority \(Self.bob.allowedLine)\r
            *@example.org \t \(Self.alice.allowedLine)
            """
        let (signers, diagnostics) = Self.parse(text)
        #expect(diagnostics == [])
        #expect(signers.entries.map(\.line) == [3, 4, 5, 6])
        #expect(signers.entries.map(\.principals) == [["alice@example.com"], ["bob@example.com", "carol@example.com"], ["dave smith"], ["*@example.org"]])
        #expect(signers.entries[0].key.comment == "alice@laptop")
        #expect(signers.entries[1].namespaces == "runsheet,git")
        #expect(signers.entries[1].validAfter == Date(timeIntervalSince1970: 1_767_225_600))
        #expect(signers.entries[2].certificateAuthority)
        #expect(signers.entries[2].validBefore == Date(timeIntervalSince1970: 1_798_761_599))
        #expect(signers.entries[3].key == signers.entries[0].key)

        let at = Date(timeIntervalSince1970: 1_780_000_000)  // 2026-05-28
        let aliceKey = signers.entries[0].key, bobKey = signers.entries[1].key
        #expect(signers.principals(allowing: aliceKey, namespace: "runsheet", at: at) == ["alice@example.com"])
        #expect(signers.principals(allowing: bobKey, namespace: "runsheet", at: at) == ["bob@example.com", "carol@example.com"])
        #expect(signers.principals(allowing: bobKey, namespace: "file", at: at) == [])
        #expect(signers.principals(allowing: bobKey, namespace: "runsheet", at: Date(timeIntervalSince1970: 1_767_225_599)) == [])
        #expect(signers.keys(for: "carol@example.com", namespace: "runsheet", at: at) == [bobKey])
        // The cert-authority line gives dave nothing; the wildcard line is no identity but allows a key.
        #expect(signers.keys(for: "dave smith", namespace: "runsheet", at: at) == [])
        #expect(signers.keys(for: "zoe@example.org", namespace: "runsheet", at: at) == [aliceKey])
    }

    /// Who in a role has no usable key: asked by canonical name, retired and other-namespace
    /// keys not counting.
    @Test func peopleWithoutAKey() {
        let (signers, _) = Self.parse("""
            alice@example.com \(Self.alice.allowedLine)
            bob@example.com valid-before="20260101Z" \(Self.bob.allowedLine)
            carol@example.com namespaces="git" \(Self.bob.allowedLine)
            *@ops.example.com \(Self.bob.allowedLine)
            """)
        let at = Date(timeIntervalSince1970: 1_780_000_000)
        #expect(signers.peopleWithoutKey(["Alice@Example.com", "bob@example.com", "carol@example.com", "dave@ops.example.com", "erin@example.com", "ALICE@example.com"], at: at)
            == ["bob@example.com", "carol@example.com", "erin@example.com"])
        #expect(signers.peopleWithoutKey(["bob@example.com"], at: Date(timeIntervalSince1970: 1_760_000_000)) == [])
    }

    @Test func malformedLinesAtTheirToken() throws {
        let key = Self.alice.allowedLine
        let base64 = String(key.split(separator: " ")[1])
        let p256 = Data(Self.p256Blob).base64EncodedString()
        let cases: [(String, String, String)] = [
            ("alice@example.com", "alice@example.com", "error: the line has principals but no key: expected [options] key-type base64-key after them"),
            ("alice@example.com ssh-foo AAAA", "ssh-foo",
             "error: unknown key type 'ssh-foo'; runsheet verifies ssh-ed25519, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, ecdsa-sha2-nistp521, ssh-rsa, sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256@openssh.com"),
            ("alice@example.com ssh-ed25519-cert-v01@openssh.com AAAA", "ssh-ed25519-cert",
             "error: 'ssh-ed25519-cert-v01@openssh.com' is an OpenSSH certificate; runsheet verifies plain keys only, so give the key itself"),
            ("alice@example.com ssh-ed25519 AAAA!!!!", "AAAA!", "error: the key is not valid base64"),
            ("alice@example.com ssh-ed25519 \(p256)", p256, "error: the key is written as ssh-ed25519 but its base64 holds a key of type ecdsa-sha2-nistp256"),
            ("alice@example.com ssh-ed25519 \(String(base64.dropLast(8)))", String(base64.prefix(10)), "error: the ssh-ed25519 key is truncated or has bytes after its end"),
            ("alice@example.com foo=\"x\" \(key)", "foo=",
             "error: unsupported option 'foo'; allowed signers options are cert-authority, namespaces=, valid-after= and valid-before="),
            ("alice@example.com valid-after=20260101 \(key)", "20260101",
             "error: the value of valid-after must be in double quotes, such as valid-after=\"20260101Z\""),
            ("alice@example.com namespaces=\"runsheet \(key)", "\"runsheet", "error: the double quote opened here is never closed"),
            ("alice@example.com valid-before=\"2026\" \(key)", "valid-before",
             "error: valid-before=\"2026\" is not a time: write YYYYMMDD or YYYYMMDDHHMM[SS], with Z for UTC"),
            ("alice@example.com valid-before=\"20260230Z\" \(key)", "valid-before", "error: valid-before=\"20260230Z\" is not a real date and time"),
            ("alice@example.com valid-before=\"202601011260Z\" \(key)", "valid-before", "error: valid-before=\"202601011260Z\" is not a real date and time"),
            ("alice@example.com valid-after=\"20260101Z\",valid-before=\"20260101Z\" \(key)", "valid-before",
             "error: valid-before is not after valid-after, so the key is never valid"),
            ("alice@example.com namespaces=\"a\",namespaces=\"b\" \(key)", "namespaces=\"b", "error: the option namespaces is given twice"),
            ("alice@example.com cert-authority, \(key)", ",", "error: the options end with a comma"),
            ("alice@example.com cert-authorityx \(key)", "x ", "error: expected a comma before the next option, found 'x'"),
            ("alice@example.com cert-authority", "", "error: the line has options but no key: expected key-type base64-key after them"),
            ("alice@example.com namespaces=\"runsheet\"", "", "error: the line has options but no key: expected key-type base64-key after them"),
            ("alice@example.com cert-authority namespaces=\"runsheet\" \(key)", "namespaces",
             "error: options are one word, separated by commas without blanks: join 'namespaces=\"runsheet\"' to the options before it with a comma"),
            ("\"alice@example.com \(key)", "\"alice", "error: the double quote that opens the principals is never closed"),
        ]
        for (line, token, message) in cases {
            let (signers, diagnostics) = Self.parse("# first line\n" + line + "\n")
            let column = token == "alice@example.com" || token.isEmpty ? line.count + 1 : Self.column(of: token, in: line)
            #expect(Self.dump(diagnostics) == ["2:\(column): \(message)"], "\(line)")
            #expect(signers.entries.isEmpty, "\(line)")
            #expect(diagnostics.allSatisfy { $0.path == Self.path && $0.code == .allowedSigners })
        }
    }

    /// OpenSSH compares `-I` byte for byte, and runsheet asks for the canonical name: a principal
    /// in another form would never match, so it is an error (the line is still what OpenSSH reads).
    @Test func principalsNotInCanonicalForm() throws {
        let key = Self.alice.allowedLine
        let lines = [
            "Alice@Example.com \(key)",
            "bob@example.com,!Carol@example.com \(key)",
            "\"ｄａｖｅ@example.com\" \(key)",
            "alice@example.com,, \(key)",
        ]
        let (signers, diagnostics) = Self.parse(lines.joined(separator: "\n"))
        #expect(Self.dump(diagnostics) == [
            "1:1: error: principal 'Alice@Example.com' is not in canonical form, so OpenSSH, which compares names exactly, would never match the 'alice@example.com' runsheet asks for; write 'alice@example.com'",
            "2:18: error: principal 'Carol@example.com' is not in canonical form, so OpenSSH, which compares names exactly, would never match the 'carol@example.com' runsheet asks for; write 'carol@example.com'",
            "3:2: error: principal 'ｄａｖｅ@example.com' is not in canonical form, so OpenSSH, which compares names exactly, would never match the 'dave@example.com' runsheet asks for; write 'dave@example.com'",
            "4:19: error: an empty principal (two commas, or a comma at an end) names nobody; remove it",
        ])
        #expect(signers.entries.count == 4)
        #expect(signers.principals(allowing: signers.entries[0].key, namespace: "runsheet", at: Date()).contains("Alice@Example.com"))
    }

    @Test func timesWithoutZAreLocalAndWarned() throws {
        let line = "alice@example.com valid-after=\"202601021530\" \(Self.alice.allowedLine)"
        let (signers, diagnostics) = Self.parse(line)
        #expect(Self.dump(diagnostics) == [
            "1:19: warning: valid-after=\"202601021530\" has no Z, so OpenSSH reads it in the time zone of whoever verifies and two auditors in different zones can disagree; add Z to make it UTC",
        ])
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .current
        let expected = calendar.date(from: DateComponents(year: 2026, month: 1, day: 2, hour: 15, minute: 30))
        #expect(signers.entries.first?.validAfter == expected)
        // `UTC` is OpenSSH's other spelling of `Z`.
        #expect(Self.parse("alice@example.com valid-after=\"20260102utc\" \(Self.alice.allowedLine)").0.entries.first?.validAfter ==
            Date(timeIntervalSince1970: 1_767_312_000))
    }

    /// The file's problems when it is there but unusable, and the walk that finds it.
    @Test func locatedLikeTheRolesFile() throws {
        let root = try Fixtures.temporaryDirectory("allowed-signers")
        let manager = FileManager.default
        try manager.createDirectory(at: root.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try "ref: refs/heads/main\n".write(to: root.appendingPathComponent(".git/HEAD"), atomically: true, encoding: .utf8)
        try manager.createDirectory(at: root.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        try manager.createDirectory(at: root.appendingPathComponent("runbooks/team/.runsheet"), withIntermediateDirectories: true)
        let top = root.appendingPathComponent(".runsheet/allowed_signers").path
        let nested = root.appendingPathComponent("runbooks/team/.runsheet/allowed_signers").path
        try "alice@example.com \(Self.alice.allowedLine)\n".write(toFile: top, atomically: true, encoding: .utf8)
        let runbook = root.appendingPathComponent("runbooks/team/deploy.md").path

        let (found, problems) = try #require(AllowedSigners.load(forRunbook: runbook))
        #expect(found.path == top && problems == [] && found.entries.count == 1)
        #expect(AllowedSigners.locate(from: root.appendingPathComponent("runbooks/team").path) == top)

        try "mallory@example.com \(Self.bob.allowedLine)\n".write(toFile: nested, atomically: true, encoding: .utf8)
        let (still, nestedProblems) = try #require(AllowedSigners.load(forRunbook: runbook))
        #expect(still.path == top && still.entries.map(\.principals) == [["alice@example.com"]])
        #expect(nestedProblems.map(\.formatted) == [
            "\(nested):1:1: error: this allowed signers file is below the repository's own \(top), which is the one that applies; a folder may not set rules of its own, so move its rules there and remove it [allowed-signers]",
        ])

        try manager.removeItem(atPath: nested)
        try Data([0x61, 0x20, 0xE9, 0x0A]).write(to: URL(fileURLWithPath: top))
        let (unusable, encoding) = try #require(AllowedSigners.load(forRunbook: runbook))
        #expect(unusable.entries.isEmpty)
        #expect(encoding.map(\.formatted) == ["\(top):1:3: error: the allowed signers file is not UTF-8 (byte 0xE9 at byte offset 2); save it as UTF-8 [allowed-signers]"])

        try manager.removeItem(atPath: top)
        #expect(AllowedSigners.load(forRunbook: runbook) == nil)
        #expect(AllowedSigners.load(path: top).1.map(\.message) == ["the allowed signers file does not exist"])
    }

    /// Every prefix of good lines, and every byte replaced by one of the characters the format
    /// gives meaning to, parses to entries and diagnostics without a crash.
    @Test func mangledLinesNeverCrash() {
        let lines = [
            "\"dave smith\",b@x valid-before=\"20261231235959Z\",Namespaces=\"a,\\\"b\" \(Self.bob.allowedLine) c",
            "*@example.org,!m@example.org cert-authority \(Self.alice.allowedLine)",
        ]
        var parsed = 0
        for line in lines {
            let bytes = Array(line.utf8)
            for cut in 0...bytes.count {
                _ = Self.parse(String(decoding: bytes.prefix(cut), as: UTF8.self))
                parsed += 1
            }
            for index in bytes.indices {
                for replacement in Array(" \t\r\"\\,=!#*".utf8) {
                    var mangled = bytes
                    mangled[index] = replacement
                    _ = Self.parse(String(decoding: mangled, as: UTF8.self) + "\r\n" + line)
                    parsed += 1
                }
            }
        }
        #expect(parsed > 1000)
    }
}
