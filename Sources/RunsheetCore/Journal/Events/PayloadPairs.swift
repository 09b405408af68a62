extension EventPayload {
    /// The payload of a `type` event read from the members of its `data` as a canonical line lists
    /// them (no key twice), without making the `data` dictionary: the same reading as
    /// `init(type:data:)` through the same container (`KeyedValues`), for the events a long run is
    /// made of. Nil for the other types, which are read from `data`; so are `run.started` and
    /// `run.resumed`, whose `data` the journal's checks read again (`SignedRecordCheck`).
    init?(type: EventType, pairs: [(key: String, value: JSONValue)]) {
        func read<Payload: FieldsDecodable>(_ type: Payload.Type) -> Payload? { try? JSONValueDecoder.decode(type, pairs: pairs) }
        switch type {
        case .stepStarted: self = .stepStarted(StepStarted())
        case .stepCompleted: guard let payload = read(StepCompleted.self) else { return nil }; self = .stepCompleted(payload)
        case .stepSkipped: guard let payload = read(StepSkipped.self) else { return nil }; self = .stepSkipped(payload)
        case .stepFailed: guard let payload = read(StepFailed.self) else { return nil }; self = .stepFailed(payload)
        case .commandFinished: guard let payload = read(CommandFinished.self) else { return nil }; self = .commandFinished(payload)
        case .note: guard let payload = read(NoteTaken.self) else { return nil }; self = .note(payload)
        case .branchTaken: guard let payload = read(BranchTaken.self) else { return nil }; self = .branchTaken(payload)
        case .runEnded: guard let payload = read(RunEnded.self) else { return nil }; self = .runEnded(payload)
        default: return nil
        }
    }
}
