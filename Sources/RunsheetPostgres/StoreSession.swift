import Foundation
import NIOCore
import PostgresNIO

/// The connection of the one session that drives a run of the store (`run`, `resume`): it holds
/// the run's lease, the service/environment lock and the configuration items as session advisory
/// locks (the server drops them when the connection ends, however it ends), listens on
/// `runsheet_run` for other machines' events, and carries the session's own appends.
/// `runsheet.session_locks` names the holder of each lock, for the refusal another session gets.
extension RunStore {
    /// What a session lock is on: the kinds `runsheet.session_locks` knows.
    public enum LockKind: String, Sendable {
        case lease, environment, item
    }

    /// Takes the session lock `kind`/`key` for `run` on the session's connection, naming `holder`;
    /// returns nil when taken, else who holds it (as the last holder named itself; "another
    /// session" when no row names one).
    /// A `shared` lock may be held by several sessions at once (a concurrent run's environment),
    /// never beside an exclusive one.
    /// With `naming` false the holder is named later (`nameHolder`), once every lock a start needs
    /// is taken: a start refused on a later lock leaves no row naming a run that never began.
    public static func takeSessionLock(_ store: StoreConnection, _ kind: LockKind, key: String, run: String, holder: String,
                                       shared: Bool = false, naming: Bool = true) async throws -> String? {
        try await requireSchema(store)
        let db = store.connection, logger = store.logger
        do {
            var taken = false
            let attempt: PostgresQuery = shared
                ? "SELECT pg_try_advisory_lock_shared(hashtext(\("runsheet." + kind.rawValue)), hashtext(\(key)))"
                : "SELECT pg_try_advisory_lock(hashtext(\("runsheet." + kind.rawValue)), hashtext(\(key)))"
            for try await value in try await db.query(attempt, logger: logger).decode(Bool.self) { taken = value }
            guard taken else {
                var named: String?
                let query: PostgresQuery = """
                    SELECT holder || ' (database user ' || db_user || ', since ' || to_char(server_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') || ')'
                    FROM runsheet.session_locks WHERE kind = \(kind.rawValue) AND key = \(key)
                    """
                for try await text in try await db.query(query, logger: logger).decode(String.self) { named = text }
                return named ?? "another session"
            }
            if naming { try await nameHolder(store, kind, key: key, run: run, holder: holder) }
            return nil
        } catch let error as PSQLError {
            throw serverError(error, store)
        }
    }

    /// Records who holds the session lock `kind`/`key` this connection took.
    public static func nameHolder(_ store: StoreConnection, _ kind: LockKind, key: String, run: String, holder: String) async throws {
        do {
            try await store.connection.query("""
                INSERT INTO runsheet.session_locks (kind, key, run, holder) VALUES (\(kind.rawValue), \(key), \(run), \(holder))
                ON CONFLICT (kind, key) DO UPDATE SET run = EXCLUDED.run, holder = EXCLUDED.holder
                """, logger: store.logger)
        } catch let error as PSQLError {
            throw serverError(error, store)
        }
    }

    /// Releases a session lock this connection holds (ending the connection releases them all).
    public static func releaseSessionLock(_ store: StoreConnection, _ kind: LockKind, key: String) async {
        let query: PostgresQuery = "SELECT pg_advisory_unlock(hashtext(\("runsheet." + kind.rawValue)), hashtext(\(key)))"
        _ = try? await store.connection.query(query, logger: store.logger)
    }

    /// A new run made by `run` on the store: its row, its first event (`line`) and the files it
    /// started with, in one transaction, announced on `runsheet_run`. `RunPresence(present: true)`
    /// when the id is taken. The database checks the event as any other (its actor is the person
    /// the connecting user is mapped to).
    public static func create(_ store: StoreConnection, _ runID: String, first line: [UInt8], files: [StoredFile]) async throws {
        try await requireSchema(store)
        let db = store.connection, logger = store.logger
        try await transaction(store) {
            var present = false
            for try await _ in try await db.query("SELECT 1 FROM runsheet.runs WHERE run = \(runID)", logger: logger).decode(Int.self) { present = true }
            if present { throw RunPresence(run: runID, present: true) }
            try await db.query("INSERT INTO runsheet.runs (run) VALUES (\(runID))", logger: logger)
            let fields = try LineFields(line)
            try await db.query("""
                INSERT INTO runsheet.events (run, seq, line, hash, prev, actor)
                VALUES (\(runID), \(fields.seq), \(ByteBuffer(bytes: line)), \(fields.hash), \(fields.prev), \(fields.actor))
                """, logger: logger)
            try await addFiles(store, runID, files)
            try await db.query("SELECT pg_notify(\(runChannel), \(runID))", logger: logger)
        }
    }

    /// Keeps `files` with the run (by SHA-256), leaving those it keeps already.
    public static func keep(_ store: StoreConnection, _ runID: String, files: [StoredFile]) async throws {
        guard !files.isEmpty else { return }
        try await transaction(store) { try await addFiles(store, runID, files) }
    }

    private static func addFiles(_ store: StoreConnection, _ runID: String, _ files: [StoredFile]) async throws {
        let db = store.connection, logger = store.logger
        for file in files {
            try await db.query("INSERT INTO runsheet.blobs (sha256, content) VALUES (\(file.sha256), \(ByteBuffer(bytes: file.content))) ON CONFLICT DO NOTHING", logger: logger)
            try await db.query("""
                INSERT INTO runsheet.run_files (run, kind, path, sha256) VALUES (\(runID), \(file.kind.rawValue), \(file.path), \(file.sha256))
                ON CONFLICT DO NOTHING
                """, logger: logger)
        }
    }

    /// The run's lines after seq `known`, in order (outside any transaction: what has committed).
    public static func lines(_ store: StoreConnection, _ runID: String, after known: Int) async throws -> [[UInt8]] {
        do {
            var lines: [[UInt8]] = []
            let query: PostgresQuery = "SELECT line FROM runsheet.events WHERE run = \(runID) AND seq > \(known) ORDER BY seq, line"
            for try await line in try await store.connection.query(query, logger: store.logger).decode(ByteBuffer.self) { lines.append(Array(line.readableBytesView)) }
            return lines
        } catch let error as PSQLError {
            throw serverError(error, store)
        }
    }

    /// Listens on `runsheet_run` and calls `heard` for each event committed to `runID` by anyone,
    /// until the connection closes or the task is cancelled. Returns once LISTEN is in effect,
    /// leaving a task that hears; cancel it to stop.
    public static func listen(_ store: StoreConnection, to runID: String, heard: @escaping @Sendable () -> Void) async throws -> Task<Void, Never> {
        try await listen(store, channel: runChannel, payload: runID, heard: heard)
    }
}
