import Crypto
import CryptoExtras
import Foundation

/// An SSH signature in the SSHSIG format of OpenSSH's PROTOCOL.sshsig, as `ssh-keygen -Y sign`
/// writes it, verified natively with swift-crypto: no process per signature.
///
/// Verification follows `ssh-keygen -Y verify`: the blob's namespace must be the expected one,
/// the signature must match the message, and some line of the allowed signers file must give the
/// key to the principal, allow the namespace and be valid at the given time.
public struct SSHSignature: Sendable {
    public enum HashAlgorithm: String, Sendable {
        case sha256, sha512
    }

    /// The key that made the signature (the one the blob carries).
    public let key: SSHPublicKey
    public let namespace: String
    public let hashAlgorithm: HashAlgorithm
    /// The signature algorithm, such as `ssh-ed25519` or `rsa-sha2-512`.
    public let algorithm: String
    /// The signature proper, as the algorithm encodes it inside its `string`.
    let proof: Proof

    static let begin = "-----BEGIN SSH SIGNATURE-----"
    static let end = "-----END SSH SIGNATURE-----"
    static let magic = Array("SSHSIG".utf8)

    /// The parts of a blob before the key is parsed: a key already parsed (from the allowed
    /// signers) is used instead of parsing the same bytes again.
    struct Envelope {
        var keyBlob: [UInt8]
        var namespace: String
        var hashName: String
        var signature: [UInt8]
    }

    /// The key an armored signature carries, or nil when it cannot be read.
    public static func signer(of armored: String) -> SSHPublicKey? {
        guard let envelope = try? envelope(of: dearmor(armored)) else { return nil }
        return try? SSHPublicKey(blob: envelope.keyBlob)
    }

    /// Parses an armored signature; the key is looked up in `known` first, so a key the allowed
    /// signers already hold is not parsed again.
    public init(armored: String, known: AllowedSigners? = nil) throws(SignatureProblem) {
        let envelope = try Self.envelope(of: Self.dearmor(armored))
        let key: SSHPublicKey
        if let cached = known?.key(withBlob: envelope.keyBlob) {
            key = cached
        } else {
            do {
                key = try SSHPublicKey(blob: envelope.keyBlob)
            } catch .certificate(let type) {
                throw .certificate(type)
            } catch {
                throw .badKey(error)
            }
        }
        guard let hash = HashAlgorithm(rawValue: envelope.hashName) else { throw .unsupportedHash(envelope.hashName) }
        self.key = key
        namespace = envelope.namespace
        hashAlgorithm = hash
        (algorithm, proof) = try Proof.parse(envelope.signature, key: key)
    }

    /// Verifies an armored signature over `message` as `principal` in `namespace` at `date`,
    /// against `signers`, as `ssh-keygen -Y verify -f FILE -I principal -n namespace
    /// -Overify-time=date` would.
    public static func verify(armored: String, message: some Collection<UInt8>, principal: String, namespace: String,
                              at date: Date, signers: AllowedSigners) -> Result<VerifiedSignature, SignatureProblem> {
        Result { () throws(SignatureProblem) -> VerifiedSignature in
            let signature = try SSHSignature(armored: armored, known: signers)
            guard signature.namespace == namespace else { throw .wrongNamespace(found: signature.namespace, expected: namespace) }
            try signature.check(message: message)
            let line = try signers.authorize(signature.key, as: principal, namespace: namespace, at: date)
            return VerifiedSignature(principal: principal, key: signature.key, line: line)
        }
    }

    /// Whether the signature matches `message`, by its own key and namespace; who may sign with
    /// that key is the allowed signers' question.
    public func check(message: some Collection<UInt8>) throws(SignatureProblem) {
        let digest = message.withContiguousStorageIfAvailable { Self.digest($0, hashAlgorithm) }
            ?? Array(message).withUnsafeBufferPointer { Self.digest($0, hashAlgorithm) }
        var signed = SSHWireWriter()
        signed.raw(Self.magic)
        signed.string(namespace)
        signed.string([UInt8]())
        signed.string(hashAlgorithm.rawValue)
        signed.string(digest)
        guard try proof.verifies(signed.bytes, by: key) else { throw .mismatch(fingerprint: key.fingerprint) }
    }

    private static func digest(_ buffer: UnsafeBufferPointer<UInt8>, _ algorithm: HashAlgorithm) -> [UInt8] {
        let raw = UnsafeRawBufferPointer(buffer)
        return switch algorithm {
        case .sha256: Array(SHA256.hash(data: raw))
        case .sha512: Array(SHA512.hash(data: raw))
        }
    }

    /// The blob inside the armor; bytes, not `String` searches, since `verify` reads a journal's
    /// every signature.
    /// Longer than any signature OpenSSH makes (an RSA-16384 key and signature armor to about 6 KB):
    /// a longer one is refused before it is read.
    public static let maximumArmoredLength = 32_768

    static func dearmor(_ armored: String) throws(SignatureProblem) -> [UInt8] {
        guard armored.utf8.count <= maximumArmoredLength else { throw .tooLong(armored.utf8.count) }
        var text = armored
        let blob = text.withUTF8 { bytes -> Result<[UInt8], SignatureProblem> in
            var start = 0
            while start < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[start]) { start += 1 }
            guard bytes.count - start >= beginBytes.count, bytes[start..<start + beginBytes.count].elementsEqual(beginBytes),
                  let bodyEnd = firstIndex(of: endBytes, in: bytes, from: start + beginBytes.count),
                  // Nothing but blanks after the end: one signature has one written form.
                  bytes[(bodyEnd + endBytes.count)...].allSatisfy({ [0x20, 0x09, 0x0A, 0x0D].contains($0) })
            else { return .failure(.notArmored) }
            return SSHBase64.decode(bytes[(start + beginBytes.count)..<bodyEnd]).map { .success($0) } ?? .failure(.notBase64)
        }
        return try blob.get()
    }

    private static let beginBytes = Array(begin.utf8)
    private static let endBytes = Array(end.utf8)

    private static func firstIndex(of needle: [UInt8], in haystack: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        var index = start
        while index <= haystack.count - needle.count {
            if haystack[index] == needle[0], haystack[index..<index + needle.count].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }

    static func envelope(of blob: [UInt8]) throws(SignatureProblem) -> Envelope {
        guard blob.count >= magic.count else { throw .truncated }
        guard blob.starts(with: magic) else { throw .wrongMagic }
        var reader = SSHWireReader(blob)
        do {
            _ = try reader.fixed(magic.count)
            let version = try reader.uint32()
            guard version == 1 else { throw SignatureProblem.unsupportedVersion(version) }
            let key = Array(try reader.string())
            let namespace = String(decoding: try reader.string(), as: UTF8.self)
            _ = try reader.string()  // reserved
            let hash = String(decoding: try reader.string(), as: UTF8.self)
            let signature = Array(try reader.string())
            guard reader.isAtEnd else { throw SignatureProblem.truncated }
            return Envelope(keyBlob: key, namespace: namespace, hashName: hash, signature: signature)
        } catch let problem as SignatureProblem {
            throw problem
        } catch {
            throw .truncated
        }
    }
}

/// A signature that verified: who signed, with which key, by which line of the allowed signers.
public struct VerifiedSignature: Sendable, Equatable {
    public var principal: String
    public var key: SSHPublicKey
    /// The line of the allowed signers file that allowed the key.
    public var line: Int

    public var kind: SSHPublicKey.Kind { key.kind }
    public var fingerprint: String { key.fingerprint }
}
