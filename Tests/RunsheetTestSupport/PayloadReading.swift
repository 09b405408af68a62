import RunsheetCore
import Testing

/// The two ways an event's payload is read: the fold's, `EventPayload(type:data:)`, which hands
/// most payloads `JSONValueDecoder`'s keyed container directly, and the generic one through
/// `any Decoder`, the way `JSONDecoder` and every other decoder reach a payload. They must agree.
public enum PayloadReading {
    /// `data` read as the payload of a `type` event through `any Decoder`.
    public static func throughDecoder(_ type: EventType, _ data: [String: JSONValue]) throws -> EventPayload {
        func read<Payload: Decodable>(_: Payload.Type) throws -> Payload { try JSONValueDecoder.decode(Payload.self, from: .object(data)) }
        switch type {
        case .runStarted: return .runStarted(try read(RunStarted.self))
        case .runResumed: return .runResumed(try read(RunResumed.self))
        case .runPaused: return .runPaused(try read(RunPaused.self))
        case .runEnded: return .runEnded(try read(RunEnded.self))
        case .stepStarted: return .stepStarted(try read(StepStarted.self))
        case .stepCompleted: return .stepCompleted(try read(StepCompleted.self))
        case .stepSkipped: return .stepSkipped(try read(StepSkipped.self))
        case .stepFailed: return .stepFailed(try read(StepFailed.self))
        case .commandFinished: return .commandFinished(try read(CommandFinished.self))
        case .note: return .note(try read(NoteTaken.self))
        case .branchTaken: return .branchTaken(try read(BranchTaken.self))
        case .cursorMoved: return .cursorMoved(try read(CursorMoved.self))
        case .stepAdded: return .stepAdded(try read(StepAdded.self))
        case .signOff: return .signOff(try read(SignOffSigned.self))
        case .signOffRejected: return .signOffRejected(try read(SignOffRejected.self))
        case .exceptionGranted: return .exceptionGranted(try read(ExceptionGranted.self))
        case .reviewSigned: return .reviewSigned(try read(ReviewSigned.self))
        case .stepForced: return .stepForced(try read(StepForced.self))
        case .gateWaived: return .gateWaived(try read(GateWaived.self))
        case .runChanged: return .runChanged(try read(RunChanged.self))
        case .commandStarted: return .commandStarted(try read(CommandStarted.self))
        case .commandResolved: return .commandResolved(try read(CommandResolved.self))
        case .lockTaken: return .lockTaken(try read(LockTaken.self))
        case .lockReleased: return .lockReleased(try read(LockReleased.self))
        case .journalSealed: return .journalSealed(try read(JournalSealed.self))
        case .notifyFailed: return .notifyFailed(try read(NotifyFailed.self))
        }
    }

    /// Records an issue for each event whose payload the fold reads otherwise than `any Decoder` does.
    public static func expectAlike(_ events: [RunEvent], sourceLocation: SourceLocation = #_sourceLocation) throws {
        for event in events {
            #expect(try event.payload() == throughDecoder(event.type, event.data), "seq \(event.seq), \(event.type.rawValue): \(event.data)",
                    sourceLocation: sourceLocation)
        }
    }
}
