import Foundation
import RunsheetCore

/// With a key, who acts is the person the repository's allowed signers file names for that key
/// (issue 14): a name typed with `--as` that disagrees is refused, never signed under.
enum SigningIdentity {
    /// `actor` as the key says, and the key to sign with (nil: nothing is signed). A key named with
    /// `--key` or `RUNSHEET_SIGNING_KEY` that the file does not allow now is refused (exit 1); Git's
    /// `user.signingkey`, which many people set for commits, only signs where the file allows it,
    /// and is left unused, with a warning, where it does not.
    static func bind(_ actor: Actor, explicit: String?, key: SSHKeygenSigner?, runbook: String) throws -> (Actor, SSHKeygenSigner?) {
        guard let key else { return (actor, nil) }
        let fromGit = key.source == SSHKeygenSigner.gitSource
        func unusable(_ why: String) throws -> (Actor, SSHKeygenSigner?) {
            if fromGit {
                Output.error("warning: \(why), so Git's user.signingkey is not used and what this command records is not signed")
                return (actor, nil)
            }
            throw CommandFailure(status: .findings, message: "\(why), so nothing was written; add a line for it (docs/JOURNAL.md, \"Allowed signers and SSH signatures\") or sign with the key the file names for you")
        }
        guard let (signers, loaded) = AllowedSigners.load(forRunbook: runbook) else {
            return try unusable("the key \(key.keyFile) (from \(key.source)) cannot sign for \(runbook): its repository has no \(AllowedSigners.relativePath) saying whose key it is")
        }
        if let problem = AllowedSigners.readProblem(in: loaded) {
            throw CommandFailure(status: .findings, message: "\(problem), so whose key \(key.keyFile) is cannot be known and nothing was written")
        }
        let publicKey: SSHPublicKey
        do { publicKey = try SSHPublicKey(line: key.publicKey) } catch {
            throw CommandFailure(status: .usage, message: "the signing key \(key.keyFile) (from \(key.source)) cannot be used: \(error.errorDescription ?? "\(error)")")
        }
        let principals = signers.principals(allowing: publicKey, namespace: "runsheet", at: Date())
        guard !principals.isEmpty else {
            let why = signers.whyNotUsable(publicKey, as: explicit?.trimmed, namespace: "runsheet", at: Date())
            return try unusable("the key \(publicKey.fingerprint) (\(key.keyFile), from \(key.source)) is not allowed to sign in \(signers.path) now: \(why)")
        }
        if let sharers = signers.sharers(of: publicKey) {
            throw CommandFailure(status: .findings, message: "the key \(publicKey.fingerprint) (from \(key.source)) is allowed for more than one person in \(signers.path) (\(sharers.map(\.shown).joined(separator: ", "))), and a sign-off is bound to the one person who holds its key, so it binds nobody and nothing was written; give each person a key of their own")
        }
        if let odd = principals.first(where: { PersonName.canonical($0) != $0 }) {
            throw CommandFailure(status: .findings, message: "\(signers.path): \(AllowedSigners.notCanonical(odd)); a sign-off under it would not verify, so nothing was written")
        }
        var bound = actor
        if let explicit = explicit?.trimmed, !explicit.isEmpty {
            guard principals.contains(PersonName.canonical(explicit)) else {
                throw CommandFailure(status: .findings, message: "the key \(publicKey.fingerprint) (from \(key.source)) is allowed for \(principals.joined(separator: ", ")) in \(signers.path), not for \(explicit) given with --as, so nothing was written; leave out --as, or sign with \(explicit)'s own key")
            }
            return (bound, key)  // the name as typed, which is the key's principal in canonical form
        }
        guard principals.count == 1, let principal = principals.first else {
            throw CommandFailure(status: .usage, message: "the key \(publicKey.fingerprint) (from \(key.source)) is allowed for several people in \(signers.path) (\(principals.joined(separator: ", "))); say which one you are with --as")
        }
        bound.name = principal
        bound.canonical = PersonName.canonical(principal)
        return (bound, key)
    }
}
