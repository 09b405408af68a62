import Crypto
import CryptoExtras
import Foundation

/// An OpenSSH public key: its type, its wire blob (what `ssh-keygen` base64-encodes after the
/// type) and the swift-crypto key that verifies its signatures, parsed once.
///
/// Two keys are equal when their blobs are, as OpenSSH's `sshkey_equal` compares them; the
/// comment after the key does not count.
public struct SSHPublicKey: Sendable, Hashable, CustomStringConvertible {
    /// The key types runsheet verifies natively.
    public enum Kind: String, Sendable, CaseIterable {
        case ed25519 = "ssh-ed25519"
        case ecdsaP256 = "ecdsa-sha2-nistp256"
        case ecdsaP384 = "ecdsa-sha2-nistp384"
        case ecdsaP521 = "ecdsa-sha2-nistp521"
        case rsa = "ssh-rsa"
        case skEd25519 = "sk-ssh-ed25519@openssh.com"
        case skECDSAP256 = "sk-ecdsa-sha2-nistp256@openssh.com"

        /// How `ssh-keygen -l` names the type, such as `ED25519` or `ECDSA-SK`.
        public var displayName: String {
            switch self {
            case .ed25519: "ED25519"
            case .ecdsaP256, .ecdsaP384, .ecdsaP521: "ECDSA"
            case .rsa: "RSA"
            case .skEd25519: "ED25519-SK"
            case .skECDSAP256: "ECDSA-SK"
            }
        }

        /// Whether the key lives on a FIDO authenticator (a hardware security key).
        public var isSecurityKey: Bool { self == .skEd25519 || self == .skECDSAP256 }
    }

    /// Why a key could not be read: one sentence each.
    public enum Problem: Error, Equatable, LocalizedError {
        case notBase64
        case truncated(Kind)
        case unknownType(String)
        case typeMismatch(written: String, blob: String)
        case certificate(String)
        case badKey(Kind, String)
        case missingKey

        public var errorDescription: String? {
            switch self {
            case .notBase64: "the key is not valid base64"
            case .truncated(let kind): "the \(kind.rawValue) key is truncated or has bytes after its end"
            case .unknownType(let type) where type.hasSuffix("-cert-v01@openssh.com"):
                "'\(type)' is an OpenSSH certificate; runsheet verifies plain keys only, so give the key itself"
            case .unknownType(let type):
                "unknown key type '\(type)'; runsheet verifies \(Kind.allCases.map(\.rawValue).joined(separator: ", "))"
            case .typeMismatch(let written, let blob): "the key is written as \(written) but its base64 holds a key of type \(blob)"
            case .certificate(let type): "'\(type)' is an OpenSSH certificate; runsheet verifies plain keys only, so give the key itself"
            case .badKey(let kind, let why): "the \(kind.rawValue) key is not a valid key: \(why)"
            case .missingKey: "there is no key: expected a key type and its base64, such as ssh-ed25519 AAAAC3Nza…"
            }
        }
    }

    public let kind: Kind
    /// The wire encoding of the key, as in `ssh-keygen`'s base64 and inside a signature.
    public let blob: [UInt8]
    /// What follows the base64 on a key line, such as `alice@laptop`; empty when nothing does.
    public var comment: String = ""
    /// The parsed key, ready to verify.
    let verifier: Verifier

    public static func == (lhs: SSHPublicKey, rhs: SSHPublicKey) -> Bool { lhs.blob == rhs.blob }
    public func hash(into hasher: inout Hasher) { hasher.combine(blob) }

    /// `SHA256:` and the unpadded base64 of the blob's SHA-256, as `ssh-keygen -l` prints it.
    public var fingerprint: String { "SHA256:" + SSHBase64.encode(Array(SHA256.hash(data: blob)), padded: false) }

    /// The key as one line of an allowed signers or `.pub` file, without a comment.
    public var line: String { kind.rawValue + " " + SSHBase64.encode(blob) }

    public var description: String { "\(kind.rawValue) key \(fingerprint)" }

    /// Parses a key line: `TYPE BASE64 [COMMENT]`, as in a `.pub` file.
    public init(line: String) throws(Problem) {
        let fields = line.split(maxSplits: 2, omittingEmptySubsequences: true) { $0 == " " || $0 == "\t" }
        guard fields.count >= 2 else {
            if let type = fields.first, Kind(rawValue: String(type)) == nil { throw .unknownType(String(type)) }
            throw .missingKey
        }
        try self.init(type: String(fields[0]), base64: fields[1].utf8)
        comment = fields.count > 2 ? fields[2].trimmingCharacters(in: .whitespacesAndNewlines) : ""
    }

