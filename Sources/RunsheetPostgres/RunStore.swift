import Foundation
import NIOCore
import PostgresNIO

/// A run as the store holds it: its journal lines (canonical bytes, no newline) and its files.
public struct StoredRun: Sendable, Equatable {
    public var id: String
    public var lines: [[UInt8]]
    public var files: [StoredFile]
    /// Whether it came from a folder by `store push`.
    public var pushed: Bool

    public init(id: String, lines: [[UInt8]], files: [StoredFile], pushed: Bool = true) {
        (self.id, self.lines, self.files, self.pushed) = (id, lines, files, pushed)
    }

    /// The journal.jsonl these lines make: each line and a newline.
    public var journalBytes: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(lines.reduce(0) { $0 + $1.count + 1 })
        for line in lines { bytes += line; bytes.append(0x0A) }
        return bytes
    }
}

/// A file kept with a run, by the SHA-256 of its bytes.
public struct StoredFile: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case runbook, include, rule, output
    }
    public var kind: Kind
    /// As the journal names it: relative to the runbook's folder (runbook, include, rule) or to the run folder (output).
    public var path: String
    public var content: [UInt8]
    public var sha256: String

    public init(kind: Kind, path: String, content: [UInt8], sha256: String) {
        (self.kind, self.path, self.content, self.sha256) = (kind, path, content, sha256)
    }
}

/// The operations on a PostgreSQL store; each opens its own connection and closes it.
public enum RunStore {
    /// A run id already in the store, or one it does not hold.
    public struct RunPresence: Error, Equatable, Sendable {
        public var run: String
        public var present: Bool
    }

    /// The schema version recorded in the store; nil when it holds no runsheet schema.
    static func schemaVersion(_ store: StoreConnection) async throws -> Int? {
        let rows = try await store.connection.query("SELECT to_regclass('runsheet.store') IS NOT NULL", logger: store.logger)
        var exists = false
        for try await value in rows.decode(Bool.self) { exists = value }
        guard exists else { return nil }
        var version = 0
        for try await value in try await store.connection.query("SELECT version FROM runsheet.store", logger: store.logger).decode(Int.self) {
            version = value
        }
        return version
    }

    /// Refuses a store without the schema, or with another version than this runsheet's. Called
    /// outside a transaction: the version is read in one round trip, and only when that fails
    /// (no schema, no right to it) is the store asked again to say why, as `schemaVersion` does.
    public static func requireSchema(_ store: StoreConnection) async throws {
        let name = store.settings.description
        do {
            var read: Int?
            if let rows = try? await store.connection.query("SELECT version FROM runsheet.store", logger: store.logger) {
                for try await value in rows.decode(Int.self) { read = value }
            }
            if let read, read == StoreSchema.version { return }
            guard let found = try await schemaVersion(store) else { throw StoreError.schemaMissing(name) }
            if found < StoreSchema.version { throw StoreError.schemaOlder(name, found: found, known: StoreSchema.version) }
            if found > StoreSchema.version { throw StoreError.schemaNewer(name, found: found, known: StoreSchema.version) }
        } catch let error as PSQLError {
            throw serverError(error, store)
        }
    }

