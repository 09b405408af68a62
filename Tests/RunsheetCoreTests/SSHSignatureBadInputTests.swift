import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Every way a signature can be wrong is refused with its own sentence.
@Suite struct SSHSignatureBadInputTests {
    static let message = "the signed event\n"
    static let key = SSHSIGForge.Ed25519Key()

    static func signers(_ text: String) -> AllowedSigners {
        AllowedSigners.parse(text: text, path: "/repo/.runsheet/allowed_signers").0
    }

    static var aliceOnly: AllowedSigners { signers("alice@example.com \(key.allowedLine)\n") }

    static func sentence(_ armored: String, signers: AllowedSigners = aliceOnly, namespace: String = "runsheet",
                         at date: Date = Date()) -> String? {
        switch SSHSignature.verify(armored: armored, message: Array(message.utf8), principal: "alice@example.com", namespace: namespace, at: date, signers: signers) {
        case .success: nil
        case .failure(let problem): problem.errorDescription
        }
    }

    static var fingerprint: String { try! SSHPublicKey(blob: key.publicBlob).fingerprint }

    @Test func aGoodSignatureVerifies() throws {
        #expect(Self.sentence(try Self.key.sign(Self.message)) == nil)
        #expect(Self.sentence(try Self.key.sign(Self.message, hash: "sha256")) == nil)
    }

