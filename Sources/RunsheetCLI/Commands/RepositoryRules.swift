import Foundation
import RunsheetCore

/// The repository's rules as they apply at its root, for acts about the repository rather than
/// one run (`halt`, `release close`): its `.runsheet/` folder, roles, calendar and policy, and
/// who acts with which key. A rule file that cannot be read stops the act (exit 2).
struct RepositoryRules {
    /// The `.runsheet/` folder.
    var folder: String
    var governance: Governance
    /// A path at the repository's root that rule files and allowed signers are found from, as for a runbook there.
    var anchor: String

    /// `hint` says how to point the act at the right folder when no roles file is found.
    static func load(from directory: String, act: String, hint: String = "run it inside the repository") throws -> RepositoryRules {
        guard let folder = GovernanceLog.ruleFolder(from: directory) else {
            throw CommandFailure(status: .usage, message: "no \(RolesFile.relativePath) was found from \(directory.shown) up to the repository's root, and \(act) needs the roles file that says who may; \(hint) (docs/FORMAT.md, \"The roles file\")")
        }
        let anchor = (folder as NSString).deletingLastPathComponent + "/.runsheet-rules.md"
        let runbook = Compiler().compile(path: anchor, bytes: Array("# Rules\n".utf8)).runbook
        return RepositoryRules(folder: folder, governance: try RunSupport.governance(for: runbook), anchor: anchor)
    }

    /// Refuses (exit 1) `act` (a lift, a closure, a PIR: what counts by the rules as committed at
    /// `HEAD`) in a repository Git cannot read (`GitReading`).
    func requireReadableGit(act: String) throws {
        let root = (folder as NSString).deletingLastPathComponent
        guard let why = GitReading.of(root.isEmpty ? "." : root).refusal else { return }
        throw CommandFailure(status: .findings, message: "\(act) is refused: \(why); nothing was written")
    }

    /// Who acts and with which key: with a key, the person the allowed signers name for it. Where
    /// the repository's policy requires signatures, acting without a key is refused (exit 1).
    func bind(_ claimed: Actor, explicit: String?, key: SigningKeyOption, act: String) throws -> (Actor, SSHKeygenSigner?) {
        let located = try SSHKeygenSigner.locate(explicit: key.keyPath, near: FileManager.default.currentDirectoryPath)
        let (actor, signer) = try SigningIdentity.bind(claimed, explicit: explicit, key: located, runbook: anchor)
        if signer == nil, Governance.requiresSignatures(governance.repositoryPolicy) {
            throw CommandFailure(status: .findings, message: "\(Policy.relativePath) requires signatures, so \(act) must be signed and nothing was written; sign with --key (or RUNSHEET_SIGNING_KEY)")
        }
        return (actor, signer)
    }

    /// Refuses (exit 1) someone who holds none of the calendar's exception roles.
    func requireExceptionRole(_ person: String, act: String) throws -> String {
        let roles = governance.exceptionRoles
        guard let file = governance.roles, let role = roles.first(where: { file.holds(person, $0) }) else {
            throw CommandFailure(status: .findings, message: "\(person.shown) holds none of \(roles.joined(separator: ", ")) in \(governance.roles?.path ?? RolesFile.relativePath), and only they may \(act); nothing was written")
        }
        return role
    }

    /// Text given with `option`, refused (exit 2) when blank or holding a control character.
    static func text(_ text: String?, option: String, required what: String?) throws -> String? {
        guard let text = text?.trimmed, !text.isEmpty else {
            if let what { throw CommandFailure(status: .usage, message: "\(what) needs \(option) saying why, e.g. \(option) \"INC-2041: checkout errors\"; nothing was written") }
            return nil
        }
        if let refusal = TypedText.refusal(text, as: .text, what: "the text given with \(option)") {
            throw CommandFailure(status: .usage, message: refusal)
        }
        return text
    }

    var halts: HaltWatch { governance.haltWatch(folder: folder, signersNear: anchor) }
    /// The repository's identity (`RepositoryIdentity`) that its halts, lifts and closures carry.
    var identity: String? {
        let root = (folder as NSString).deletingLastPathComponent
        return RepositoryIdentity.of(directory: root.isEmpty ? "." : root)
    }
    /// The rule files this act is made under, as its record's `data.rules` (`CommittedRules`); nil outside Git.
    var recordedRules: JSONValue? {
        CommittedRules.recorded(governance.ruleFiles, folder: (folder as NSString).deletingLastPathComponent)
    }
    var haltLog: GovernanceLog { GovernanceLog(path: folder + "/" + Halt.fileName, name: "halts") }
}
