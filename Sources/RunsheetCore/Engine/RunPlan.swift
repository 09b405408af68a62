import Crypto
import CryptoExtras
import Foundation

/// What a signature approves: the runbook's bytes, every file it includes, and the run's parameter
/// values. A secret takes part only as a salted scrypt digest, never as its value.
///
/// The plan's hash is SHA-256 over lines, each ending in a line feed:
///
///     runsheet.plan/1
///     runbook <sha-256 of the runbook file>
///     include <path> <sha-256>          one per included file, by path
///     param <name>=<value>              one per parameter, by name; a secret's value is its digest
///     change <reference>                the change record (`run --change`), when the run names one
///
/// A path or value holding a line break, carriage return or backslash is written as a JSON string
/// after a `*` (`param* notes="two\nlines"`), so no value can spell out a line of its own and two
/// different plans never share a text; all other lines are as they always were.
///
/// Any change to one of them is a `run.changed` event, and a signature on an earlier plan no
/// longer counts.
public struct RunPlan: Sendable, Equatable {
    public var runbookSHA256: String
    public var includes: [String: String]
    /// Parameter values as the journal shows them: secrets masked.
    public var params: [String: String]
    /// Secret parameters' digests (`SecretDigest`), by name.
    public var secrets: [String: String]
    /// The change record the run carries out: an approval approves the change it was given for.
    public var change: String?

    public init(runbookSHA256: String, includes: [String: String], params: [String: String], secrets: [String: String], change: String? = nil) {
        self.change = change
        self.runbookSHA256 = runbookSHA256
        self.includes = includes
        self.params = params
        self.secrets = secrets
    }

    /// The plan of `runbook` with `values`. A secret whose value matches one of its digests in
    /// `recorded` (every digest the run recorded for it, newest first) keeps that digest, so a
    /// secret changed and changed back gives the earlier plan its hash again; any other gets a new salt.
    public static func of(_ runbook: Runbook, sha256: String, values: [String: String], recorded: [String: [String]] = [:], change: String? = nil) throws -> RunPlan {
        var params: [String: String] = [:]
        var secrets: [String: String] = [:]
        for parameter in runbook.params {
            guard let value = values[parameter.name] else { continue }
            guard parameter.secret else {
                params[parameter.name] = value
                continue
            }
            params[parameter.name] = ShellQuoting.mask
            let digests = recorded[parameter.name] ?? []
            secrets[parameter.name] = try digests.first { SecretDigest.matches(value, $0) } ?? SecretDigest.make(value)
        }
        return RunPlan(runbookSHA256: sha256, includes: runbook.includedSHA256, params: params, secrets: secrets, change: change)
    }

    /// The hash a signature records.
    public var hash: String {
        var text = "runsheet.plan/1\nrunbook \(runbookSHA256)\n"
        for (path, sha) in includes.sorted(by: { $0.key < $1.key }) {
            text += Self.plain(path) ? "include \(path) \(sha)\n" : "include* \(Self.quoted(path)) \(sha)\n"
        }
        for (name, value) in params.sorted(by: { $0.key < $1.key }) {
            let shown = secrets[name] ?? value
            text += Self.plain(name) && Self.plain(shown) ? "param \(name)=\(shown)\n" : "param* \(Self.quoted(name))=\(Self.quoted(shown))\n"
        }
        if let change { text += Self.plain(change) ? "change \(change)\n" : "change* \(Self.quoted(change))\n" }
        return SHA256Hex.of(Array(text.utf8))
    }

    /// Whether `text` can stand in a plan line as it is: no line break, carriage return or backslash.
    static func plain(_ text: String) -> Bool {
        !text.unicodeScalars.contains { $0 == "\n" || $0 == "\r" || $0 == "\\" || $0 == "\u{2028}" || $0 == "\u{2029}" || $0 == "\u{85}" }
    }

    /// `text` as a JSON string: quotes, backslashes and every control character escaped.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar == "\u{2028}" || scalar == "\u{2029}":
                out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// What differs from `earlier`, one phrase each, in a stable order.
    public func differences(from earlier: RunPlan) -> [String] {
        var reasons: [String] = []
        if runbookSHA256 != earlier.runbookSHA256 { reasons.append("the runbook changed") }
        for path in Set(includes.keys).union(earlier.includes.keys).sorted() where includes[path] != earlier.includes[path] {
            reasons.append(includes[path] == nil ? "included file \(path) is no longer included"
                           : earlier.includes[path] == nil ? "file \(path) is now included" : "included file \(path) changed")
        }
        for name in Set(params.keys).union(earlier.params.keys).sorted() {
            if secrets[name] != nil || earlier.secrets[name] != nil {
                if secrets[name] != earlier.secrets[name] { reasons.append("secret parameter \(name) changed") }
            } else if params[name] != earlier.params[name] {
                reasons.append("parameter \(name): \(earlier.params[name] ?? "(none)") → \(params[name] ?? "(none)")")
            }
        }
        return reasons
    }
}

/// A secret's value as the journal may hold it: `scrypt$<N>$<r>$<p>$<salt hex>$<hash hex>`.
public enum SecretDigest {
    static let rounds = 16_384, blockSize = 8, parallelism = 1

    public static func make(_ value: String, salt: [UInt8]? = nil) throws -> String {
        let salt = salt ?? (0..<16).map { _ in UInt8.random(in: .min ... .max) }
        let hash = try derive(value, salt: salt, rounds: rounds, blockSize: blockSize, parallelism: parallelism)
        return "scrypt$\(rounds)$\(blockSize)$\(parallelism)$\(hex(salt))$\(hex(hash))"
    }

    /// Whether `value` is the secret `digest` was made from.
    public static func matches(_ value: String, _ digest: String) -> Bool {
        let parts = digest.split(separator: "$", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 6, parts[0] == "scrypt", let n = Int(parts[1]), let r = Int(parts[2]), let p = Int(parts[3]),
              n > 1, n <= 1 << 20, r >= 1, r <= 32, p >= 1, p <= 16, let salt = bytes(parts[4]), let expected = bytes(parts[5]),
              let hash = try? derive(value, salt: salt, rounds: n, blockSize: r, parallelism: p, length: expected.count) else { return false }
        return hash == expected
    }

    static func derive(_ value: String, salt: [UInt8], rounds: Int, blockSize: Int, parallelism: Int, length: Int = 32) throws -> [UInt8] {
        let key = try KDF.Scrypt.deriveKey(from: Array(value.utf8), salt: salt, outputByteCount: length, rounds: rounds,
                                           blockSize: blockSize, parallelism: parallelism)
        return key.withUnsafeBytes { Array($0) }
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    static func bytes(_ hex: String) -> [UInt8]? {
        guard hex.count % 2 == 0, hex.count <= 256 else { return nil }
        var result: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            result.append(byte)
            index = next
        }
        return result
    }
}
