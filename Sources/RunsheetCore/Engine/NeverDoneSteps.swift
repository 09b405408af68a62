import Foundation

extension RunState {
    /// What a report, `status` and `readiness` say of a step a completed run never settled.
    public static let neverDoneText = "NEVER DONE: the run ended without this step being done or skipped with a reason (it was moved past with goto)"

    /// The steps of `runbook` a completed run never settled: neither done, nor skipped (with a
    /// reason, or automatically), nor failed; the operator moved past them with `goto` and the run
    /// ended. A step of a branch section counts only when the run took a branch into that section:
    /// the sections entered only through a branch are not part of a run that took none.
    public func neverDone(in runbook: Runbook) -> [Step] {
        guard outcome == .completed else { return [] }
        return runbook.steps.filter { step in
            guard stepHashes[step.id] != nil, record(step.id).status == .pending || record(step.id).status == .active else { return false }
            return !Self.inBranchSection(step, of: runbook)
        }
    }

    static func inBranchSection(_ step: Step, of runbook: Runbook) -> Bool {
        var section = step.section.flatMap { id in runbook.sections.first { $0.id == id } }
        while let current = section {
            if current.branch { return true }
            section = current.parent.flatMap { id in runbook.sections.first { $0.id == id } }
        }
        return false
    }
}
