import Foundation
import NIOCore
import PostgresNIO

/// Appending one event to a run in the store, optimistically: the caller checks the event against
/// the run as it knows it and seals it onto that head, and `append` sends it as one autocommit
/// statement. The database refuses an event that does not follow the run's head as it stands at
/// the INSERT (the trigger, RS002), and the key (run, seq) refuses the second of two writers racing
/// from the same head (23505, once the first commits): either way nothing was written, and the
/// caller reads what landed (`newLines`), checks again and retries. So an event commits only if it
/// was checked against the run exactly as it stood at its commit.
extension RunStore {
    /// The channel a committed event is announced on, with the run id as the payload.
    public static let runChannel = "runsheet_run"

    /// What an append came to.
    public enum AppendOutcome: Sendable, Equatable {
        /// Committed (confirmed: see `AppendConfirmations`) and announced on `runsheet_run`.
        case committed
        /// Refused because the line does not follow the run's head as it now stands, or the run is
        /// gone: nothing was written; `newLines` says which.
        case headMoved
    }

    /// Inserts `line` (the next event, sealed onto the head the caller knows) in one statement
    /// that also announces it on `runsheet_run`, committed on its own, and waits for the commit's
    /// confirmation. The statement carries the schema version check too (it inserts nothing into a
    /// store of another version, and `requireSchema` then says why), so an append is one round trip.
    public static func append(_ store: StoreConnection, _ runID: String, line: [UInt8]) async throws -> AppendOutcome {
        let fields = try LineFields(line)
        let confirmations = store.confirmations
        try await confirmations.start(store)
        var inserted = false
        do {
            // The row is read: a statement that returns rows reports a refusal (the trigger's) only there.
            for try await _ in try await store.query("""
                WITH inserted AS (
                    INSERT INTO runsheet.events (run, seq, line, hash, prev, actor)
                    SELECT \(runID), \(fields.seq), \(ByteBuffer(bytes: line)), \(fields.hash), \(fields.prev), \(fields.actor)
                    FROM runsheet.store WHERE version = \(StoreSchema.version)
                    RETURNING run, hash
                )
                SELECT pg_notify(\(runChannel), run), pg_notify(\(confirmations.channel), hash) FROM inserted
                """) {
                inserted = true
            }
        } catch let error as PSQLError {
            switch error.serverInfo?[.sqlState] {
            case "RS002", "23505": return .headMoved
            // No such table, or no right to it: the store's schema is missing or not runsheet's.
            case "42P01", "42501", "3F000": try await requireSchema(store)
            default: break
            }
            throw serverError(error, store)
        }
        guard inserted else {
            // No row: the store's schema is not this runsheet's version.
            try await requireSchema(store)
            throw StoreError.server(store.settings.description, message: "its schema version changed while event \(fields.seq) of run \(runID) was sent, so nothing was written")
        }
        try await confirmations.confirm(fields.hash, store: store)
        return .committed
    }

    /// The lines after seq `known`, in order, as committed (one round trip); `RunPresence(present:
    /// false)` when the store holds no such run.
    public static func newLines(_ store: StoreConnection, _ runID: String, after known: Int) async throws -> [[UInt8]] {
        do {
            // The run and its lines in one query: no row, no run; a row without a line, nothing new.
            var present = false
            var lines: [[UInt8]] = []
            let query: PostgresQuery = """
                SELECT e.line FROM runsheet.runs r LEFT JOIN runsheet.events e ON e.run = r.run AND e.seq > \(known)
                WHERE r.run = \(runID) ORDER BY e.seq, e.line
                """
            for try await line in try await store.query(query).decode(ByteBuffer?.self) {
                present = true
                if let line { lines.append(Array(line.readableBytesView)) }
            }
            guard present else { throw RunPresence(run: runID, present: false) }
            return lines
        } catch let error as PSQLError {
            throw serverError(error, store)
        }
    }
}
