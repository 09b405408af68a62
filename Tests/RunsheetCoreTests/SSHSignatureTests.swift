import Crypto
import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// SSHSIG signatures made by the real `ssh-keygen -Y sign`, verified natively; wherever the native
/// verifier says valid or invalid, stock `ssh-keygen -Y verify` is asked the same and must agree.
@Suite struct SSHSignatureTests {
    static let message = "{\"type\":\"gate.signed\",\"actor\":\"alice@example.com\"}\n"
    static let now = Date()

    struct KeyType: Sendable, CustomTestStringConvertible {
        var type: String
        var bits: Int?
        var kind: SSHPublicKey.Kind
        var testDescription: String { kind.rawValue }
    }

    static let keyTypes = [
        KeyType(type: "ed25519", kind: .ed25519),
        KeyType(type: "ecdsa", bits: 256, kind: .ecdsaP256),
        KeyType(type: "ecdsa", bits: 384, kind: .ecdsaP384),
        KeyType(type: "ecdsa", bits: 521, kind: .ecdsaP521),
        KeyType(type: "rsa", bits: 2048, kind: .rsa),
    ]

    static func verify(_ armored: String, message: String = message, principal: String = "alice@example.com",
                       namespace: String = "runsheet", at date: Date = now, _ signers: AllowedSigners) -> Result<VerifiedSignature, SignatureProblem> {
        SSHSignature.verify(armored: armored, message: Array(message.utf8), principal: principal, namespace: namespace, at: date, signers: signers)
    }

    static func problem(_ result: Result<VerifiedSignature, SignatureProblem>) -> SignatureProblem? {
        if case .failure(let problem) = result { return problem }
        return nil
    }

    static func signers(_ text: String, in directory: URL) throws -> (path: String, signers: AllowedSigners) {
        let path = directory.appendingPathComponent("allowed_signers").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let (signers, problems) = AllowedSigners.load(path: path)
        #expect(problems.filter { $0.severity == .error } == [], "\(problems)")
        return (path, signers)
    }

    @Test(arguments: keyTypes)
    func nativeAndOpenSSHAgree(_ keyType: KeyType) throws {
        let directory = try Fixtures.temporaryDirectory("sshsig")
        let key = try SSHKeygen.generate(keyType.type, bits: keyType.bits, in: directory, name: "alice")
        let (path, signers) = try Self.signers("""
            alice@example.com \(key.publicLine)
            bob@example.com valid-before="20200101Z" \(key.publicLine)

            """, in: directory)
        let signature = try SSHKeygen.sign(Self.message, with: key, in: directory)
        let fingerprint = try SSHKeygen.fingerprint(ofPublicKeyFile: key.publicPath)

        // Valid: both say so, and the native result names the principal, type and fingerprint.
        let verified = try Self.verify(signature, signers).get()
        #expect(verified.principal == "alice@example.com")
        #expect(verified.kind == keyType.kind)
        #expect(verified.fingerprint == fingerprint)
        #expect(verified.line == 1)
        #expect(SSHSignature.signer(of: signature)?.fingerprint == fingerprint)
        let good = try SSHKeygen.verify(signers: path, principal: "alice@example.com", signature: signature, message: Self.message, in: directory)
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stdout.contains("Good \"runsheet\" signature for alice@example.com"))

        // A changed message.
        let tampered = Self.message.replacingOccurrences(of: "alice", with: "mallory")
        #expect(Self.problem(Self.verify(signature, message: tampered, signers)) == .mismatch(fingerprint: fingerprint))
        #expect(try SSHKeygen.verify(signers: path, principal: "alice@example.com", signature: signature, message: tampered, in: directory).status != 0)

