import Foundation

/// A run under another class than its runbook declares (`run --class`). A class as strict or
/// stricter is always allowed; a less strict one needs the repository policy's `downgrade`
/// permission under the declared class, used by someone holding one of its roles.
public struct ClassChoice: Sendable, Equatable {
    public var declared: ReleaseClass
    public var chosen: ReleaseClass
    /// What the chosen class asks less of the runbook's gates than the declared one.
    public var relaxations: [PolicyFloor.Relaxation]
    /// The permission used, when there are relaxations.
    public var downgrade: RunStarted.Downgrade?

    /// Why a class cannot be chosen; each case reads as one sentence.
    public enum Refusal: Error, Equatable, LocalizedError {
        case notPermitted(ClassChoice, runbook: String)
        case notHolder(ClassChoice, runbook: String, actor: String, roles: [String], holders: [String])
        case noRolesFile(ClassChoice, runbook: String, actor: String, roles: [String])

        public var errorDescription: String? {
            switch self {
            case .notPermitted(let choice, let runbook):
                "\(choice.weaker(runbook)); \(Policy.relativePath) does not permit that, so the run was not started: " +
                    "add 'downgrade: {to: [\(choice.chosen.rawValue)], roles: [ROLE]}' under \(choice.declared.rawValue) there " +
                    "for the people who may choose it, or run it as \(choice.declared.rawValue)"
            case .notHolder(let choice, let runbook, let actor, let roles, let holders):
                "\(choice.weaker(runbook)); \(Policy.relativePath) lets only \(IndefiniteArticle.roles(roles)) choose it, " +
                    "and \(actor) holds none of those roles in \(RolesFile.relativePath), so the run was not started: " +
                    (holders.isEmpty ? "nobody holds them yet" : "ask \(holders.joined(separator: " or ")) to start it") +
                    ", or run it as \(choice.declared.rawValue)"
            case .noRolesFile(let choice, let runbook, let actor, let roles):
                "\(choice.weaker(runbook)); \(Policy.relativePath) lets only \(IndefiniteArticle.roles(roles)) choose it, " +
                    "and there is no \(RolesFile.relativePath) to show that \(actor) holds one, so the run was not started"
            }
        }
    }

    /// "--class standard asks less of deploy.md than its class normal (gate 'approve' is skipped)".
    func weaker(_ runbook: String) -> String {
        "--class \(chosen.rawValue) asks less of \(runbook) than its class \(declared.rawValue) (\(relaxations.map(\.phrase).joined(separator: "; ")))"
    }

    /// Decides whether `actor` may run `runbook` (compiled, with the class it declares) as `chosen`.
    /// Gates are compared as the run would walk them: the class policy in force, and each gate's
    /// `When` with the run's `values` and the class.
    public static func decide(runbook: Runbook, chosen: ReleaseClass, values: [String: String], governance: Governance,
                              actor: String) throws(Refusal) -> ClassChoice {
        let declared = runbook.releaseClass
        func walks(_ releaseClass: ReleaseClass) -> (Step) -> Bool {
            var conditionValues = values
            conditionValues["class"] = releaseClass.rawValue
            return { step in step.when?.holds(in: conditionValues) ?? true }
        }
        var choice = ClassChoice(declared: declared, chosen: chosen, relaxations: [])
        guard chosen != declared else { return choice }
        choice.relaxations = PolicyFloor.relaxations(
            of: governance.policy[chosen], against: governance.policy[declared], in: runbook,
            candidateWalks: walks(chosen), referenceWalks: walks(declared))
        guard !choice.relaxations.isEmpty else { return choice }
        // Only the repository's policy file can permit this; a runbook's own policy never counts.
        guard let permission = governance.repositoryPolicy?[declared].downgrade, permission.to.contains(chosen) else {
            throw .notPermitted(choice, runbook: runbook.path)
        }
        guard let roles = governance.roles else {
            throw .noRolesFile(choice, runbook: runbook.path, actor: actor, roles: permission.roles)
        }
        guard let role = permission.roles.first(where: { roles.holds(actor, $0) }) else {
            let holders = permission.roles.flatMap { roles.members[$0] ?? [] }
            var unique: [String] = []
            for person in holders where !unique.contains(where: { PersonName.same($0, person) }) { unique.append(person) }
            throw .notHolder(choice, runbook: runbook.path, actor: actor, roles: permission.roles, holders: unique)
        }
        choice.downgrade = RunStarted.Downgrade(to: permission.to.map(\.rawValue), roles: permission.roles, role: role)
        return choice
    }
}
