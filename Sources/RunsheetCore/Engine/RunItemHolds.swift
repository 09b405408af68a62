import Foundation
import Synchronization

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
    /// The answer is kept for 0.4 s for the same run, step and journal length: a redraw on each
    /// key does not read every journal of the runs folder again. Starting the step always asks afresh.
    public func itemHold(at now: Date = Date()) -> String? {
        guard let step = currentStep, step.production || runbook.production, !state.finished, let itemHolder else { return nil }
        let key = ItemHoldAnswer.Key(run: state.runID, step: step.id, events: state.eventCount)
        if let kept = Self.itemHoldAnswers.withLock({ $0[key] }), now.timeIntervalSince(kept.at) < 0.4, now >= kept.at { return kept.sentence }
        let sentence = itemHolder(state)
        Self.itemHoldAnswers.withLock { $0 = [key: ItemHoldAnswer(at: now, sentence: sentence)] }
        return sentence
    }

    private static let itemHoldAnswers = Mutex<[ItemHoldAnswer.Key: ItemHoldAnswer]>([:])
}

/// The last answer to "who holds this step's items", with when it was asked.
private struct ItemHoldAnswer {
    struct Key: Hashable { var run: String, step: String, events: Int }
    var at: Date
    var sentence: String?
}
