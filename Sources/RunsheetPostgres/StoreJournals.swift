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
            SELECT run, string_agg(line || '\\x0a'::bytea, ''::bytea ORDER BY seq, line) FROM runsheet.events WHERE run = ANY(\(ids)) GROUP BY run
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
    /// How many lines of a run's journal are asked for at a time after the first two pieces
    /// (`journalPieces`): about 4 MB of a long run's lines.
    static let journalPiece = 10_000

    /// The ranges of seqs `journal` reads a journal whose highest seq is `last` in: a small first
    /// piece, so the caller starts folding soon, then `journalPiece` at a time.
    static func journalPieces(through last: Int) -> [ClosedRange<Int>] {
        var pieces: [ClosedRange<Int>] = []
        var from = 1
        for size in [1_000, 4_000] + Array(repeating: journalPiece, count: last / journalPiece + 1) where from <= last {
            pieces.append(from...min(last, from + size - 1))
            from += size
        }
        return pieces
    }

    /// Run `runID` to read it (`status`, `verify`, `audit`, `report`, `sign`): its journal (each
    /// line and a newline, in seq order), in the pieces it was read in (joined, they are the
    /// journal: a caller that folds the pieces as they come need not copy 39 MB of a long run
    /// into one array), and its files. `RunPresence(present: false)` when the
    /// store holds no such run. `outputs` false leaves the command output logs out (`status`
    /// shows none, and each may be megabytes). `piece`, when given, is handed the journal's lines
    /// as they arrive, a piece at a time in order (so a caller can fold one while the next is
    /// fetched), and nil if what it was handed turns out not to be the journal (see below).
    public static func journal(_ store: StoreConnection, _ runID: String, outputs: Bool = true,
                               piece: (@Sendable ([UInt8]?) -> Void)? = nil) async throws -> (journal: [[UInt8]], files: [StoredFile]) {
        try await requireSchema(store)
        let db = store.connection, logger = store.logger
        do {
            var present = false, last: Int32?, outside = false
            for try await (highest, below) in try await db.query("""
                SELECT (SELECT max(seq) FROM runsheet.events WHERE run = \(runID)),
                       EXISTS (SELECT 1 FROM runsheet.events WHERE run = \(runID) AND seq < 1)
                       OR EXISTS (SELECT 1 FROM runsheet.events WHERE run = \(runID) AND seq IS NULL)
                FROM runsheet.runs WHERE run = \(runID)
                """, logger: logger).decode((Int32?, Bool).self) { (present, last, outside) = (true, highest, below) }
            guard present else { throw RunPresence(run: runID, present: false) }
            // Pieces only where no row lies outside seqs 1 to the highest (each piece then must be
            // exactly its range, below): a row the owner put at seq 0 or below, or with no seq,
            // once the constraints are dropped, is in the journal `export` writes, so it must be in
            // this one too: such a run is read whole (found by the adversary). Two probes of the
            // primary key's index, where a count of the rows read them all (30 ms for 100,000).
            // The journal in pieces of seqs up to the highest (`journalPieces`), in one query: each piece
            // joined on the server (one message and one copy here, not a row and a decode for each
            // event) from the primary key's range of seqs, and sent as soon as it is joined, so the
            // caller folds one piece while the server reads the next, and nothing sorts the whole
            // run (docs/BENCHMARKS.md, 2026-12-05, branch statusfast). A piece is joined in the
            // order the server reads its rows in, the primary key's or the table's (the order they
            // were appended in, as the store only appends; a sort of each piece, on disk past
            // work_mem, cost three times the read), and its seqs are joined beside its lines by
            // the same aggregation: the pieces are taken
            // only when they come in turn and each one's seqs are exactly from, from+1, …, to. So
            // they hold the events 1…highest, every one, in order. Otherwise (a seq missing, rows
            // out of order) the journal is asked for again whole, sorted by seq inside the aggregate.
            var journal: [[UInt8]] = []
            // Each piece as the journal holds it: its lines, each with a newline.
            func terminated(_ bytes: ByteBuffer) -> [UInt8] {
                var lines = [UInt8]()
                lines.reserveCapacity(bytes.readableBytes + 1)
                lines += bytes.readableBytesView
                lines.append(0x0A)
                return lines
            }
            // Whether the pieces are the whole journal; so is nothing, where the run has no rows.
            var whole = last == nil && !outside
            if let last, !outside {
                whole = true
                let pieces = journalPieces(through: Int(last))
                let (lows, highs) = (pieces.map { Int32($0.lowerBound) }, pieces.map { Int32($0.upperBound) })
                let query: PostgresQuery = """
                    SELECT p.lines, p.seqs FROM unnest(\(lows)::integer[], \(highs)::integer[]) AS k(low, high), LATERAL (
                        SELECT string_agg(line, '\\x0a'::bytea) AS lines, array_agg(seq) AS seqs FROM runsheet.events
                        WHERE run = \(runID) AND seq BETWEEN k.low AND k.high) p
                    """
                var taken = 0
                for try await (bytes, seqs) in try await db.query(query, logger: logger).decode((ByteBuffer?, [Int32]?).self) {
                    guard whole, taken < pieces.count, let bytes, let seqs, seqs.count == pieces[taken].count,
                          seqs.indices.allSatisfy({ Int(seqs[$0]) == pieces[taken].lowerBound + $0 }) else {
                        whole = false
                        continue
                    }
                    let lines = terminated(bytes)
                    journal.append(lines)
                    piece?(lines)
                    taken += 1
                }
                whole = whole && taken == pieces.count
            }
            if !whole {
                piece?(nil)
                journal = []
                let sorted: PostgresQuery = """
                    SELECT string_agg(line, '\\x0a'::bytea ORDER BY seq, line) FROM runsheet.events WHERE run = \(runID)
                    """
                for try await bytes in try await db.query(sorted, logger: logger).decode(ByteBuffer?.self) {
                    guard let bytes, bytes.readableBytes > 0 else { continue }
                    journal.append(terminated(bytes))
                }
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
