/// What an event says, typed: one case per `EventType`, each with its own `Codable` payload.
///
/// The wire form stays the event's `data` object, which the hash covers byte for byte, fields a
/// newer runsheet added included; a payload is read from it and written into it (through
/// `JSONValueDecoder` and `JSONValueEncoder`), so readers never look fields up by name.
public enum EventPayload: Sendable, Equatable {
    /// Boxed: its thirty fields would make every payload, and every event a fold hands on, some
    /// 450 bytes; a long run is nearly all commands, notes and steps, a third of that.
    indirect case runStarted(RunStarted)
    case runResumed(RunResumed)
    case runPaused(RunPaused)
    case runEnded(RunEnded)
    case stepStarted(StepStarted)
    case stepCompleted(StepCompleted)
    case stepSkipped(StepSkipped)
    case stepFailed(StepFailed)
    case commandFinished(CommandFinished)
    case note(NoteTaken)
    case branchTaken(BranchTaken)
    case cursorMoved(CursorMoved)
    case stepAdded(StepAdded)
    case signOff(SignOffSigned)
    case signOffRejected(SignOffRejected)
    case exceptionGranted(ExceptionGranted)
    case reviewSigned(ReviewSigned)
    case stepForced(StepForced)
    case gateWaived(GateWaived)
    case runChanged(RunChanged)
    case commandStarted(CommandStarted)
    case commandResolved(CommandResolved)
    case lockTaken(LockTaken)
    case lockReleased(LockReleased)
    case journalSealed(JournalSealed)
    case notifyFailed(NotifyFailed)

    public var type: EventType {
        switch self {
        case .runStarted: .runStarted
        case .runResumed: .runResumed
        case .runPaused: .runPaused
        case .runEnded: .runEnded
        case .stepStarted: .stepStarted
        case .stepCompleted: .stepCompleted
        case .stepSkipped: .stepSkipped
        case .stepFailed: .stepFailed
        case .commandFinished: .commandFinished
        case .note: .note
        case .branchTaken: .branchTaken
        case .cursorMoved: .cursorMoved
        case .stepAdded: .stepAdded
        case .signOff: .signOff
        case .signOffRejected: .signOffRejected
        case .exceptionGranted: .exceptionGranted
        case .reviewSigned: .reviewSigned
        case .stepForced: .stepForced
        case .gateWaived: .gateWaived
        case .runChanged: .runChanged
        case .commandStarted: .commandStarted
        case .commandResolved: .commandResolved
        case .lockTaken: .lockTaken
        case .lockReleased: .lockReleased
        case .journalSealed: .journalSealed
        case .notifyFailed: .notifyFailed
        }
    }

    /// Reads `data` as the payload of a `type` event. Reading is lenient (see `JSONValueDecoder`),
    /// and no payload has a field that can make it throw; the error is only the decoder's contract.
    public init(type: EventType, data: [String: JSONValue]) throws {
        let object = JSONValue.object(data)
        func read<Payload: Decodable>(_ type: Payload.Type) throws -> Payload { try JSONValueDecoder.decode(type, from: object) }
        // The same reading without `any Decoder`, for the payloads that can (see `FieldsDecodable`).
        func read<Payload: FieldsDecodable>(_ type: Payload.Type) throws -> Payload { try JSONValueDecoder.decode(type, fields: data) }
        switch type {
        case .runStarted: self = .runStarted(try read(RunStarted.self))
        case .runResumed: self = .runResumed(try read(RunResumed.self))
        case .runPaused: self = .runPaused(try read(RunPaused.self))
        case .runEnded: self = .runEnded(try read(RunEnded.self))
        case .stepStarted: self = .stepStarted(StepStarted())
        case .stepCompleted: self = .stepCompleted(try read(StepCompleted.self))
        case .stepSkipped: self = .stepSkipped(try read(StepSkipped.self))
        case .stepFailed: self = .stepFailed(try read(StepFailed.self))
        case .commandFinished: self = .commandFinished(try read(CommandFinished.self))
        case .note: self = .note(try read(NoteTaken.self))
        case .branchTaken: self = .branchTaken(try read(BranchTaken.self))
        case .cursorMoved: self = .cursorMoved(try read(CursorMoved.self))
        case .stepAdded: self = .stepAdded(try read(StepAdded.self))
        case .signOff: self = .signOff(try read(SignOffSigned.self))
        case .signOffRejected: self = .signOffRejected(try read(SignOffRejected.self))
        case .exceptionGranted: self = .exceptionGranted(try read(ExceptionGranted.self))
        case .reviewSigned: self = .reviewSigned(try read(ReviewSigned.self))
        case .stepForced: self = .stepForced(try read(StepForced.self))
        case .gateWaived: self = .gateWaived(try read(GateWaived.self))
        case .runChanged: self = .runChanged(try read(RunChanged.self))
        case .commandStarted: self = .commandStarted(try read(CommandStarted.self))
        case .commandResolved: self = .commandResolved(try read(CommandResolved.self))
        case .lockTaken: self = .lockTaken(try read(LockTaken.self))
        case .lockReleased: self = .lockReleased(try read(LockReleased.self))
        case .journalSealed: self = .journalSealed(try read(JournalSealed.self))
        case .notifyFailed: self = .notifyFailed(try read(NotifyFailed.self))
        }
    }

