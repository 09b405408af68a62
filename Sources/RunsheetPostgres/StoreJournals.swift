import Foundation
import NIOCore
import PostgresNIO

extension RunStore {
    /// The journals of the runs `ids`, as `journal.jsonl` would hold them (each line and a
    /// newline, in seq order), in one query whatever their number: the server joins each run's
    /// lines (`string_agg`), so a run is one row, not a row an event. A run without events is
    /// absent; so is one the store does not hold. (A journal over PostgreSQL's 1 GB limit for a
    /// value, some 2.5 million events, cannot be read so: the server's refusal is the error.)
    public static func journals(_ store: StoreConnection, _ ids: [String]) async throws -> [String: [UInt8]] {
        guard !ids.isEmpty else { return [:] }
        try await requireSchema(store)
        return try await fetchJournals(store, ids)
    }

    static func fetchJournals(_ store: StoreConnection, _ ids: [String]) async throws -> [String: [UInt8]] {
        let query: PostgresQuery = """
            SELECT run, string_agg(line || '\\x0a'::bytea, ''::bytea ORDER BY seq) FROM runsheet.events WHERE run = ANY(\(ids)) GROUP BY run
            """
        do {
            var journals: [String: [UInt8]] = [:]
            for try await (run, bytes) in try await store.connection.query(query, logger: store.logger).decode((String, ByteBuffer).self) {
                journals[run] = Array(bytes.readableBytesView)
            }
            return journals
        } catch let error as PSQLError {
            throw serverError(error, store)
        }
    }
}

extension RunStore {
    /// Run `runID` to read it (`status`, `verify`, `audit`, `report`, `sign`): its journal (each
    /// line and a newline, in seq order) and its files. `RunPresence(present: false)` when the
    /// store holds no such run. `outputs` false leaves the command output logs out (`status`
    /// shows none, and each may be megabytes).
    public static func journal(_ store: StoreConnection, _ runID: String, outputs: Bool = true) async throws -> (journal: [UInt8], files: [StoredFile]) {
        try await requireSchema(store)
        let db = store.connection, logger = store.logger
        do {
            var present = false
            for try await _ in try await db.query("SELECT 1 FROM runsheet.runs WHERE run = \(runID)", logger: logger).decode(Int.self) { present = true }
            guard present else { throw RunPresence(run: runID, present: false) }
            // The journal as one value, joined on the server: one message to receive and one
            // copy here, instead of a row, a message and a decode for each event (docs/BENCHMARKS.md,
            // 2026-12-05). The lines come from the primary key in seq order through a subquery
            // (an ORDER BY inside string_agg sorts the 39 MB again, on disk past work_mem: slower);
            // PostgreSQL aggregates them in that order "usually", so the seqs come along, joined by
            // the same aggregation in the same order, and only when they are 1, 2, 3… is the value
            // taken. Otherwise the journal is asked for again with the order inside the aggregate.
            var journal: [UInt8] = []
            func take(_ query: PostgresQuery, checked: Bool) async throws -> Bool {
                for try await (bytes, seqs) in try await db.query(query, logger: logger).decode((ByteBuffer?, [Int32]?).self) {
                    guard let bytes, bytes.readableBytes > 0 else { continue }
                    let order = seqs ?? []
                    if checked, !order.indices.allSatisfy({ Int(order[$0]) == $0 + 1 }) { return false }
                    journal.reserveCapacity(bytes.readableBytes + 1)
                    journal += bytes.readableBytesView
                    journal.append(0x0A)
                }
                return true
            }
            let inOrder: PostgresQuery = """
                SELECT string_agg(line, '\\x0a'::bytea), array_agg(seq) FROM (SELECT line, seq FROM runsheet.events WHERE run = \(runID) ORDER BY seq) e
                """
            if try await !take(inOrder, checked: true) {
                journal = []
                let sorted: PostgresQuery = """
                    SELECT string_agg(line, '\\x0a'::bytea ORDER BY seq), NULL::integer[] FROM runsheet.events WHERE run = \(runID)
                    """
                _ = try await take(sorted, checked: false)
            }
            var files: [StoredFile] = []
            let query: PostgresQuery = """
                SELECT f.kind, f.path, f.sha256, b.content FROM runsheet.run_files f JOIN runsheet.blobs b USING (sha256)
                WHERE f.run = \(runID) AND (\(outputs) OR f.kind <> 'output') ORDER BY f.kind, f.path
                """
            for try await (kind, path, sha, content) in try await db.query(query, logger: logger).decode((String, String, String, ByteBuffer).self) {
                guard let kind = StoredFile.Kind(rawValue: kind) else { continue }
                files.append(StoredFile(kind: kind, path: path, content: Array(content.readableBytesView), sha256: sha))
            }
            return (journal, files)
        } catch let error as PSQLError {
            throw serverError(error, store)
        }
    }
}
