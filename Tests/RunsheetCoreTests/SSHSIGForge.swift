import Crypto
import CryptoExtras
import Foundation

/// Builds SSHSIG signatures by hand, per OpenSSH's PROTOCOL.sshsig and PROTOCOL.u2f, for what no
/// `ssh-keygen` here can make (security keys without hardware, rsa-sha2-256, SHA-1 RSA) and for
/// malformed blobs. Independent of the code under test: its own wire writer.
enum SSHSIGForge {
    struct Wire {
        var bytes: [UInt8] = []
        mutating func u32(_ value: UInt32) { bytes += withUnsafeBytes(of: value.bigEndian, Array.init) }
        mutating func string(_ value: some Sequence<UInt8>) {
            let array = Array(value)
            u32(UInt32(array.count))
            bytes += array
        }
        mutating func string(_ text: String) { string(Array(text.utf8)) }
        mutating func mpint(_ magnitude: some Sequence<UInt8>) {
            var trimmed = Array(Array(magnitude).drop { $0 == 0 })
            if let first = trimmed.first, first & 0x80 != 0 { trimmed.insert(0, at: 0) }
            string(trimmed)
        }
    }

    /// The bytes an SSHSIG signature signs.
    static func signedData(namespace: String, hash: String = "sha512", message: String) -> [UInt8] {
        let digest: [UInt8] = hash == "sha256" ? Array(SHA256.hash(data: Array(message.utf8))) : Array(SHA512.hash(data: Array(message.utf8)))
        var wire = Wire()
        wire.bytes += Array("SSHSIG".utf8)
        wire.string(namespace)
        wire.string([UInt8]())
        wire.string(hash)
        wire.string(digest)
        return wire.bytes
    }

    /// An SSHSIG blob, armored as ssh-keygen writes it (base64 in lines of 70).
    static func armored(key: [UInt8], namespace: String = "runsheet", hash: String = "sha512", signature: [UInt8],
                        magic: String = "SSHSIG", version: UInt32 = 1, trailing: [UInt8] = []) -> String {
        var wire = Wire()
        wire.bytes += Array(magic.utf8)
        wire.u32(version)
        wire.string(key)
        wire.string(namespace)
        wire.string([UInt8]())
        wire.string(hash)
        wire.string(signature)
        return armor(wire.bytes + trailing)
    }

    static func armor(_ blob: [UInt8]) -> String {
        let base64 = Data(blob).base64EncodedString()
        var lines: [Substring] = []
        var rest = Substring(base64)
        while !rest.isEmpty {
            lines.append(rest.prefix(70))
            rest = rest.dropFirst(70)
        }
        return "-----BEGIN SSH SIGNATURE-----\n" + lines.joined(separator: "\n") + "\n-----END SSH SIGNATURE-----\n"
    }

    /// A key line for an allowed signers file.
    static func line(type: String, blob: [UInt8]) -> String { type + " " + Data(blob).base64EncodedString() }

    /// A security key: a software key standing in for the authenticator, signing as PROTOCOL.u2f says.
    struct SecurityKey {
        enum Curve { case ed25519(Curve25519.Signing.PrivateKey), p256(P256.Signing.PrivateKey) }
        var curve: Curve
        var application = "ssh:"

        static func ed25519() -> SecurityKey { SecurityKey(curve: .ed25519(Curve25519.Signing.PrivateKey())) }
        static func p256() -> SecurityKey { SecurityKey(curve: .p256(P256.Signing.PrivateKey())) }

        var type: String {
            switch curve {
            case .ed25519: "sk-ssh-ed25519@openssh.com"
            case .p256: "sk-ecdsa-sha2-nistp256@openssh.com"
            }
        }

        var publicBlob: [UInt8] {
            var wire = Wire()
            wire.string(type)
            switch curve {
            case .ed25519(let key): wire.string(key.publicKey.rawRepresentation)
            case .p256(let key):
                wire.string("nistp256")
                wire.string(key.publicKey.x963Representation)
            }
            wire.string(application)
            return wire.bytes
        }

