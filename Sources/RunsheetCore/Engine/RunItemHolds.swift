import Foundation

extension RunEngine {
    /// Refuses to start a production step while an open run started before this one changes one
    /// of its configuration items, whatever the way in: the check made at the start, made again,
    /// since the other run's runbook may have been edited for a moment to get past it. Recorded
    /// as a note on the step, once.
    func requireNoItemHolder(_ step: Step) throws {
        guard step.production || runbook.production, !state.finished, let itemHolder, let sentence = itemHolder(state) else { return }
        noteHalt(sentence, step: step.id)
        throw RunError.itemHeld(step: step.id, sentence)
    }
}
