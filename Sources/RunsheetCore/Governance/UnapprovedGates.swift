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
        var runbook = runbook
        var state = RunState()
        var findings: [Finding] = []
        for index in events.indices {
            let event = events[index]
            if event.type == .stepCompleted || event.type == .stepForced, let id = event.step, let step = runbook.step(id), step.isGate {
                if index == 0 { continue }
                runbook.releaseClass = state.releaseClass
                let status = GateStatus.evaluate(step: step, state: state, runbook: runbook, governance: governance)
                if !status.satisfied {
                    let needed = status.rejection.map { "it was rejected by \($0.signer)" }
                        ?? "it still needed " + status.missing.joined(separator: " and ")
                    findings.append(Finding(step: id, seq: event.seq, actor: event.actor, needed: needed))
                }
            }
            state.apply(event)
        }
        return findings
    }

    /// One sentence for a finding.
    public static func describe(_ finding: Finding) -> String {
        "gate '\(finding.step)' is recorded done (event \(finding.seq), by \(finding.actor)) without the sign-offs its rule needs: \(finding.needed)"
    }
}
