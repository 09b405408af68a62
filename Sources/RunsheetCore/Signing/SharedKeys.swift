import Foundation

/// A sign-off is bound to the person who holds its key, so one key is one person: a key the
/// allowed signers file lists for more than one person binds nobody (`check` error, `sign`
/// refuses it), and at a gate two sign-offs signed by the same key count once, whatever names
/// they carry (docs/JOURNAL.md, "Allowed signers and SSH signatures").
public enum SharedKeys {
    /// The fingerprint of the key that signed `record`'s event, when it is signed.
    public static func fingerprint(of record: RunState.SignatureRecord, in state: RunState) -> String? {
        guard record.signed, let event = state.signedEvents.first(where: { $0.seq == record.seq }),
              let armored = event.signature else { return nil }
        return SSHSignature.signer(of: armored)?.fingerprint
    }

    /// The sentence for a sign-off whose key already counted at the gate for `first`.
    public static func problem(_ record: RunState.SignatureRecord, key: String, first: String) -> String {
        "the sign-off by \(record.signer) (event \(record.seq)) is signed by the key \(key), which already counted for \(first)'s sign-off, and one key counts once"
    }

    /// Every pair of sign-offs on one step signed by the same key: (step, the later sign-off, key, first signer).
    public static func repeats(in state: RunState) -> [(step: String, record: RunState.SignatureRecord, key: String, first: String)] {
        var found: [(step: String, record: RunState.SignatureRecord, key: String, first: String)] = []
        for step in state.signatures.keys.sorted() {
            var seen: [String: String] = [:]
            for record in state.signatures[step] ?? [] {
                guard let key = fingerprint(of: record, in: state) else { continue }
                if let first = seen[key] { found.append((step, record, key, first)) } else { seen[key] = record.signer }
            }
        }
        return found
    }
}

extension AllowedSigners {
    /// The people the file lets `key` sign as (patterns included), when that is more than one
    /// person or a wildcard; nil when the key is one person's.
    public func sharers(of key: SSHPublicKey) -> [String]? {
        var people = Set<String>()
        for entry in entries where entry.holds(key) {
            people.formUnion(entry.principals.filter { !$0.hasPrefix("!") })
        }
        let wildcard = people.contains { $0.contains("*") || $0.contains("?") }
        return people.count > 1 || wildcard ? people.sorted() : nil
    }
}
