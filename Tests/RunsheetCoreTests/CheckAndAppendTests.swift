import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Issue 13, item 2, through the API every writer uses (`JournalFile.append`): an event that no
/// longer applies to the run as its journal stands is refused under the lock and never written.
@Suite struct CheckAndAppendTests {
    static let time = "2026-11-22T04:55:01.123Z"

    static func event(_ type: EventType, by actor: String = "alice", step: String? = nil, _ data: [String: JSONValue] = [:]) -> RunEvent {
        RunEvent(seq: 0, time: time, type: type, actor: actor, host: "ops-1", via: "script", step: step, data: data)
    }

    static func signature(by signer: String) -> RunEvent {
        event(.signOff, by: signer, step: "approve", ["role": "sre", "stepHash": "0123456789abcdef", "sha256": "aa"])
    }

    /// A journal of a run standing at its gate `approve`.
    static func journal() throws -> String {
        let path = try Fixtures.temporaryDirectory("check-append").appendingPathComponent("journal.jsonl").path
        try JournalFile.create(at: path, first: event(.runStarted, ["schema": .string(RunEvent.schema), "runId": "r1", "start": "approve"]))
        let file = try JournalFile(path: path)
        try file.append(event(.stepStarted, step: "approve"))
        return path
    }

    static func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    /// The sentence an append was refused with; nil when it was written.
    static func refusal(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let refusal as AppendRefusal {
            return refusal.reason
        } catch {
            return "not a refusal: \(error)"
        }
    }

    @Test func aHandForgedSecondRunEndedIsRefused() throws {
        let path = try Self.journal()
        try JournalFile(path: path).append(Self.event(.runEnded, ["outcome": "aborted", "reason": "cancelled"]))
        let ended = try Self.bytes(path)
        let forged = Self.refusal { try JournalFile(path: path).append(Self.event(.runEnded, ["outcome": "completed"])) }
        #expect(forged?.hasPrefix("run r1 has already ended (aborted at ") == true, "\(forged ?? "written")")
        #expect(forged?.contains("a run.ended event may not follow run.ended (only journal.sealed, notify.failed, review.signed may), so nothing was written") == true)
        // Nothing that drives the run follows it either: a step, a sign-off, a note, a parameter change.
        for driving in [Self.event(.stepCompleted, step: "approve"), Self.signature(by: "bob"), Self.event(.note, ["text": "late"]),
                        Self.event(.runChanged, ["plan": "p2"]), Self.event(.runResumed, ["sha256": "aa"])] {
            #expect(Self.refusal { try JournalFile(path: path).append(driving) }?.contains("may not follow run.ended") == true, "\(driving.type)")
        }
        #expect(try Self.bytes(path) == ended)
        // A follow-up review is said about the run afterwards, and is written.
        #expect(try JournalFile(path: path).append(Self.event(.reviewSigned, by: "carol", ["role": "cab", "comment": "PIR held"])).seq == 4)
        #expect(try JournalVerifier.verify(path: path).isIntact)
    }

    /// A writer whose view of the run is stale is checked against the head, which another writer
    /// moved: the same person (in another spelling) signing twice, and a step after the run ended.
    @Test func aStaleViewIsCheckedAgainstTheHead() throws {
        let path = try Self.journal()
        let mine = try JournalFile(path: path)
        var view = try JournalFile.state(at: path).state
        try JournalFile(path: path).append(Self.signature(by: "bob"))
        let signedOnce = try Self.bytes(path)
        let again = Self.refusal { try mine.append(Self.signature(by: "Bob"), onto: &view) }
        #expect(again == "Bob has already signed gate 'approve' (signed by bob at \(Self.time)); one person signs a gate once, so nothing was written")
        #expect(view.signatures["approve"]?.map(\.signer) == ["bob"], "the view caught up with the head")
        #expect(try Self.bytes(path) == signedOnce)
        // The caller's own rule sees the head too.
        let checked = Self.refusal {
            try mine.append(Self.signature(by: "carol"), onto: &view) { head in
                if head.signatures["approve"]?.isEmpty == false { throw AppendRefusal("the gate is met") }
            }
        }
        #expect(checked == "the gate is met")

        try JournalFile(path: path).append(Self.event(.runEnded, ["outcome": "aborted"]))
        var stale = view
        #expect(Self.refusal { try mine.append(Self.event(.stepCompleted, step: "approve"), onto: &stale) }?.contains("has already ended") == true)
        #expect(stale.outcome == .aborted)
        #expect(try JournalVerifier.verify(path: path).eventCount == 4)
    }

    /// A step event is about the step the run is on: one the run has left is refused.
    @Test func aStepTheRunHasLeftIsRefused() throws {
        let path = try Self.journal()
        let file = try JournalFile(path: path)
        try file.append(Self.event(.stepCompleted, step: "approve", ["next": "deploy"]))
        let twice = Self.refusal { try JournalFile(path: path).append(Self.event(.stepCompleted, step: "approve", ["next": "deploy"])) }
        #expect(twice?.hasPrefix("step 'approve' was already done by alice at \(Self.time) and the run is on 'deploy'") == true, "\(twice ?? "written")")
        #expect(Self.refusal { try file.append(Self.event(.stepStarted, step: "deploy")) } == nil)
    }
}
