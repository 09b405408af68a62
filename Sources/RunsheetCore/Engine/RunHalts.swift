import Foundation

extension RunEngine {
    /// What halts the current step now (a halt, or a halts file that does not verify); nil when nothing.
    public func haltBlock(at date: Date = Date()) -> HaltBlock? {
        guard let step = currentStep, !state.finished else { return nil }
        return governance.haltBlock(for: step, in: runbook, state: state, at: date)
    }

    /// Refuses to start a production step a halt stops, whatever the way in (done, run, a forced
    /// done, after a skip and back, after a goto): recorded as a note on the step, once per halt.
    func requireNoHalt(_ step: Step) throws {
        try requireNoItemHolder(step)
        // Read now: a store's halts are not taken from a copy a moment old when a step starts.
        guard let block = governance.haltBlock(for: step, in: runbook, state: state, at: Date(), fresh: true) else {
            if let excused = governance.excusedStoreBlock(for: step, in: runbook, state: state, at: Date()) { noteHalt(excused, step: step.id, prefix: "") }
            return
        }
        let sentence = block.sentence(roles: governance.exceptionRoles)
        noteHalt(sentence, step: step.id)
        throw RunError.halted(step: step.id, sentence)
    }

    /// Records on the step that a halt blocked it, unless its last note already says so.
    public func noteHalt(_ sentence: String, step: String, prefix: String = "blocked: ") {
        let text = prefix + sentence
        guard state.record(step).notes.last?.text != text else { return }
        _ = try? record(.note(NoteTaken(text: text)), step: step)
    }
}