    /// `store init`: creates or upgrades the schema and the NOLOGIN role with exactly its grants.
    /// Returns the version found before (nil when new).
    public static func initialize(_ store: StoreConnection, role: String) async throws -> Int? {
        let db = store.connection, logger = store.logger
        return try await transaction(store) {
            try await db.query("SELECT pg_advisory_xact_lock(hashtext('runsheet.store'))", logger: logger)
            for try await encoding in try await db.query("SELECT current_setting('server_encoding')", logger: logger).decode(String.self)
            where encoding != "UTF8" {
                throw StoreError.server(store.settings.description, message: "the database's encoding is \(encoding), and runsheet's store needs UTF8 (createdb -E UTF8)")
            }
            try await db.query("CREATE SCHEMA IF NOT EXISTS runsheet", logger: logger)
            let found = try await schemaVersion(store)
            if let found, found > StoreSchema.version {
                throw StoreError.schemaNewer(store.settings.description, found: found, known: StoreSchema.version)
            }
            if found != nil {
                var recorded = ""
                for try await name in try await db.query("SELECT role::text FROM runsheet.store", logger: logger).decode(String.self) { recorded = name }
                if recorded != role {
                    throw StoreError.server(store.settings.description, message: "the store's role is \(recorded), not \(role); run store init with --role \(recorded)")
                }
            }
            for statement in StoreSchema.migrations.dropFirst(found ?? 0).joined() {
                try await db.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
            var roleExists = false
            for try await _ in try await db.query("SELECT 1 FROM pg_roles WHERE rolname = \(role)", logger: logger).decode(Int.self) { roleExists = true }
            let quoted = StoreSchema.quoteIdentifier(role)
            try await db.query(PostgresQuery(unsafeSQL: roleExists ? "ALTER ROLE \(quoted) NOLOGIN" : "CREATE ROLE \(quoted) NOLOGIN"), logger: logger)
            for statement in StoreSchema.grants(role: role) {
                try await db.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            }
            try await db.query("""
                INSERT INTO runsheet.store (version, role) VALUES (\(StoreSchema.version), \(role))
                ON CONFLICT (one) DO UPDATE SET version = EXCLUDED.version, upgraded_at = now(), upgraded_by = session_user
                """, logger: logger)
            return found
        }
    }

    /// `store grant`: gives the store's role to `dbUser` and records that it is `person` (canonical form).
    public static func grant(_ store: StoreConnection, person: String, dbUser: String) async throws -> String {
        try await requireSchema(store)
        let db = store.connection, logger = store.logger
        return try await transaction(store) {
            var role = ""
            for try await name in try await db.query("SELECT role::text FROM runsheet.store", logger: logger).decode(String.self) { role = name }
            try await db.query(PostgresQuery(unsafeSQL: "GRANT \(StoreSchema.quoteIdentifier(role)) TO \(StoreSchema.quoteIdentifier(dbUser))"), logger: logger)
            try await db.query("""
                INSERT INTO runsheet.members (db_user, person) VALUES (\(dbUser), \(person))
                ON CONFLICT (db_user) DO UPDATE SET person = EXCLUDED.person, granted_at = now(), granted_by = session_user
                """, logger: logger)
            return role
        }
    }

    /// `store push`: the run, its events in order and its files, in one transaction; before it
    /// commits, `check` gets the lines as the database now returns them (and throws to roll back).
    public static func push(_ store: StoreConnection, _ run: StoredRun, check: @escaping @Sendable (StoredRun) throws -> Void) async throws {
        try await requireSchema(store)
        let db = store.connection, logger = store.logger
        try await transaction(store) {
            var present = false
            for try await _ in try await db.query("SELECT 1 FROM runsheet.runs WHERE run = \(run.id)", logger: logger).decode(Int.self) { present = true }
            if present { throw RunPresence(run: run.id, present: true) }
            try await db.query("INSERT INTO runsheet.runs (run, pushed, pushed_through) VALUES (\(run.id), true, \(run.lines.count))", logger: logger)
            try await insertEvents(store, run)
            try await insertFiles(store, run)
            try check(try await read(store, run.id))
        }
    }

    /// The run as the store holds it; `RunPresence(present: false)` when it holds no such run.
    public static func fetch(_ store: StoreConnection, _ runID: String) async throws -> StoredRun {
        try await requireSchema(store)
        do { return try await read(store, runID) } catch let error as PSQLError { throw serverError(error, store) }
    }

    private static func read(_ store: StoreConnection, _ runID: String) async throws -> StoredRun {
        let db = store.connection, logger = store.logger
        var pushed: Bool?
        for try await flag in try await db.query("SELECT pushed FROM runsheet.runs WHERE run = \(runID)", logger: logger).decode(Bool.self) { pushed = flag }
        guard let pushed else { throw RunPresence(run: runID, present: false) }
        var lines: [[UInt8]] = []
        for try await line in try await db.query("SELECT line FROM runsheet.events WHERE run = \(runID) ORDER BY seq, line", logger: logger).decode(ByteBuffer.self) {
            lines.append(Array(line.readableBytesView))
        }
        var files: [StoredFile] = []
        let query: PostgresQuery = """
            SELECT f.kind, f.path, f.sha256, b.content FROM runsheet.run_files f JOIN runsheet.blobs b USING (sha256)
            WHERE f.run = \(runID) ORDER BY f.kind, f.path
            """
        for try await (kind, path, sha, content) in try await db.query(query, logger: logger).decode((String, String, String, ByteBuffer).self) {
            guard let kind = StoredFile.Kind(rawValue: kind) else { continue }
            files.append(StoredFile(kind: kind, path: path, content: Array(content.readableBytesView), sha256: sha))
        }
        return StoredRun(id: runID, lines: lines, files: files, pushed: pushed)
    }

    /// Runs `body` between BEGIN and COMMIT, rolling back on any error; server errors become sentences.
    static func transaction<T: Sendable>(_ store: StoreConnection, _ body: () async throws -> T) async throws -> T {
        let db = store.connection, logger = store.logger
        do {
            try await db.query("BEGIN", logger: logger)
            let result: T
            do {
                result = try await body()
                try await db.query("COMMIT", logger: logger)
            } catch {
                _ = try? await db.query("ROLLBACK", logger: logger)
                throw error
            }
            return result
        } catch let error as PSQLError {
            throw serverError(error, store)
        }
    }

    /// A server's refusal as a sentence: runsheet's own trigger messages as they are, others prefixed.
    static func serverError(_ error: PSQLError, _ store: StoreConnection) -> StoreError {
        let describe = StoreConnection.describe(error, settings: store.settings, passwordFile: "")
        guard error.code == .server, let message = error.serverInfo?[.message] else { return describe }
        if message.hasPrefix("runsheet: ") { return .server(store.settings.description, message: String(message.dropFirst(10))) }
        return .server(store.settings.description, message: message)
    }

    /// Closes the connection, ignoring a failure to (the work is done or already failed).
    public static func close(_ store: StoreConnection) async {
        store.confirmations.stop()
        try? await store.connection.close()
    }
}

/// The columns an event row repeats from its line, read with the journal's own decoder.
struct LineFields {
    var seq: Int
    var hash: String
    var prev: String
    var actor: String

    init(_ line: [UInt8]) throws {
        let object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any]
        guard let object, let seq = object["seq"] as? Int, let hash = object["hash"] as? String, let prev = object["prev"] as? String,
              let actor = object["actor"] as? String else {
            throw CocoaError(.coderReadCorrupt)
        }
        (self.seq, self.hash, self.prev, self.actor) = (seq, hash, prev, actor)
    }
}
