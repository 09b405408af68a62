import Foundation
import RunsheetCore
import RunsheetPostgres

/// A run's journal in the PostgreSQL store, for `sign` and `reject`: each append is checked
/// against the run as the caller read it and sent as one statement, which the database commits
/// only if the run's head is still the one checked against; if another writer's event landed
/// first, the events since are read, the act is checked again against the run as it now stands
/// (`RunState.refusal(of:)`, then the caller's check) and sent again. Committed events are
/// announced on `runsheet_run`. The database refuses an event whose actor is not the person mapped
/// to the connecting user (docs/TEAMS.md).
final class StoreJournal: JournalWriter {
    let url: String
    let runID: String
    let store: StoreConnection

    init(url: String, runID: String) throws {
        (self.url, self.runID) = (url, runID)
        store = try StoreAccess.open(url)
    }

    /// Over a connection already open to the store at `url`.
    init(store: StoreConnection, url: String, runID: String) {
        (self.store, self.url, self.runID) = (store, url, runID)
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
        return try Self.append(event, onto: &state, check: check, runID: runID, shown: shown, read: { known in
            do {
                return try StoreAccess.wait(seconds: within, store: shown) { try await RunStore.newLines(store, runID, after: known) }
            } catch is RunStore.RunPresence {
                throw CommandFailure(status: .usage, message: "the store \(shown) holds no run '\(runID.shown)'")
            }
        }, commit: { line, sealed in
            do {
                return try StoreAccess.wait(seconds: within, store: shown) { try await RunStore.append(store, runID, line: line) } == .committed
            } catch let failure as CommandFailure where failure.status == .store && !failure.message.contains("answered with an error") {
                // Sent, and no answer: the commit may have been made.
                throw CommandFailure(status: .store, message: "\(failure.message.hasSuffix(".") ? String(failure.message.dropLast()) : failure.message); " +
                                     "event \(sealed.seq) of run \(runID.shown), whose commit was asked for and not confirmed, may be there ('runsheet status \(runID)' shows it)")
            }
        })
    }

    /// How many times an append is sent again because others' events landed first, at most.
    static let attempts = 16

    /// The check-and-append every writer to the store makes (`sign`'s, a session's): the event is
    /// checked against `state` (`RunState.refusal(of:)`, then `check`), sealed onto its head and
    /// sent by `commit`, which returns false when the database refused it because the run's head
    /// had moved (nothing written). Then `read` returns the lines committed after `state`, which
    /// are checked to follow it, handed to `took` and folded in, and the event is checked, sealed
    /// and sent again, within `within` seconds and `attempts` tries. A refusal decided on `state`
    /// is decided again in the same way when the run has moved on since, so it always holds for
    /// the run as it stood.
    static func append(_ event: RunEvent, onto state: inout RunState, check: (RunState) throws -> Void, runID: String, shown: String,
                       within: Double = StoreRunSession.answerWithin,
                       read: (Int) throws -> [[UInt8]], took: ([UInt8], RunEvent) throws -> Void = { _, _ in },
                       commit: ([UInt8], RunEvent) throws -> Bool) throws -> RunEvent {
        let clock = ContinuousClock(), deadline = clock.now + .seconds(within)
        // Reads the lines others committed since `state` and folds them in; false when there were none.
        func catchUp() throws -> Bool {
            let known = state.eventCount
            let lines = try read(known)
            for (offset, bytes) in lines.enumerated() {
                let next = try JSONDecoder().decode(RunEvent.self, from: Data(bytes))
                guard next.seq == known + offset + 1, next.prev == state.headHash || state.eventCount == 0 else {
                    throw CommandFailure(status: .findings, message: "run \(runID.shown) in the store \(shown) does not continue from event \(known) as read; nothing was written")
                }
                state.apply(next)
                try took(bytes, next)
            }
            return !lines.isEmpty
        }
        // Whether `state` was just read from the store: a refusal decided on it is final.
        var current = false
        for attempt in 1...attempts {
            if attempt > 1 && clock.now >= deadline { break }
            let line: [UInt8], sealed: RunEvent
            do {
                if let refusal = state.refusal(of: event) { throw refusal }
                try check(state)
                sealed = try event.sealed(seq: state.eventCount + 1, after: state.headHash)
                line = Array(try sealed.canonicalJSON())
            } catch {
                // Refused on the run as the caller knew it: final if it was just read, or nothing landed since.
                guard !current, try catchUp() else { throw error }
                current = true
                continue
            }
            if try commit(line, sealed) {
                state.apply(sealed)
                return sealed
            }
            // Another writer's event landed first: nothing was written.
            guard try catchUp() else {
                throw CommandFailure(status: .findings, message: "the store \(shown) refused event \(sealed.seq) of run \(runID.shown) as not following the run's head, " +
                                     "and holds nothing after event \(state.eventCount) as read: the run as read does not match the store's; nothing was written")
            }
            current = true
        }
        throw CommandFailure(status: .store, message: "run \(runID.shown) in the store \(shown) kept moving: others' events landed first \(attempts) times or for \(Int(within)) seconds " +
                             "while this event was checked and sent, so nothing of it was written; try again")
    }
}
