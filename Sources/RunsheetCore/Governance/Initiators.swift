import Foundation
import Yams

/// `initiators: [release-manager, sre]` under a class: only members of those roles (in the roles
/// file, names compared canonically) may start or resume a run of that class with production
/// steps. A runbook's front matter may narrow the list, never widen it: the repository is the floor.
extension ClassPolicy {
    /// Two layers' initiators: the roles both allow, when both say.
    static func narrowed(_ lower: [String]?, _ upper: [String]?) -> [String]? {
        guard let upper else { return lower }
        guard let lower else { return upper }
        return upper.filter(lower.contains)
    }

    /// Whether `candidate` (nil: anyone the roles file names) lets someone start whom `reference` does not.
    static func widens(_ candidate: [String]?, beyond reference: [String]?) -> Bool {
        guard let reference else { return false }
        guard let candidate else { return true }
        return !Set(candidate).isSubset(of: Set(reference))
    }

    /// `initiators: [ROLE, ...]` (or one role): a non-empty list of role names.
    static func parseInitiators(_ node: Node, releaseClass: String, problem: (Node, String) -> Void) -> [String]? {
        let items: [Node]
        if case .sequence(let list) = node { items = Array(list) } else { items = [node] }
        var roles: [String] = []
        for item in items {
            guard let role = item.string?.trimmed, !role.isEmpty, item.scalar != nil else {
                problem(item, "'initiators' under \(releaseClass) must be a list of role names, such as [release-manager, sre]")
                return nil
            }
            if !roles.contains(role) { roles.append(role) }
        }
        guard !roles.isEmpty else {
            problem(node, "'initiators' under \(releaseClass) names no role; leave it out to let anyone the roles file names start runs")
            return nil
        }
        return roles
    }
}

/// Where `initiators` roles were written, so `check` can point at an unknown one. Where a rule was
/// written is not part of the rule: two policies that differ only here are equal.
public struct InitiatorMarks: Sendable, Equatable {
    /// The policy file's path; nil for a runbook's front matter.
    public var path: String?
    var marks: [ReleaseClass: [(role: String, line: Int, column: Int)]] = [:]

    public init() {}

    var isEmpty: Bool { marks.isEmpty }

    mutating func record(_ releaseClass: ReleaseClass, _ node: Node) {
        let items: [Node]
        if case .sequence(let list) = node { items = Array(list) } else { items = [node] }
        marks[releaseClass] = items.compactMap { item in
            item.string.map { ($0.trimmed, item.mark?.line ?? 1, item.mark?.column ?? 1) }
        }
    }

    /// Each role written under `initiators` that `known` does not hold, with its position.
    func unknown(in known: Set<String>) -> [(releaseClass: ReleaseClass, role: String, line: Int, column: Int)] {
        ReleaseClass.allCases.flatMap { releaseClass in
            (marks[releaseClass] ?? []).filter { !known.contains($0.role) }.map { (releaseClass: releaseClass, role: $0.role, line: $0.line, column: $0.column) }
        }
    }

    public static func == (_: InitiatorMarks, _: InitiatorMarks) -> Bool { true }
}

/// A person refused because the class policy's `initiators` do not include a role they hold.
public struct InitiatorRefusal: Error, Equatable, LocalizedError {
    public var actor: String
    public var runbook: String
    public var releaseClass: String
    public var step: String
    public var roles: [String]
    /// Who holds those roles in the roles file, canonical duplicates removed.
    public var holders: [String]
    /// The run being resumed; nil at a start.
    public var run: String?

    public var errorDescription: String? {
        let act = run.map { "resume run \($0)" } ?? "start a run of \(runbook)"
        return "only \(IndefiniteArticle.roles(roles)) may \(act) under the \(releaseClass) class (\(Policy.relativePath), 'initiators'), " +
            "as step '\(step)' is a production change, and \(PersonName.shownWithCodePoints(actor)) holds none of those roles in \(RolesFile.relativePath) " +
            "(\(holders.isEmpty ? "nobody holds them" : "held by " + holders.map(PersonName.shownWithCodePoints).joined(separator: ", "))), so nothing was written"
    }
}

extension RunEngine {
    /// A run with production steps is started or resumed only by a member of one of its class's
    /// initiator roles, when the policy names them. With no roles file nobody holds them (fail closed).
    public static func requireInitiator(_ person: String, of runbook: Runbook, governance: Governance, resuming run: String? = nil) throws(InitiatorRefusal) {
        guard let roles = governance.policy[runbook.releaseClass].initiators,
              let first = runbook.steps.first(where: { runbook.production || $0.production }) else { return }
        if let file = governance.roles, roles.contains(where: { file.holds(person, $0) }) { return }
        var holders: [String] = []
        for holder in roles.flatMap({ governance.roles?.members[$0] ?? [] }) where !holders.contains(where: { PersonName.same($0, holder) }) {
            holders.append(holder)
        }
        throw InitiatorRefusal(actor: person, runbook: runbook.path, releaseClass: runbook.releaseClass.rawValue, step: first.id,
                               roles: roles, holders: holders, run: run)
    }
}
