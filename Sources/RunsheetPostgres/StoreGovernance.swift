import Foundation
import NIOCore
import PostgresNIO

/// The store's governance logs (`halts`, `closures`): the lines `.runsheet/halts.jsonl` and
/// `closures.jsonl` would hold, one hash chain per log, each record checked by the database as an
/// event is (its chain, and that its actor is the connecting user's person). Announced on
/// `runsheet_governance` with the log's name.
extension RunStore {
    public static let governanceChannel = "runsheet_governance"

    /// The log's lines in order (canonical bytes, no newline).
    public static func governanceLines(_ store: StoreConnection, log: String) async throws -> [[UInt8]] {
        try await requireSchema(store)
        do {
            var lines: [[UInt8]] = []
            let query: PostgresQuery = "SELECT line FROM runsheet.governance WHERE log = \(log) ORDER BY seq, line"
            for try await line in try await store.connection.query(query, logger: store.logger).decode(ByteBuffer.self) { lines.append(Array(line.readableBytesView)) }
            return lines
        } catch let error as PSQLError {
            throw serverError(error, store)
        }
    }

    /// Appends `line` to the log, in a transaction that announces it; the trigger refuses a line
    /// that does not follow the log's head (someone appended since it was read).
    public static func appendGovernance(_ store: StoreConnection, log: String, line: [UInt8]) async throws {
        let db = store.connection, logger = store.logger
        try await transaction(store) {
            let fields = try LineFields(line)
            try await db.query("""
                INSERT INTO runsheet.governance (log, seq, line, hash, prev, actor)
                VALUES (\(log), \(fields.seq), \(ByteBuffer(bytes: line)), \(fields.hash), \(fields.prev), \(fields.actor))
                """, logger: logger)
            try await db.query("SELECT pg_notify(\(governanceChannel), \(log))", logger: logger)
        }
    }

    /// Listens on `channel` and calls `heard` for each notification whose payload is `payload`,
    /// until the connection closes or the task is cancelled; returns once LISTEN is in effect.
    public static func listen(_ store: StoreConnection, channel: String, payload: String, heard: @escaping @Sendable () -> Void) async throws -> Task<Void, Never> {
        let ready = AsyncStream<Void>.makeStream()
        let task = Task {
            do {
                try await store.connection.listen(on: channel) { notifications in
                    ready.continuation.yield()
                    for try await notification in notifications where notification.payload == payload { heard() }
                }
            } catch {
                ready.continuation.yield()
            }
        }
        for await _ in ready.stream { break }
        return task
    }
}

extension RunStore {
    /// Keeps file contents by SHA-256 (the database checks each hash), leaving those it has.
    public static func keepBlobs(_ store: StoreConnection, _ contents: [String: [UInt8]]) async throws {
        guard !contents.isEmpty else { return }
        try await transaction(store) {
            for (sha, content) in contents.sorted(by: { $0.key < $1.key }) {
                try await store.connection.query("INSERT INTO runsheet.blobs (sha256, content) VALUES (\(sha), \(ByteBuffer(bytes: content))) ON CONFLICT DO NOTHING",
                                                 logger: store.logger)
            }
        }
    }

    /// The contents the store keeps for `hashes` (those it has), by SHA-256.
    public static func blobs(_ store: StoreConnection, _ hashes: [String]) async throws -> [String: [UInt8]] {
        guard !hashes.isEmpty else { return [:] }
        do {
            var found: [String: [UInt8]] = [:]
            let query: PostgresQuery = "SELECT sha256, content FROM runsheet.blobs WHERE sha256 = ANY(\(hashes))"
            for try await (sha, content) in try await store.connection.query(query, logger: store.logger).decode((String, ByteBuffer).self) {
                found[sha] = Array(content.readableBytesView)
            }
            return found
        } catch let error as PSQLError {
            throw serverError(error, store)
        }
    }
}
