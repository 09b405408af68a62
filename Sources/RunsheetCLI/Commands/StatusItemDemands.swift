import Foundation
import RunsheetCore

/// What `status RUN` shows of the policy's `criticality` rule: which configuration items the
/// run changes that raise its gates (more approvers, the item owner's sign-off), and what the
/// gate the run is at still needs under the raised rule. From the runbook and rules as they are
/// now, as the session decides the gate; nothing when the run has ended or its runbook does not compile.
enum StatusItemDemands {
    static func lines(_ state: RunState, directory: String) -> [String] {
        let path = RunSupport.runbookPath(of: state, runDirectory: directory)
        guard !state.finished, let bytes = try? FileReader.read(path) else { return [] }
        let result = Compiler().compile(path: path, bytes: bytes)
        guard !result.hasErrors else { return [] }
        var runbook = result.runbook
        runbook.releaseClass = state.releaseClass
        let governance = Governance.load(for: runbook).0
        let policy = governance.policy[state.releaseClass]
        guard let demands = policy.demands, !demands.isEmpty else { return [] }
        var lines: [String] = []
        let items = runbook.touchedComponents.compactMap { name in governance.inventory?.item(name) }
            .filter { governance.policy.criticality[$0.criticality] != nil }
            .map { "\($0.name) (\($0.criticality.rawValue))" }
        var adds: [String] = []
        if demands.extraApprovers > 0 { adds.append("\(demands.extraApprovers) more approver\(demands.extraApprovers == 1 ? "" : "s") on each sign-off line") }
        for owner in demands.owners { adds.append("a sign-off by \(owner.role), owner of \(owner.items.joined(separator: ", "))") }
        lines.append("items    \(items.joined(separator: ", ").shown): under \(Policy.relativePath)'s criticality rule every gate needs \(adds.joined(separator: " and ").shown)")
        guard let cursor = state.cursor, let step = runbook.step(cursor), step.isGate, policy.applies(to: step) else { return lines }
        let status = GateStatus.evaluate(step: step, state: state, runbook: runbook, governance: governance)
        let rule = SignOffRule.summary(policy.rules(for: step))
        let needs = status.satisfied ? "its rule is met" : status.missing.isEmpty ? "it is rejected" : "it still needs " + status.missing.joined(separator: " and ")
        lines.append("gate     \(step.id.shown) needs \(rule.shown) (the runbook asks \(SignOffRule.summary(step.signOffs).shown)); \(needs.shown)")
        return lines
    }
}