        var allowedLine: String { SSHSIGForge.line(type: type, blob: publicBlob) }

        /// An armored signature over `message`, with the authenticator's `flags` and `counter`.
        func sign(_ message: String, namespace: String = "runsheet", flags: UInt8 = 0x01, counter: UInt32 = 7) throws -> String {
            let signed = SSHSIGForge.signedData(namespace: namespace, message: message)
            var u2f = Wire()
            u2f.bytes += Array(SHA256.hash(data: Array(application.utf8)))
            u2f.bytes.append(flags)
            u2f.u32(counter)
            u2f.bytes += Array(SHA256.hash(data: signed))
            var signature = Wire()
            signature.string(type)
            switch curve {
            case .ed25519(let key):
                signature.string(Array(try key.signature(for: u2f.bytes)))
            case .p256(let key):
                let raw = Array(try key.signature(for: u2f.bytes).rawRepresentation)
                var inner = Wire()
                inner.mpint(raw[0..<32])
                inner.mpint(raw[32..<64])
                signature.string(inner.bytes)
            }
            signature.bytes.append(flags)
            signature.u32(counter)
            return SSHSIGForge.armored(key: publicBlob, namespace: namespace, signature: signature.bytes)
        }
    }

    /// An RSA key made with swift-crypto, signing with any of the SSH RSA algorithms.
    struct RSAKey {
        let key: _RSA.Signing.PrivateKey

        init() throws { key = try _RSA.Signing.PrivateKey(keySize: .bits2048) }

        var publicBlob: [UInt8] {
            let primitives = try! key.publicKey.getKeyPrimitives()
            var wire = Wire()
            wire.string("ssh-rsa")
            wire.mpint(primitives.publicExponent)
            wire.mpint(primitives.modulus)
            return wire.bytes
        }

        var allowedLine: String { SSHSIGForge.line(type: "ssh-rsa", blob: publicBlob) }

        /// `algorithm` is `rsa-sha2-256`, `rsa-sha2-512` or `ssh-rsa` (SHA-1).
        func sign(_ message: String, algorithm: String, namespace: String = "runsheet") throws -> String {
            let signed = SSHSIGForge.signedData(namespace: namespace, message: message)
            let raw: _RSA.Signing.RSASignature = switch algorithm {
            case "rsa-sha2-256": try key.signature(for: SHA256.hash(data: signed), padding: .insecurePKCS1v1_5)
            case "rsa-sha2-512": try key.signature(for: SHA512.hash(data: signed), padding: .insecurePKCS1v1_5)
            default: try key.signature(for: Insecure.SHA1.hash(data: signed), padding: .insecurePKCS1v1_5)
            }
            var signature = Wire()
            signature.string(algorithm)
            signature.string(Array(raw.rawRepresentation))
            return SSHSIGForge.armored(key: publicBlob, namespace: namespace, signature: signature.bytes)
        }
    }

    /// A plain ssh-ed25519 key made with swift-crypto: signatures without a process per signature.
    struct Ed25519Key {
        let key = Curve25519.Signing.PrivateKey()

        var publicBlob: [UInt8] {
            var wire = Wire()
            wire.string("ssh-ed25519")
            wire.string(key.publicKey.rawRepresentation)
            return wire.bytes
        }

        var allowedLine: String { SSHSIGForge.line(type: "ssh-ed25519", blob: publicBlob) }

        /// The `signature` string of an SSHSIG blob over `message`, signed as `type`.
        func signatureBlob(_ message: String, namespace: String = "runsheet", hash: String = "sha512", type: String = "ssh-ed25519") throws -> [UInt8] {
            var signature = Wire()
            signature.string(type)
            signature.string(Array(try key.signature(for: SSHSIGForge.signedData(namespace: namespace, hash: hash, message: message))))
            return signature.bytes
        }

        func sign(_ message: String, namespace: String = "runsheet", hash: String = "sha512") throws -> String {
            SSHSIGForge.armored(key: publicBlob, namespace: namespace, hash: hash, signature: try signatureBlob(message, namespace: namespace, hash: hash))
        }
    }
}
