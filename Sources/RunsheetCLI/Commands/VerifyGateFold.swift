import Foundation
import RunsheetCore

/// `verify`'s one fold of the journal, with the gate check (`VerifyGates`) judged as it goes: each
/// completion of a gate of the runbook as it is now is judged on the run just before it, so no
/// second fold replays the journal. The runbook is compiled at the first step recorded done, not
/// before; Git is asked (`git show` of the runbook and the rule files at the recorded commit) only
/// once a gate completion is found that the rule files as they are now did not allow.
struct VerifyGateFold {
    private let events: [RunEvent]
    private let runDirectory: String
    /// The runbook as it is now, read at the first completion (nil inside when it cannot be read).
    private var now: VerifyGates.RunbookNow??
    private var gates: Set<String> = []
    private var governance: Governance?
    private var completions = false
    private var unmet: [VerifyGates.Unmet] = []

    init(events: [RunEvent], runDirectory: String) {
        self.events = events
        self.runDirectory = runDirectory
    }

    /// The run's state, folded once, every gate completion judged on the way.
    mutating func fold() -> RunState {
        var state = RunState()
        // By index: `for event in events` copies every event (a retain of each of its fields) first.
        for index in events.indices {
            let type = events[index].type  // one field: a copy of the event would retain all of them
            if index > 0, type == .stepCompleted || type == .stepForced { judge(index, before: state) }
            state.apply(events[index])
        }
        return state
    }

    private mutating func judge(_ index: Int, before state: RunState) {
        guard UnapprovedGates.isCompletion(events[index]) else { return }
        completions = true
        if now == nil {
            now = .some(VerifyGates.runbookNow(of: state, runDirectory: runDirectory))
            gates = (now ?? nil)?.runbook.map(UnapprovedGates.gateIDs(of:)) ?? []
        }
        guard let runbook = (now ?? nil)?.runbook, UnapprovedGates.isCompletion(events[index], ofOneOf: gates) else { return }
        let governance = self.governance ?? VerifyGates.signersHoldingRoles(Governance.load(for: runbook).0, events)
        self.governance = governance
        if let finding = UnapprovedGates.finding(for: events[index], before: state, runbook: runbook, governance: governance) {
            unmet.append(VerifyGates.Unmet(finding: finding, index: index, before: state))
        }
    }

    /// What `VerifyGates.findings` finds for the run `state` (this fold's result): from the fold
    /// when the runbook as it is now is the first the check counts, else by `findings` itself.
    func findings(after state: RunState) -> [UnapprovedGates.Finding] {
        guard completions else { return [] }  // no step recorded done: no runbook could count one
        guard let now = now ?? nil, now.isFirst(for: state) else {
            return VerifyGates.findings(state, events: events, runDirectory: runDirectory)
        }
        guard !unmet.isEmpty, let governance else { return [] }
        // `isFirst`: the runbook these completions were judged under is the first of the list.
        let runbooks = VerifyGates.runbooks(of: state, runDirectory: runDirectory, now: .some(now))
        return VerifyGates.confirmed(unmet, runbooks: runbooks, governance: governance, state: state, events: events)
    }
}
