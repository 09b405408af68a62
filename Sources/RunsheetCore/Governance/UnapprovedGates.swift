import Foundation

/// Gates a journal records as done (`step.completed` or `step.forced`) although their rule was
/// not met at that point: counted as `resume` counts them (`GateStatus`, on the run as the
/// journal stood just before the completion), so a completion appended by hand, with the chain
/// recomputed, is found even when every hash and signature checks.
public enum UnapprovedGates {
    public struct Finding: Sendable, Equatable {
        public var step: String
        /// The sequence number of the event that recorded the gate done.
        public var seq: Int
        public var actor: String
        /// What the gate still needed then: "1 more of sre", or why it was rejected.
        public var needed: String
    }

    /// The completions of `runbook`'s gates in `events` that their rule did not allow.
    public static func find(events: [RunEvent], runbook: Runbook, governance: Governance) -> [Finding] {
        let gates = gateIDs(of: runbook)
        var state = RunState()
        var findings: [Finding] = []
        for index in events.indices {
            if index > 0, isCompletion(events[index], ofOneOf: gates),
               let finding = finding(for: events[index], before: state, runbook: runbook, governance: governance) {
                findings.append(finding)
            }
            state.apply(events[index])
        }
        return findings
    }

    /// Whether `event` records a step done (`step.completed`, `step.forced`): what this check
    /// judges when the step is a gate. The journal's first event is never judged (it starts the run).
    public static func isCompletion(_ event: RunEvent) -> Bool {
        (event.type == .stepCompleted || event.type == .stepForced) && event.step != nil
    }

    /// Whether `event` records done one of the steps `gates` names (`gateIDs`).
    public static func isCompletion(_ event: RunEvent, ofOneOf gates: Set<String>) -> Bool {
        isCompletion(event) && gates.contains(event.step ?? "")
    }

    /// The ids of `runbook`'s gates: the only steps whose completion this check can count.
    public static func gateIDs(of runbook: Runbook) -> Set<String> {
        Set(runbook.steps.lazy.filter(\.isGate).map(\.id))
    }

    /// The finding for `event`, a completion in a journal after its first event, judged on `state`,
    /// the run as the journal stood just before it; nil when it completes no gate of `runbook` or
    /// the gate's rule allowed it.
    public static func finding(for event: RunEvent, before state: RunState, runbook: Runbook, governance: Governance) -> Finding? {
        guard isCompletion(event), let id = event.step, let step = runbook.step(id), step.isGate else { return nil }
        var runbook = runbook
        runbook.releaseClass = state.releaseClass
        let status = GateStatus.evaluate(step: step, state: state, runbook: runbook, governance: governance)
        guard !status.satisfied else { return nil }
        let needed = status.rejection.map { "it was rejected by \($0.signer)" } ?? "it still needed " + status.missing.joined(separator: " and ")
        return Finding(step: id, seq: event.seq, actor: event.actor, needed: needed)
    }

    /// One sentence for a finding.
    public static func describe(_ finding: Finding) -> String {
        "gate '\(finding.step)' is recorded done (event \(finding.seq), by \(finding.actor)) without the sign-offs its rule needs: \(finding.needed)"
    }
}
