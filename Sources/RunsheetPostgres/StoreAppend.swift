import Foundation
import NIOCore
import PostgresNIO

/// Appending one event to a run in the store, checked against the run as it stands: the caller
/// begins (a transaction holding the run's advisory lock, and the lines it has not seen yet),
/// decides from the head, then finishes (the INSERT, a NOTIFY on commit) or abandons. Two
/// writers on one run queue on the lock, so the second decides from the first's event.
extension RunStore {
    /// The channel a committed event is announced on, with the run id as the payload.
    public static let runChannel = "runsheet_run"

    /// BEGIN, then the run's advisory lock (held until COMMIT or ROLLBACK), then the lines after
    /// seq `known`, in order. `RunPresence(present: false)` when the store holds no such run.
    public static func beginAppend(_ store: StoreConnection, _ runID: String, after known: Int) async throws -> [[UInt8]] {
        try await requireSchema(store)
        let db = store.connection, logger = store.logger
        do {
            try await db.query("BEGIN", logger: logger)
            do {
                try await db.query("SELECT pg_advisory_xact_lock(hashtext('runsheet.run'), hashtext(\(runID)))", logger: logger)
                // The run and the lines after `known` in one round trip: no row, no run; a row
                // without a line, a run with nothing new.
                var present = false
                var lines: [[UInt8]] = []
                let query: PostgresQuery = """
                    SELECT e.line FROM runsheet.runs r LEFT JOIN runsheet.events e ON e.run = r.run AND e.seq > \(known)
                    WHERE r.run = \(runID) ORDER BY e.seq
                    """
                for try await line in try await db.query(query, logger: logger).decode(ByteBuffer?.self) {
                    present = true
                    if let line { lines.append(Array(line.readableBytesView)) }
                }
                guard present else { throw RunPresence(run: runID, present: false) }
                return lines
            } catch {
                _ = try? await db.query("ROLLBACK", logger: logger)
                throw error
            }
        } catch let error as PSQLError {
            throw serverError(error, store)
        }
    }

    /// Inserts `line` (the next event, sealed onto the head `beginAppend` returned), announces the
    /// run on `runsheet_run` and commits; on any failure, rolls back.
    public static func finishAppend(_ store: StoreConnection, _ runID: String, line: [UInt8]) async throws {
        let db = store.connection, logger = store.logger
        do {
            do {
                let fields = try LineFields(line)
                // The row and its announcement in one statement (one round trip), then COMMIT. Its
                // row is read: a statement that returns rows reports a refusal (the trigger's) only
                // there, and a COMMIT after it would roll back without a word.
                for try await _ in try await db.query("""
                    WITH inserted AS (
                        INSERT INTO runsheet.events (run, seq, line, hash, prev, actor)
                        VALUES (\(runID), \(fields.seq), \(ByteBuffer(bytes: line)), \(fields.hash), \(fields.prev), \(fields.actor)) RETURNING run
                    )
                    SELECT pg_notify(\(runChannel), run) FROM inserted
                    """, logger: logger) {}
                try await db.query("COMMIT", logger: logger)
            } catch {
                _ = try? await db.query("ROLLBACK", logger: logger)
                throw error
            }
        } catch let error as PSQLError {
            throw serverError(error, store)
        }
    }

    /// Rolls back an append the caller decided not to make.
    public static func abandonAppend(_ store: StoreConnection) async {
        _ = try? await store.connection.query("ROLLBACK", logger: store.logger)
    }
}
