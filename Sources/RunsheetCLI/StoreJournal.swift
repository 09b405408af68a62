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
        let store = store, runID = runID, known = state.eventCount
        let lines: [[UInt8]]
        do {
            lines = try StoreAccess.wait(seconds: StoreRunSession.answerWithin, store: ConnectionSettings.redacted(url)) { try await RunStore.beginAppend(store, runID, after: known) }
        } catch is RunStore.RunPresence {
            throw CommandFailure(status: .usage, message: "the store \(ConnectionSettings.redacted(url)) holds no run '\(runID.shown)'")
        }
        let line: [UInt8], sealed: RunEvent
        do {
            // The events other writers appended since the caller read the run (the database kept their chain).
            for (offset, bytes) in lines.enumerated() {
                let next = try JSONDecoder().decode(RunEvent.self, from: Data(bytes))
                guard next.seq == known + offset + 1, next.prev == state.headHash || state.eventCount == 0 else {
                    throw CommandFailure(status: .findings, message: "run \(runID.shown) in the store does not continue from event \(known) as read; nothing was written")
                }
                state.apply(next)
            }
            if let refusal = state.refusal(of: event) { throw refusal }
            try check(state)
            sealed = try event.sealed(seq: state.eventCount + 1, after: state.headHash)
            line = Array(try sealed.canonicalJSON())
        } catch {
            _ = try? StoreAccess.wait(seconds: StoreRunSession.answerWithin, store: ConnectionSettings.redacted(url)) { await RunStore.abandonAppend(store) }
            throw error
        }
        try StoreAccess.wait(seconds: StoreRunSession.answerWithin, store: ConnectionSettings.redacted(url)) { try await RunStore.finishAppend(store, runID, line: line) }
        state.apply(sealed)
        return sealed
    }
}
