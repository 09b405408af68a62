import Foundation
import RunsheetCore
import RunsheetPostgres

/// A run's journal in the PostgreSQL store, for `sign` and `reject`: each append is one
/// transaction that holds the run's advisory lock, reads the events appended since the caller's
/// state, checks the event against the run as it now stands (`RunState.refusal(of:)`, then the
/// caller's check), inserts it and announces it on `runsheet_run` as it commits. The database
/// refuses an event whose actor is not the person mapped to the connecting user (docs/TEAMS.md).
final class StoreJournal: JournalWriter {
    let url: String
    let runID: String
    private let store: StoreConnection

    init(url: String, runID: String) throws {
        (self.url, self.runID) = (url, runID)
        store = try StoreAccess.open(url)
    }

    func close() {
        let store = store
        _ = try? StoreAccess.wait(seconds: 3, store: ConnectionSettings.redacted(url)) { await RunStore.close(store) }
    }

    func append(_ event: RunEvent) throws -> RunEvent {
        var state = RunState()
        return try append(event, onto: &state, check: { _ in })
    }

    func append(_ event: RunEvent, onto state: inout RunState, check: (RunState) throws -> Void) throws -> RunEvent {
        let store = store, runID = runID, shown = ConnectionSettings.redacted(url), within = StoreRunSession.answerWithin
        return try Self.append(event, onto: &state, check: check, runID: runID, shown: shown, begin: { known in
            do {
                return try StoreAccess.wait(seconds: within, store: shown) { try await RunStore.beginAppend(store, runID, after: known) }
            } catch is RunStore.RunPresence {
                throw CommandFailure(status: .usage, message: "the store \(shown) holds no run '\(runID.shown)'")
            }
        }, abandon: {
            _ = try? StoreAccess.wait(seconds: within, store: shown) { await RunStore.abandonAppend(store) }
        }, finish: { line, _ in
            try StoreAccess.wait(seconds: within, store: shown) { try await RunStore.finishAppend(store, runID, line: line) }
        })
    }

    /// The check-and-append every writer to the store makes (`sign`'s, a session's): `begin` opens
    /// the transaction and returns the lines appended since `state`, which are checked to follow
    /// it, handed to `took` and folded in; the event is checked against the run as it now stands,
    /// sealed onto its head and committed by `finish` (or, refused, `abandon` rolls back).
    static func append(_ event: RunEvent, onto state: inout RunState, check: (RunState) throws -> Void, runID: String, shown: String,
                       begin: (Int) throws -> [[UInt8]], took: ([UInt8], RunEvent) throws -> Void = { _, _ in },
                       abandon: () -> Void, finish: ([UInt8], RunEvent) throws -> Void) throws -> RunEvent {
        let known = state.eventCount
        let lines = try begin(known)
        let line: [UInt8], sealed: RunEvent
        do {
            // The events other writers appended since the caller read the run (the database kept their chain).
            for (offset, bytes) in lines.enumerated() {
                let next = try JSONDecoder().decode(RunEvent.self, from: Data(bytes))
                guard next.seq == known + offset + 1, next.prev == state.headHash || state.eventCount == 0 else {
                    throw CommandFailure(status: .findings, message: "run \(runID.shown) in the store \(shown) does not continue from event \(known) as read; nothing was written")
                }
                state.apply(next)
                try took(bytes, next)
            }
            if let refusal = state.refusal(of: event) { throw refusal }
            try check(state)
            sealed = try event.sealed(seq: state.eventCount + 1, after: state.headHash)
            line = Array(try sealed.canonicalJSON())
        } catch {
            abandon()
            throw error
        }
        try finish(line, sealed)
        state.apply(sealed)
        return sealed
    }
}
