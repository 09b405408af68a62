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

extension RunEngine {
    /// The sentence naming the open run that holds one of the current production step's
    /// configuration items now, as the step's start would be refused; nil when none does. Asked
    /// by the waiting screen each time it looks again, so a hold and its release show within a second.
    public func itemHold() -> String? {
        guard let step = currentStep, step.production || runbook.production, !state.finished, let itemHolder else { return nil }
        return itemHolder(state)
    }
}
