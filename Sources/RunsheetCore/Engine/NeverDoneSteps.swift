import Foundation

extension RunState {
    /// What a report, `status` and `readiness` say of a step a completed run never settled.
    public static let neverDoneText = "NEVER DONE: the run ended without this step being done or skipped with a reason (it was moved past with goto)"

    /// The mark of a never-done step in `status`, reports, checklists and the step list: not ▶
    /// (the current step), nor · (a step ahead), nor – (a skip, which has a reason).
    public static let neverDoneMark = "⊘"

    /// The steps of `runbook` a completed run never settled: neither done, nor skipped (with a
    /// reason, or automatically), nor failed; the operator moved past them with `goto` and the run
    /// ended. A step of a branch section counts only when the run took a branch into that section:
    /// the sections entered only through a branch are not part of a run that took none.
    public func neverDone(in runbook: Runbook) -> [Step] {
        guard outcome == .completed else { return [] }
        return runbook.steps.filter { isNeverDone($0, in: runbook) }
    }

    /// Whether `step` is one of `neverDone(in: runbook)`, without looking at the other steps.
    public func isNeverDone(_ step: Step, in runbook: Runbook) -> Bool {
        guard outcome == .completed, stepHashes[step.id] != nil, record(step.id).status == .pending || record(step.id).status == .active else { return false }
        return !Self.inBranchSection(step, of: runbook)
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

/// A `cursor.moved` (`goto` or `back`) that took the run past or off a step before it was settled.
/// The fold keeps only where the cursor is; this is for saying which move left a step behind.
public struct MovedPast: Sendable, Equatable {
    public var seq: Int
    public var reason: String
    public var from: String
    public var to: String
    public var actor: String
    public var time: String
    /// True when the move went forward, over the step; false when it went back, off it.
    public var forward: Bool

    /// "goto from a to c (journal seq 7, by alice at T) moved the run past this step".
    public var text: String {
        "\(reason) from \(from) to \(to) (journal seq \(seq), by \(actor) at \(time)) moved the run \(forward ? "past" : "off") this step"
    }

    /// For each step of `runbook` the run (folded as `final`) left unsettled behind its cursor,
    /// the last move that did: a forward move passes the step it left and those between; a move
    /// back leaves the step it left, and puts the steps between ahead again. Steps settled since
    /// are left out. Folds the events again only when a step could be one: never done, or open
    /// while the cursor stands elsewhere after a move.
    public static func steps(events: [RunEvent], runbook: Runbook, final: RunState) -> [String: MovedPast] {
        // While the run is open: a step left active, or one not started before the cursor (outside
        // a branch section, which the run may never take).
        let here = final.cursor.flatMap { id in runbook.steps.firstIndex { $0.id == id } } ?? runbook.steps.count
        let candidates = final.finished ? Set(final.neverDone(in: runbook).map(\.id))
            : Set(runbook.steps.enumerated().lazy.filter { offset, step in
                let status = final.record(step.id).status
                return offset != here && (status == .active || status == .pending && offset < here && !RunState.inBranchSection(step, of: runbook))
            }.map(\.element.id))
        guard !candidates.isEmpty, events.contains(where: { $0.type == .cursorMoved }) else { return [:] }
        let index = Dictionary(runbook.steps.enumerated().map { ($0.element.id, $0.offset) }, uniquingKeysWith: { first, _ in first })
        var state = RunState()
        var passed: [String: MovedPast] = [:]
        // By index: `for event in events` copies every event first.
        for position in events.indices {
            let event = events[position]
            if event.type == .cursorMoved, case .cursorMoved(let moved)? = try? event.payload(),
               let from = state.cursor, let start = index[from], let end = index[moved.to], start != end {
                let move = MovedPast(seq: event.seq, reason: moved.reason, from: from, to: moved.to, actor: event.actor, time: event.time, forward: end > start)
                for offset in min(start, end)...max(start, end) {
                    let id = runbook.steps[offset].id
                    let left = move.forward ? offset < end : offset == start
                    // `gate` (resume taking the run back to a gate it stood past) passes nothing the walk does not come back to.
                    if left && moved.reason != "gate" && !state.record(id).status.isSettled { passed[id] = move } else { passed[id] = nil }
                }
            }
            state.apply(event)
        }
        return passed.filter { candidates.contains($0.key) }
    }
}
