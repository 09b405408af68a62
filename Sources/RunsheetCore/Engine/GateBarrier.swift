import Foundation

/// Which steps the run may be on while some gates are not approved.
///
/// A step is within reach when a path through the runbook's graph leads from its start to the
/// step without leaving a gate whose rule is not met by its success side (`next` and `Next:`).
/// A gate that is not approved is left only by the branch of what happened to it: `On reject`
/// once it was rejected, `On failure` once it failed (timed out, or failed by the operator). Every move of the run (done, skip,
/// fail, forced done, back, goto, and resume of a run whose cursor stands past a gate) is checked
/// against this, so no action or order of actions reaches a step behind an open gate.
extension RunEngine {
    /// Whether a gate holds the run under this run's class and values: the class policy applies it
    /// and its condition holds.
    public func applies(_ gate: Step) -> Bool {
        guard gate.isGate, classPolicy.applies(to: gate) else { return false }
        return gate.when?.holds(in: conditionValues) ?? true
    }

    /// The applicable gate, reachable from the start, that stands between the start and `target`
    /// (nil: the end of the run), or nil when `target` is within reach. A step the graph does not
    /// reach even with every gate open (an appendix nothing links to) is behind no gate.
    public func barrier(before target: String?) -> Step? {
        let gated = reach(respectingGates: true)
        if gated.closed.isEmpty { return nil }
        if let target {
            if gated.steps.contains(target) || !reach(respectingGates: false).steps.contains(target) { return nil }
        } else if gated.end {
            return nil
        }
        return gated.closed.first
    }

    /// The steps (and whether the end) a walk from the start reaches, and the gates it found
    /// closed; with `respectingGates` false every gate is taken as open.
    private func reach(respectingGates: Bool) -> (steps: Set<String>, end: Bool, closed: [Step]) {
        guard let start = runbook.start ?? runbook.steps.first?.id else { return ([], true, []) }
        var queue = [start]
        var seen: Set<String> = [start]
        var end = false
        var closed: [Step] = []
        var index = 0
        while index < queue.count {
            let id = queue[index]
            index += 1
            guard let position = stepIndex[id] else { continue }
            let step = runbook.steps[position]
            var targets: [String?] = []
            let rejects = (rejectTarget[id] ?? nil).map { [$0] } ?? []
            if respectingGates, applies(step),
               case let status = GateStatus.evaluate(step: step, state: state, runbook: runbook, governance: governance), !status.satisfied {
                // A closed gate is left only by the branch of what happened to it: On reject once
                // rejected, On failure once it failed (timed out, or failed by the operator).
                closed.append(step)
                if status.rejection != nil { targets += rejects }
                if state.record(id).status == .failed, let failure = failureTarget[id], let failure { targets.append(failure) }
            } else {
                targets.append(successor[id] ?? nil)
                if let failure = failureTarget[id], let failure { targets.append(failure) }
                targets += rejects
            }
            for next in targets {
                guard let next else {
                    end = true
                    continue
                }
                if seen.insert(next).inserted { queue.append(next) }
            }
        }
        return (seen, end, closed)
    }

    /// Refuses a move to `target` (nil: the end of the run) that would pass a gate whose rule is not met.
    func requireWithinReach(_ target: String?, action: String) throws {
        guard let gate = barrier(before: target) else { return }
        let status = GateStatus.evaluate(step: gate, state: state, runbook: runbook, governance: governance)
        throw RunError.pastGate(action: action, target: target, gate: gate.id, run: state.runID,
                                needs: status.rejection.map { "was rejected by \($0.signer)" }
                                    ?? "still needs " + status.missing.joined(separator: " and "),
                                atGate: state.cursor == gate.id)
    }

    /// Refuses to write an event of a newer journal format than the run started with.
    func requireFormat(_ minor: Int, for what: String) throws {
        guard state.format < JournalFormat(major: 1, minor: minor) else { return }
        throw RunError.olderJournal(what: what, format: state.format.description)
    }
}
