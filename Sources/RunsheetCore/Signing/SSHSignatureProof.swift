import Crypto
import CryptoExtras

extension SSHSignature {
    /// FIDO's user-presence flag (PROTOCOL.u2f): the key was touched for this signature.
    static let userPresent: UInt8 = 0x01

    /// The signature proper, decoded for its algorithm.
    enum Proof: Sendable {
        case ed25519([UInt8])
        /// ECDSA's r and s, each left-padded to the curve's size.
        case ecdsa(raw: [UInt8])
        case rsa([UInt8], sha512: Bool)
        /// A security key's signature with the flags and counter it signed (PROTOCOL.u2f).
        case securityKey(raw: [UInt8], flags: UInt8, counter: UInt32)

        /// Decodes the `signature` string of an SSHSIG blob for `key`.
        static func parse(_ bytes: [UInt8], key: SSHPublicKey) throws(SignatureProblem) -> (String, Proof) {
            var reader = SSHWireReader(bytes)
            do {
                guard let type = try reader.text() else { throw SignatureProblem.truncated }
                let proof: Proof
                switch (key.kind, type) {
                case (.ed25519, "ssh-ed25519"):
                    proof = .ed25519(Array(try reader.string()))
                case (.ecdsaP256, "ecdsa-sha2-nistp256"), (.ecdsaP384, "ecdsa-sha2-nistp384"), (.ecdsaP521, "ecdsa-sha2-nistp521"):
                    proof = .ecdsa(raw: try ecdsa(try reader.string(), size: size(of: key.kind)))
                case (.rsa, "rsa-sha2-256"), (.rsa, "rsa-sha2-512"):
                    proof = .rsa(Array(try reader.string()), sha512: type == "rsa-sha2-512")
                case (.rsa, "ssh-rsa"):
                    throw SignatureProblem.sha1RSA(fingerprint: key.fingerprint)
                case (.skEd25519, "sk-ssh-ed25519@openssh.com"):
                    let raw = Array(try reader.string())
                    proof = .securityKey(raw: raw, flags: try reader.byte(), counter: try reader.uint32())
                case (.skECDSAP256, "sk-ecdsa-sha2-nistp256@openssh.com"):
                    let raw = try ecdsa(try reader.string(), size: 32)
                    proof = .securityKey(raw: raw, flags: try reader.byte(), counter: try reader.uint32())
                default:
                    throw SignatureProblem.wrongSignatureType(type, key: key.kind)
                }
                guard reader.isAtEnd else { throw SignatureProblem.truncated }
                return (type, proof)
            } catch let problem as SignatureProblem {
                throw problem
            } catch {
                throw .truncated
            }
        }

        private static func size(of kind: SSHPublicKey.Kind) -> Int {
            switch kind {
            case .ecdsaP384: 48
            case .ecdsaP521: 66
            default: 32
            }
        }

        /// `mpint r, mpint s` as the fixed-size `r || s` swift-crypto reads; a number too long for
        /// the curve cannot be a valid signature, so it is kept too long and fails to verify.
        private static func ecdsa(_ blob: ArraySlice<UInt8>, size: Int) throws -> [UInt8] {
            var reader = SSHWireReader(Array(blob))
            guard let r = try reader.positiveMPInt(), let s = try reader.positiveMPInt(), reader.isAtEnd else {
                throw SignatureProblem.truncated
            }
            guard r.count <= size, s.count <= size else { return [] }
            return [UInt8](repeating: 0, count: size - r.count) + r + [UInt8](repeating: 0, count: size - s.count) + s
        }

        /// Whether the proof verifies `signed` (the SSHSIG signed data) by `key`.
        func verifies(_ signed: [UInt8], by key: SSHPublicKey) throws(SignatureProblem) -> Bool {
            switch (self, key.verifier) {
            case (.ed25519(let raw), .ed25519(let publicKey)):
                return publicKey.isValidSignature(raw, for: signed)
            case (.ecdsa(let raw), .p256(let publicKey)):
                guard let signature = try? P256.Signing.ECDSASignature(rawRepresentation: raw) else { return false }
                return publicKey.isValidSignature(signature, for: signed)
            case (.ecdsa(let raw), .p384(let publicKey)):
                guard let signature = try? P384.Signing.ECDSASignature(rawRepresentation: raw) else { return false }
                return publicKey.isValidSignature(signature, for: signed)
            case (.ecdsa(let raw), .p521(let publicKey)):
                guard let signature = try? P521.Signing.ECDSASignature(rawRepresentation: raw) else { return false }
                return publicKey.isValidSignature(signature, for: signed)
            case (.rsa(let raw, let sha512), .rsa(let publicKey, let modulusBytes)):
                // OpenSSH accepts a signature shorter than the modulus and pads it with zeros.
                guard raw.count <= modulusBytes else { return false }
                let signature = _RSA.Signing.RSASignature(rawRepresentation: [UInt8](repeating: 0, count: modulusBytes - raw.count) + raw)
                return sha512
                    ? publicKey.isValidSignature(signature, for: SHA512.hash(data: signed), padding: .insecurePKCS1v1_5)
                    : publicKey.isValidSignature(signature, for: SHA256.hash(data: signed), padding: .insecurePKCS1v1_5)
            case (.securityKey(let raw, let flags, let counter), .skEd25519(let publicKey, let application)):
                let valid = publicKey.isValidSignature(raw, for: Self.u2f(signed, application: application, flags: flags, counter: counter))
                return try Self.present(valid, flags: flags, key: key)
            case (.securityKey(let raw, let flags, let counter), .skP256(let publicKey, let application)):
                guard let signature = try? P256.Signing.ECDSASignature(rawRepresentation: raw) else { return false }
                let valid = publicKey.isValidSignature(signature, for: Self.u2f(signed, application: application, flags: flags, counter: counter))
                return try Self.present(valid, flags: flags, key: key)
            default:
                return false
            }
        }

        /// What a security key signs (PROTOCOL.u2f): SHA256(application) || flags || counter ||
        /// SHA256(message); OpenSSH's plain `sk-` signatures carry no extensions.
        static func u2f(_ message: [UInt8], application: [UInt8], flags: UInt8, counter: UInt32) -> [UInt8] {
            var writer = SSHWireWriter()
            writer.raw(Array(SHA256.hash(data: application)))
            writer.raw([flags])
            writer.uint32(counter)
            writer.raw(Array(SHA256.hash(data: message)))
            return writer.bytes
        }

        /// A signature that verifies but was made without a touch is refused, as OpenSSH does
        /// unless told otherwise; one that does not verify is a mismatch whatever its flags say.
        private static func present(_ valid: Bool, flags: UInt8, key: SSHPublicKey) throws(SignatureProblem) -> Bool {
            guard valid else { return false }
            guard flags & userPresent != 0 else { throw .userNotPresent(fingerprint: key.fingerprint) }
            return true
        }
    }
}
