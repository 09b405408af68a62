import Foundation

/// Why an SSH signature was not accepted: one sentence each, naming the key by its fingerprint
/// and the allowed signers file by its path.
public enum SignatureProblem: Error, Equatable, Sendable, LocalizedError {
    case notArmored
    case tooLong(Int)
    case notBase64
    case truncated
    case wrongMagic
    case unsupportedVersion(UInt32)
    case wrongNamespace(found: String, expected: String)
    case unsupportedHash(String)
    case badKey(SSHPublicKey.Problem)
    case certificate(String)
    case sha1RSA(fingerprint: String)
    case wrongSignatureType(String, key: SSHPublicKey.Kind)
    case keyNotAllowed(fingerprint: String, file: String)
    case principalNotAllowed(principal: String, fingerprint: String, file: String, allowedAs: [String])
    case namespaceNotAllowed(namespace: String, fingerprint: String, file: String, line: Int)
    case notYetValid(fingerprint: String, file: String, line: Int, validAfter: Date, at: Date)
    case expired(fingerprint: String, file: String, line: Int, validBefore: Date, at: Date)
    case userNotPresent(fingerprint: String)
    case mismatch(fingerprint: String)

    public var errorDescription: String? {
        switch self {
        case .notArmored:
            "the signature is not an armored SSH signature: it must start with -----BEGIN SSH SIGNATURE----- and end with -----END SSH SIGNATURE-----"
        case .tooLong(let bytes):
            "the signature is \(bytes) bytes long, more than any SSH signature (at most \(SSHSignature.maximumArmoredLength)), so it is not read"
        case .notBase64:
            "the signature's armored text is not valid base64"
        case .truncated:
            "the signature is truncated or has bytes after its end"
        case .wrongMagic:
            "the signature does not start with SSHSIG, so it is not an SSH signature"
        case .unsupportedVersion(let version):
            "the signature is SSHSIG version \(version); runsheet verifies version 1"
        case .wrongNamespace(let found, let expected):
            "the signature was made for namespace '\(found)', not '\(expected)'"
        case .unsupportedHash(let name):
            "the signature hashes the message with '\(name)'; SSHSIG allows only sha256 and sha512"
        case .badKey(let problem):
            "the signature's key cannot be used: " + (problem.errorDescription ?? "\(problem)")
        case .certificate(let type):
            "the signature was made with an OpenSSH certificate (\(type)); runsheet verifies signatures by plain keys only"
        case .sha1RSA(let fingerprint):
            "the signature by RSA key \(fingerprint) uses ssh-rsa (SHA-1), which is refused; sign with rsa-sha2-256 or rsa-sha2-512"
        case .wrongSignatureType(let type, let key):
            "the signature is of type '\(type)', which a \(key.rawValue) key does not make"
        case .keyNotAllowed(let fingerprint, let file):
            "the key \(fingerprint) that made the signature is not in \(file)"
        case .principalNotAllowed(let principal, let fingerprint, let file, let allowedAs):
            "the key \(fingerprint) is not allowed to sign as \(principal) in \(file)"
                + (allowedAs.isEmpty ? "" : " (it is allowed for \(allowedAs.joined(separator: ", ")))")
        case .namespaceNotAllowed(let namespace, let fingerprint, let file, let line):
            "the key \(fingerprint) is not allowed to sign in namespace '\(namespace)' by the namespaces= option at \(file):\(line)"
        case .notYetValid(let fingerprint, let file, let line, let validAfter, let at):
            "the key \(fingerprint) is not yet valid at \(Self.stamp(at)): \(file):\(line) makes it valid only from \(Self.stamp(validAfter))"
        case .expired(let fingerprint, let file, let line, let validBefore, let at):
            "the key \(fingerprint) had expired at \(Self.stamp(at)): \(file):\(line) makes it valid only until \(Self.stamp(validBefore))"
        case .userNotPresent(let fingerprint):
            "the security key \(fingerprint) made the signature without a touch (its user-presence flag is clear); runsheet refuses such signatures, as sshd does by default"
        case .mismatch(let fingerprint):
            "the signature by key \(fingerprint) does not match the signed bytes: they were changed after signing, or the signature belongs to other bytes"
        }
    }

    /// A time as ISO 8601 in UTC, to the second.
    static func stamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