    /// The `data` object the payload is written as.
    public func data() throws -> [String: JSONValue] {
        let value: JSONValue
        switch self {
        case .runStarted(let payload): value = try JSONValueEncoder.encode(payload)
        case .runResumed(let payload): value = try JSONValueEncoder.encode(payload)
        case .runPaused(let payload): value = try JSONValueEncoder.encode(payload)
        case .runEnded(let payload): value = try JSONValueEncoder.encode(payload)
        case .stepStarted(let payload): value = try JSONValueEncoder.encode(payload)
        case .stepCompleted(let payload): value = try JSONValueEncoder.encode(payload)
        case .stepSkipped(let payload): value = try JSONValueEncoder.encode(payload)
        case .stepFailed(let payload): value = try JSONValueEncoder.encode(payload)
        case .commandFinished(let payload): value = try JSONValueEncoder.encode(payload)
        case .note(let payload): value = try JSONValueEncoder.encode(payload)
        case .branchTaken(let payload): value = try JSONValueEncoder.encode(payload)
        case .cursorMoved(let payload): value = try JSONValueEncoder.encode(payload)
        case .stepAdded(let payload): value = try JSONValueEncoder.encode(payload)
        case .signOff(let payload): value = try JSONValueEncoder.encode(payload)
        case .signOffRejected(let payload): value = try JSONValueEncoder.encode(payload)
        case .exceptionGranted(let payload): value = try JSONValueEncoder.encode(payload)
        case .reviewSigned(let payload): value = try JSONValueEncoder.encode(payload)
        case .stepForced(let payload): value = try JSONValueEncoder.encode(payload)
        case .gateWaived(let payload): value = try JSONValueEncoder.encode(payload)
        case .runChanged(let payload): value = try JSONValueEncoder.encode(payload)
        case .commandStarted(let payload): value = try JSONValueEncoder.encode(payload)
        case .commandResolved(let payload): value = try JSONValueEncoder.encode(payload)
        case .lockTaken(let payload): value = try JSONValueEncoder.encode(payload)
        case .lockReleased(let payload): value = try JSONValueEncoder.encode(payload)
        case .journalSealed(let payload): value = try JSONValueEncoder.encode(payload)
        case .notifyFailed(let payload): value = try JSONValueEncoder.encode(payload)
        }
        return value.object ?? [:]
    }
}

extension RunEvent {
    /// An event to append (seq, prev and hash are filled in when it is sealed), its `type` and
    /// `data` written from `payload`.
    public init(time: String = Timestamp.now(), by actor: Actor, step: String? = nil, _ payload: EventPayload) throws {
        self.init(seq: 0, time: time, type: payload.type, actor: actor.name, host: actor.host, via: actor.via, step: step,
                  data: try payload.data(), canonical: actor.canonical, uid: actor.uid, login: actor.login)
    }

    /// What the event says, read from `data`.
    public func payload() throws -> EventPayload {
        try EventPayload(type: type, data: data)
    }
}
