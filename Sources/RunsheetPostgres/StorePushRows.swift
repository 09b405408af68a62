import Foundation
import NIOCore
import PostgresNIO

extension RunStore {
    /// Lines `store push` inserts in one statement: a run's events go in as a few INSERTs of
    /// arrays (`unnest`), not a round trip each, and no statement carries more than this many.
    static let pushBatch = 5_000

    /// Inserts the run's events in seq order, `pushBatch` to a statement. The database's trigger
    /// checks each row as before (`check_event`): a row-level trigger sees the rows the same
    /// statement inserted before it, so each event must follow the one before, as one by one.
    static func insertEvents(_ store: StoreConnection, _ run: StoredRun) async throws {
        let fields = try run.lines.map(LineFields.init)
        for start in stride(from: 0, to: run.lines.count, by: pushBatch) {
            let batch = start..<min(start + pushBatch, run.lines.count)
            let seqs = batch.map { fields[$0].seq }, hashes = batch.map { fields[$0].hash }
            let prevs = batch.map { fields[$0].prev }, actors = batch.map { fields[$0].actor }
            let lines = batch.map { ByteBuffer(bytes: run.lines[$0]) }
            // Read to its end, so a refusal by the trigger is thrown here whatever the driver does with a statement that returns no rows.
            for try await _ in try await store.connection.query("""
                INSERT INTO runsheet.events (run, seq, line, hash, prev, actor)
                SELECT \(run.id), e.seq, e.line, e.hash, e.prev, e.actor
                FROM unnest(\(seqs)::integer[], \(lines)::bytea[], \(hashes)::text[], \(prevs)::text[], \(actors)::text[])
                    WITH ORDINALITY AS e (seq, line, hash, prev, actor, position)
                ORDER BY e.position
                """, logger: store.logger) {}
        }
    }

    /// Inserts the run's files and the contents they name (a content already there is kept) in two statements.
    static func insertFiles(_ store: StoreConnection, _ run: StoredRun) async throws {
        guard !run.files.isEmpty else { return }
        var seen = Set<String>()
        let distinct = run.files.filter { seen.insert($0.sha256).inserted }
        try await store.connection.query("""
            INSERT INTO runsheet.blobs (sha256, content)
            SELECT * FROM unnest(\(distinct.map(\.sha256))::text[], \(distinct.map { ByteBuffer(bytes: $0.content) })::bytea[]) ON CONFLICT DO NOTHING
            """, logger: store.logger)
        try await store.connection.query("""
            INSERT INTO runsheet.run_files (run, kind, path, sha256)
            SELECT \(run.id), * FROM unnest(\(run.files.map(\.kind.rawValue))::text[], \(run.files.map(\.path))::text[], \(run.files.map(\.sha256))::text[])
            """, logger: store.logger)
    }
}