    @Test func notArmoredNotBase64Truncated() throws {
        #expect(Self.sentence("SSHSIG") ==
            "the signature is not an armored SSH signature: it must start with -----BEGIN SSH SIGNATURE----- and end with -----END SSH SIGNATURE-----")
        #expect(Self.sentence("-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n") ==
            "the signature is not an armored SSH signature: it must start with -----BEGIN SSH SIGNATURE----- and end with -----END SSH SIGNATURE-----")
        #expect(Self.sentence("-----BEGIN SSH SIGNATURE-----\nU1NI*0lH\n-----END SSH SIGNATURE-----\n") == "the signature's armored text is not valid base64")
        #expect(Self.sentence("-----BEGIN SSH SIGNATURE-----\nU1NIU0l\n-----END SSH SIGNATURE-----\n") == "the signature's armored text is not valid base64")
        let good = try Self.key.sign(Self.message)
        let blob = try #require(Data(base64Encoded: good.split(separator: "\n").dropFirst().dropLast().joined(), options: []))
        for cut in [3, 10, 30, blob.count / 2, blob.count - 1] {
            #expect(Self.sentence(SSHSIGForge.armor(Array(blob.prefix(cut)))) == "the signature is truncated or has bytes after its end", "cut at \(cut)")
        }
        #expect(Self.sentence(SSHSIGForge.armor(Array(blob) + [0])) == "the signature is truncated or has bytes after its end")
    }

    @Test func wrongMagicVersionNamespaceHash() throws {
        let signature = try Self.key.signatureBlob(Self.message)
        #expect(Self.sentence(SSHSIGForge.armored(key: Self.key.publicBlob, signature: signature, magic: "SSHSIX")) ==
            "the signature does not start with SSHSIG, so it is not an SSH signature")
        #expect(Self.sentence(SSHSIGForge.armored(key: Self.key.publicBlob, signature: signature, version: 2)) ==
            "the signature is SSHSIG version 2; runsheet verifies version 1")
        #expect(Self.sentence(try Self.key.sign(Self.message, namespace: "git")) == "the signature was made for namespace 'git', not 'runsheet'")
        #expect(Self.sentence(try Self.key.sign(Self.message), namespace: "file") == "the signature was made for namespace 'runsheet', not 'file'")
        #expect(Self.sentence(try Self.key.sign(Self.message, hash: "sha1")) == "the signature hashes the message with 'sha1'; SSHSIG allows only sha256 and sha512")
    }

    @Test func unsupportedKeysAndSignatureTypes() throws {
        var dss = SSHSIGForge.Wire()
        dss.string("ssh-dss")
        dss.string([1, 2, 3])
        #expect(Self.sentence(SSHSIGForge.armored(key: dss.bytes, signature: try Self.key.signatureBlob(Self.message))) ==
            "the signature's key cannot be used: unknown key type 'ssh-dss'; runsheet verifies ssh-ed25519, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, ecdsa-sha2-nistp521, ssh-rsa, sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256@openssh.com")
        var certificate = SSHSIGForge.Wire()
        certificate.string("ssh-ed25519-cert-v01@openssh.com")
        certificate.string([UInt8](repeating: 7, count: 32))
        #expect(Self.sentence(SSHSIGForge.armored(key: certificate.bytes, signature: try Self.key.signatureBlob(Self.message))) ==
            "the signature was made with an OpenSSH certificate (ssh-ed25519-cert-v01@openssh.com); runsheet verifies signatures by plain keys only")
        var shortKey = SSHSIGForge.Wire()
        shortKey.string("ssh-ed25519")
        shortKey.string([UInt8](repeating: 7, count: 31))
        #expect(Self.sentence(SSHSIGForge.armored(key: shortKey.bytes, signature: try Self.key.signatureBlob(Self.message))) ==
            "the signature's key cannot be used: the ssh-ed25519 key is not a valid key: an Ed25519 key has 32 bytes, this one 31")
        #expect(Self.sentence(SSHSIGForge.armored(key: Self.key.publicBlob, signature: try Self.key.signatureBlob(Self.message, type: "ecdsa-sha2-nistp256"))) ==
            "the signature is of type 'ecdsa-sha2-nistp256', which a ssh-ed25519 key does not make")
    }

    @Test func keysTheFileDoesNotAllow() throws {
        let signature = try Self.key.sign(Self.message)
        let fingerprint = Self.fingerprint
        let other = SSHSIGForge.Ed25519Key()
        #expect(Self.sentence(signature, signers: Self.signers("alice@example.com \(other.allowedLine)\n")) ==
            "the key \(fingerprint) that made the signature is not in /repo/.runsheet/allowed_signers")
        #expect(Self.sentence(signature, signers: Self.signers("bob@example.com \(Self.key.allowedLine)\n")) ==
            "the key \(fingerprint) is not allowed to sign as alice@example.com in /repo/.runsheet/allowed_signers (it is allowed for bob@example.com)")
        #expect(Self.sentence(signature, signers: Self.signers("*@example.org \(Self.key.allowedLine)\n")) ==
            "the key \(fingerprint) is not allowed to sign as alice@example.com in /repo/.runsheet/allowed_signers")
        #expect(Self.sentence(signature, signers: Self.signers("alice@example.com cert-authority \(Self.key.allowedLine)\n")) ==
            "the key \(fingerprint) that made the signature is not in /repo/.runsheet/allowed_signers")
        #expect(Self.sentence(signature, signers: Self.signers("alice@example.com namespaces=\"git,file\" \(Self.key.allowedLine)\n")) ==
            "the key \(fingerprint) is not allowed to sign in namespace 'runsheet' by the namespaces= option at /repo/.runsheet/allowed_signers:1")
        let at = Date(timeIntervalSince1970: 1_767_225_599)  // 2025-12-31T23:59:59Z
        #expect(Self.sentence(signature, signers: Self.signers("alice@example.com valid-after=\"20260101Z\" \(Self.key.allowedLine)\n"), at: at) ==
            "the key \(fingerprint) is not yet valid at 2025-12-31T23:59:59Z: /repo/.runsheet/allowed_signers:1 makes it valid only from 2026-01-01T00:00:00Z")
        #expect(Self.sentence(signature, signers: Self.signers("alice@example.com valid-before=\"20251231235958Z\" \(Self.key.allowedLine)\n"), at: at) ==
            "the key \(fingerprint) had expired at 2025-12-31T23:59:59Z: /repo/.runsheet/allowed_signers:1 makes it valid only until 2025-12-31T23:59:58Z")
        // A later line that allows it wins, as in OpenSSH.
        #expect(Self.sentence(signature, signers: Self.signers("""
            alice@example.com valid-before="20251231235958Z" \(Self.key.allowedLine)
            alice@example.com valid-after="20251231235959Z" \(Self.key.allowedLine)

            """), at: at) == nil)
    }

    /// Verifying 1,000 Ed25519 signatures, each parsed from its armor, looked up and checked:
    /// about 85 ms in a release build on the 2-core test host, of which swift-crypto's Ed25519
    /// verification alone is about 79 ms (runsheet's share about 6 µs a signature); the limit
    /// leaves room for a loaded host. A debug build (BoringSSL at -O0, about a millisecond a
    /// verification) gets seconds.
    @Test func thousandSignaturesAreFast() throws {
        let signers = Self.aliceOnly
        let messages = (0..<1000).map { "event \($0)\n" }
        let signatures = try messages.map { try Self.key.sign($0) }
        let clock = ContinuousClock()
        var verified = 0
        let elapsed = clock.measure {
            for (message, signature) in zip(messages, signatures) {
                if case .success = SSHSignature.verify(armored: signature, message: Array(message.utf8), principal: "alice@example.com",
                                                       namespace: "runsheet", at: Date(), signers: signers) { verified += 1 }
            }
        }
        #expect(verified == 1000)
        #if DEBUG
        let limit = Duration.seconds(4)
        #else
        let limit = Duration.milliseconds(200)
        #endif
        #expect(elapsed < limit, "1,000 Ed25519 verifications took \(elapsed)")
        print("1,000 Ed25519 verifications: \(elapsed)")
    }
}
