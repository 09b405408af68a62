import Foundation

extension Lowering {
    /// Each `initiators` role, in `.runsheet/policy.yaml` or the front matter, that no roles file
    /// or front matter declares: an error where it is written, since nobody could hold it.
    mutating func checkInitiators(_ runbook: Runbook, governance: Governance, declared: Set<String>) {
        let known = governance.roles.map { Set($0.roles) } ?? declared
        if let repository = governance.repositoryPolicy, let path = repository.initiatorMarks.path {
            for mark in repository.initiatorMarks.unknown(in: known) {
                diagnostics.append(Diagnostic(.error, .undeclaredRole, Self.unknownInitiator(mark.role, mark.releaseClass, known: known),
                                              path: path, line: mark.line, column: mark.column))
            }
        }
        for (releaseClass, own) in runbook.policy.classes {
            for role in own.initiators ?? [] where !declared.contains(role) && !known.contains(role) {
                let (line, column) = front.policyKeys["\(releaseClass.rawValue).initiators"] ?? front.policyPosition
                report(.error, .undeclaredRole, Self.unknownInitiator(role, releaseClass, known: known.union(declared)), line: line, column: column)
            }
        }
    }

    static func unknownInitiator(_ role: String, _ releaseClass: ReleaseClass, known: Set<String>) -> String {
        let hint = known.isEmpty ? "declare it in \(RolesFile.relativePath)"
            : EditDistance.closest(to: role, in: known.sorted(), maximum: 2).map { "did you mean '\($0)'?" } ?? "roles are \(known.sorted().joined(separator: ", "))"
        return "the \(releaseClass.rawValue) policy's initiator role '\(role)' is not declared, so nobody could start such a run; \(hint)"
    }
}