        // A principal the key is not allowed for.
        let wrongPrincipal = Self.problem(Self.verify(signature, principal: "carol@example.com", signers))
        #expect(wrongPrincipal == .principalNotAllowed(principal: "carol@example.com", fingerprint: fingerprint, file: path,
                                                       allowedAs: ["alice@example.com", "bob@example.com"]))
        #expect(wrongPrincipal?.errorDescription == "the key \(fingerprint) is not allowed to sign as carol@example.com in \(path) (it is allowed for alice@example.com, bob@example.com)")
        #expect(try SSHKeygen.verify(signers: path, principal: "carol@example.com", signature: signature, message: Self.message, in: directory).status != 0)

        // Another namespace than the one expected.
        let otherNamespace = Self.problem(Self.verify(signature, namespace: "git", signers))
        #expect(otherNamespace?.errorDescription == "the signature was made for namespace 'runsheet', not 'git'")
        #expect(try SSHKeygen.verify(signers: path, principal: "alice@example.com", namespace: "git", signature: signature, message: Self.message, in: directory).status != 0)

        // A key retired with valid-before: refused now, accepted at a time before it.
        let expired = Self.problem(Self.verify(signature, principal: "bob@example.com", signers))
        guard case .expired(fingerprint, path, 2, let before, _)? = expired else {
            Issue.record("expected expired, got \(String(describing: expired))")
            return
        }
        #expect(before == Date(timeIntervalSince1970: 1_577_836_800))
        #expect(expired?.errorDescription?.hasPrefix("the key \(fingerprint) had expired at ") == true)
        #expect(expired?.errorDescription?.hasSuffix(": \(path):2 makes it valid only until 2020-01-01T00:00:00Z") == true)
        #expect(try SSHKeygen.verify(signers: path, principal: "bob@example.com", signature: signature, message: Self.message, in: directory).status != 0)
        let before2020 = Date(timeIntervalSince1970: 1_577_836_800 - 86_400)
        #expect(try Self.verify(signature, principal: "bob@example.com", at: before2020, signers).get().line == 2)
        #expect(try SSHKeygen.verify(signers: path, principal: "bob@example.com", signature: signature, message: Self.message,
                                     time: "20191231Z", in: directory).status == 0)
    }

    /// RSA signatures of every SSH algorithm: SHA-2 ones verify (as OpenSSH's do), SHA-1 is refused by both.
    @Test func rsaAlgorithms() throws {
        let directory = try Fixtures.temporaryDirectory("sshsig-rsa")
        let key = try SSHSIGForge.RSAKey()
        let (path, signers) = try Self.signers("alice@example.com \(key.allowedLine)\n", in: directory)
        for algorithm in ["rsa-sha2-256", "rsa-sha2-512"] {
            let signature = try key.sign(Self.message, algorithm: algorithm)
            #expect(try Self.verify(signature, signers).get().kind == .rsa, "\(algorithm)")
            #expect(try SSHKeygen.verify(signers: path, principal: "alice@example.com", signature: signature, message: Self.message, in: directory).status == 0)
            #expect(Self.problem(Self.verify(signature, message: "x", signers)) != nil)
        }
        let sha1 = try key.sign(Self.message, algorithm: "ssh-rsa")
        let fingerprint = try #require(SSHSignature.signer(of: sha1)).fingerprint
        #expect(Self.problem(Self.verify(sha1, signers))?.errorDescription ==
            "the signature by RSA key \(fingerprint) uses ssh-rsa (SHA-1), which is refused; sign with rsa-sha2-256 or rsa-sha2-512")
        #expect(try SSHKeygen.verify(signers: path, principal: "alice@example.com", signature: sha1, message: Self.message, in: directory).status != 0)
    }

    /// Security keys (no hardware here): signatures built as an authenticator makes them are
    /// accepted by stock OpenSSH, so the construction is right, and natively; both refuse a
    /// flipped byte. A signature made without a touch is refused natively, as sshd refuses one
    /// for a login; `ssh-keygen -Y verify` accepts it, which the test records.
    @Test(arguments: ["ed25519", "p256"])
    func securityKeys(_ curve: String) throws {
        let directory = try Fixtures.temporaryDirectory("sshsig-sk")
        let key = curve == "ed25519" ? SSHSIGForge.SecurityKey.ed25519() : SSHSIGForge.SecurityKey.p256()
        let (path, signers) = try Self.signers("alice@example.com \(key.allowedLine)\n", in: directory)
        let signature = try key.sign(Self.message)
        let verified = try Self.verify(signature, signers).get()
        #expect(verified.kind == (curve == "ed25519" ? .skEd25519 : .skECDSAP256))
        #expect(try SSHKeygen.verify(signers: path, principal: "alice@example.com", signature: signature, message: Self.message, in: directory).status == 0)

        var flipped = Array(Self.message.utf8)
        flipped[3] ^= 0x01
        let flippedText = String(decoding: flipped, as: UTF8.self)
        #expect(Self.problem(Self.verify(signature, message: flippedText, signers)) == .mismatch(fingerprint: verified.fingerprint))
        #expect(try SSHKeygen.verify(signers: path, principal: "alice@example.com", signature: signature, message: flippedText, in: directory).status != 0)

        let untouched = try key.sign(Self.message, flags: 0x00)
        let problem = Self.problem(Self.verify(untouched, signers))
        #expect(problem?.errorDescription ==
            "the security key \(verified.fingerprint) made the signature without a touch (its user-presence flag is clear); runsheet refuses such signatures, as sshd does by default")
        // Where runsheet is stricter than `ssh-keygen -Y verify` (OpenSSH 9.2 does not look at the flag there).
        #expect(try SSHKeygen.verify(signers: path, principal: "alice@example.com", signature: untouched, message: Self.message, in: directory).status == 0)

        // The application is part of the key: the same private key for another one is another key.
        var other = key
        other.application = "ssh:other"
        let moved = try other.sign(Self.message)
        #expect(Self.problem(Self.verify(moved, signers)) == .keyNotAllowed(fingerprint: try #require(SSHSignature.signer(of: moved)).fingerprint, file: path))
    }

    /// `ssh-keygen -lf` and the native fingerprint agree for every key type, security keys included.
    @Test func fingerprintsAreOpenSSHs() throws {
        let directory = try Fixtures.temporaryDirectory("sshsig-fingerprint")
        var lines: [String] = []
        for keyType in Self.keyTypes {
            lines.append(try SSHKeygen.generate(keyType.type, bits: keyType.bits, in: directory, name: "k\(lines.count)").publicLine)
        }
        lines += [SSHSIGForge.SecurityKey.ed25519().allowedLine, SSHSIGForge.SecurityKey.p256().allowedLine]
        var kinds: Set<SSHPublicKey.Kind> = []
        for (index, line) in lines.enumerated() {
            let file = directory.appendingPathComponent("p\(index).pub").path
            try (line + "\n").write(toFile: file, atomically: true, encoding: .utf8)
            let key = try SSHPublicKey(line: line)
            kinds.insert(key.kind)
            #expect(key.fingerprint == (try SSHKeygen.fingerprint(ofPublicKeyFile: file)), "\(line)")
            #expect(line.hasPrefix(key.line))
        }
        #expect(kinds == Set(SSHPublicKey.Kind.allCases))
    }

    /// Wildcards, negation, namespaces= and the validity boundaries (both inclusive, to the
    /// second, local time without Z) give the same answers natively and in `ssh-keygen -Y verify`.
    @Test func patternsAndBoundariesAgreeWithOpenSSH() throws {
        let directory = try Fixtures.temporaryDirectory("sshsig-patterns")
        let key = try SSHKeygen.generate("ed25519", in: directory, name: "team")
        let (path, signers) = try Self.signers("""
            *@example.com,!mallory@example.com namespaces="runsheet,git",valid-after="20260101000000Z",valid-before="20260102000000Z" \(key.publicLine)
            ?ve@example.org valid-before="202603011200" \(key.publicLine)

            """, in: directory)
        let signature = try SSHKeygen.sign(Self.message, with: key, in: directory)
        func utc(_ text: String) -> Date {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            let digits = Array(text.utf8).map { Int($0) - 48 }
            func n(_ at: Int, _ count: Int) -> Int { digits[at..<at + count].reduce(0) { $0 * 10 + $1 } }
            return calendar.date(from: DateComponents(year: n(0, 4), month: n(4, 2), day: n(6, 2), hour: n(8, 2), minute: n(10, 2), second: n(12, 2)))!
        }
        var localCalendar = Calendar(identifier: .gregorian)
        localCalendar.timeZone = .current
        let localNoon = localCalendar.date(from: DateComponents(year: 2026, month: 3, day: 1, hour: 12))!
        let localStamp = { (date: Date) -> String in
            let parts = localCalendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
            return String(format: "%04d%02d%02d%02d%02d%02d", parts.year!, parts.month!, parts.day!, parts.hour!, parts.minute!, parts.second!)
        }
        let cases: [(principal: String, namespace: String, time: String, date: Date, valid: Bool)] = [
            ("alice@example.com", "runsheet", "20260101000000Z", utc("20260101000000"), true),
            ("alice@example.com", "runsheet", "20251231235959Z", utc("20251231235959"), false),
            ("alice@example.com", "runsheet", "20260102000000Z", utc("20260102000000"), true),
            ("alice@example.com", "runsheet", "20260102000001Z", utc("20260102000001"), false),
            ("mallory@example.com", "runsheet", "20260101120000Z", utc("20260101120000"), false),
            ("alice@example.org", "runsheet", "20260101120000Z", utc("20260101120000"), false),
            ("alice@example.com", "file", "20260101120000Z", utc("20260101120000"), false),
            ("eve@example.org", "file", localStamp(localNoon), localNoon, true),
            ("eve@example.org", "file", localStamp(localNoon.addingTimeInterval(1)), localNoon.addingTimeInterval(1), false),
            ("steve@example.org", "file", localStamp(localNoon), localNoon, false),
        ]
        for item in cases {
            let signed = try SSHKeygen.sign(Self.message, with: key, namespace: item.namespace, in: directory)
            let native = Self.verify(item.namespace == "runsheet" ? signature : signed, principal: item.principal, namespace: item.namespace, at: item.date, signers)
            let openSSH = try SSHKeygen.verify(signers: path, principal: item.principal, namespace: item.namespace,
                                               signature: item.namespace == "runsheet" ? signature : signed, message: Self.message, time: item.time, in: directory)
            #expect(((try? native.get()) != nil) == item.valid, "native: \(item) \(native)")
            #expect((openSSH.status == 0) == item.valid, "ssh-keygen: \(item) \(openSSH.stderr)")
        }
    }
}
