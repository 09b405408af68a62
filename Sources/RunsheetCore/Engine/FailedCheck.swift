import Foundation

/// Where a choice at an open step would take the run.
public enum Destination: Sendable, Equatable {
    /// The step the run would stand on next; `section` is set when the way there enters a branch
    /// section (a rollback), to be named with it.
    case step(id: String, section: String?)
    /// The run would end, with this outcome.
    case ends(RunState.Outcome)
}

extension RunState.StepRecord {
    /// The step's commands ran and did not pass, and the step is still open: a person decides
    /// what happens to it (run again, skip, done anyway, fail, abort). Nothing new is recorded for
    /// it: the last `command.finished` with `passed: false` and no settling event say it.
    public var failedCheck: RunState.CommandRecord? {
        guard status == .active, unfinished == nil, let last = commands.last, !last.passed else { return nil }
        return last
    }
}

extension RunState.CommandRecord {
    /// "command 1 exited 1 (attempt 3)", as screens, `status` and reports say it.
    public var failureSummary: String {
        let how = timedOut ? "timed out" : interrupted ? "was interrupted" : exitCode.map { "exited \($0)" } ?? "was killed"
        return "command \(index) \(how)" + (attempt > 1 ? " (attempt \(attempt))" : "")
    }
}

extension RunEngine {
    /// The failed check of the current step, when its commands did not pass and it is still open.
    public var failedCheck: RunState.CommandRecord? {
        guard !state.finished, let step = currentStep else { return nil }
        return state.record(step.id).failedCheck
    }

    /// Whether a failure of `step` is followed by the runbook on its own: it names a failure branch
    /// (a section link, its own or its section's) or says `continue`. Otherwise a failed check
    /// leaves the step open for a person to decide, rather than ending the run.
    public func followsFailureByItself(_ step: Step) -> Bool {
        if case .ends = failureDestination(step) { return false }
        return true
    }

    /// Where failing the current step leads: its failure branch, the next step under
    /// `On failure: continue`, or the end of the run as failed (mirrors `fail`).
    public func failureDestination(_ step: Step) -> Destination {
        if applies(step), continuesOnFailure(step),
           !GateStatus.evaluate(step: step, state: state, runbook: runbook, governance: governance).satisfied {
            return .ends(.failed)
        }
        guard let target = failureTarget[step.id] ?? nil else {
            return continuesOnFailure(step) ? landing(nil, settling: step.id, as: .failed) : .ends(.failed)
        }
        return landing(target, settling: step.id, as: .failed)
    }

    /// Where done (forced or not) or skip of `step` leads: the step after it the run would stand on.
    public func successDestination(_ step: Step, as status: RunState.StepStatus = .done, forced: Bool = false) -> Destination {
        landing(successor[step.id] ?? nil, settling: step.id, as: status, forced: forced)
    }

    /// The step the run would stand on after moving to `target` (steps whose condition does not
    /// hold and gates the class policy does not apply are passed, as `arrive` passes them), or the
    /// end with the outcome the run would get once `step` is settled `as` given.
    func landing(_ target: String?, settling step: String, as status: RunState.StepStatus, forced: Bool = false) -> Destination {
        var target = target
        var seen: Set<String> = []
        while let id = target, let index = stepIndex[id], seen.insert(id).inserted {
            let candidate = runbook.steps[index]
            let conditionFails = candidate.when.map { !$0.holds(in: conditionValues) } ?? false
            if conditionFails || (candidate.isGate && !classPolicy.applies(to: candidate)) {
                target = successor[id] ?? nil
                continue
            }
            let from = stepIndex[step].flatMap { self.section(of: runbook.steps[$0])?.id }
            let section = self.section(of: candidate).flatMap { $0.branch && $0.id != from ? $0.title : nil }
            return .step(id: id, section: section)
        }
        return .ends(endingOutcome(settling: step, as: status, forced: forced))
    }

    /// The outcome `arrive(at: nil)` would record once `step` is settled `as` given.
    func endingOutcome(settling step: String, as status: RunState.StepStatus, forced: Bool) -> RunState.Outcome {
        guard state.branch == "failure" else { return state.branch == "reject" ? .aborted : .completed }
        var ids = rollbackSteps()
        if !ids.contains(step) { ids.append(step) }
        var anyDone = false
        for id in ids {
            var record = state.record(id)
            if id == step {
                record.status = status
                record.forced = forced
                record.automatic = false
            }
            if record.forced || record.status == .failed || (record.status == .skipped && !record.automatic)
                || record.status == .pending || record.status == .active {
                return .failed
            }
            if record.status == .done { anyDone = true }
        }
        return anyDone ? .rolledBack : .failed
    }

    /// The title of step `id` as the operator sees it (placeholders filled, secrets masked).
    public func shownTitle(_ id: String) -> String {
        stepIndex[id].map { displayText(runbook.steps[$0].title) } ?? id
    }
}