    /// Parses a key written as its type and base64, checking that the blob holds that type.
    init(type: String, base64: some Collection<UInt8>) throws(Problem) {
        guard let written = Kind(rawValue: type) else { throw .unknownType(type) }
        guard let blob = SSHBase64.decode(base64) else { throw .notBase64 }
        try self.init(blob: blob)
        guard kind == written else { throw .typeMismatch(written: type, blob: kind.rawValue) }
    }

    /// Parses a key's wire blob.
    public init(blob: [UInt8]) throws(Problem) {
        var reader = SSHWireReader(blob)
        let typeName: String
        do {
            typeName = try reader.text() ?? "?"
        } catch {
            throw .missingKey
        }
        if typeName.hasSuffix("-cert-v01@openssh.com") { throw .certificate(typeName) }
        guard let kind = Kind(rawValue: typeName) else { throw .unknownType(typeName) }
        do {
            verifier = try Verifier(kind, reading: &reader)
        } catch let problem as Problem {
            throw problem
        } catch {
            throw .truncated(kind)
        }
        guard reader.isAtEnd else { throw .truncated(kind) }
        self.kind = kind
        self.blob = blob
    }
}

extension SSHPublicKey {
    /// The swift-crypto key inside a blob, and for a security key the application string
    /// (`ssh:` by default) its signatures cover.
    enum Verifier: Sendable {
        case ed25519(Curve25519.Signing.PublicKey)
        case p256(P256.Signing.PublicKey)
        case p384(P384.Signing.PublicKey)
        case p521(P521.Signing.PublicKey)
        case rsa(_RSA.Signing.PublicKey, modulusBytes: Int)
        case skEd25519(Curve25519.Signing.PublicKey, application: [UInt8])
        case skP256(P256.Signing.PublicKey, application: [UInt8])

        init(_ kind: Kind, reading reader: inout SSHWireReader) throws {
            func curve(_ expected: String) throws -> ArraySlice<UInt8> {
                let name = try reader.text()
                guard name == expected else { throw Problem.badKey(kind, "its curve is \(name ?? "not text"), not \(expected)") }
                return try reader.string()
            }
            func point<Key>(_ make: () throws -> Key) throws -> Key {
                do { return try make() } catch { throw Problem.badKey(kind, "its point is not on the curve") }
            }
            switch kind {
            case .ed25519:
                let raw = try reader.string()
                self = .ed25519(try Self.ed25519(raw, kind))
            case .ecdsaP256:
                let q = try curve("nistp256")
                self = .p256(try point { try P256.Signing.PublicKey(x963Representation: q) })
            case .ecdsaP384:
                let q = try curve("nistp384")
                self = .p384(try point { try P384.Signing.PublicKey(x963Representation: q) })
            case .ecdsaP521:
                let q = try curve("nistp521")
                self = .p521(try point { try P521.Signing.PublicKey(x963Representation: q) })
            case .rsa:
                guard let e = try reader.positiveMPInt(), let n = try reader.positiveMPInt() else {
                    throw Problem.badKey(kind, "its exponent or modulus is negative")
                }
                guard n.count * 8 >= 2048 else {
                    throw Problem.badKey(kind, "it has fewer than 2048 bits, which runsheet does not accept")
                }
                do {
                    self = .rsa(try _RSA.Signing.PublicKey(n: Array(n), e: Array(e)), modulusBytes: n.count)
                } catch {
                    throw Problem.badKey(kind, "swift-crypto refuses its modulus or exponent")
                }
            case .skEd25519:
                let raw = try reader.string()
                let key = try Self.ed25519(raw, kind)
                self = .skEd25519(key, application: Array(try reader.string()))
            case .skECDSAP256:
                let q = try curve("nistp256")
                let key = try point { try P256.Signing.PublicKey(x963Representation: q) }
                self = .skP256(key, application: Array(try reader.string()))
            }
        }

        private static func ed25519(_ raw: ArraySlice<UInt8>, _ kind: Kind) throws -> Curve25519.Signing.PublicKey {
            guard raw.count == 32 else { throw Problem.badKey(kind, "an Ed25519 key has 32 bytes, this one \(raw.count)") }
            return try Curve25519.Signing.PublicKey(rawRepresentation: raw)
        }
    }
}
