import Foundation
import NIOCore
import PostgresNIO

/// A run as the store lists it: its id, whether it was pushed, and its first journal line (the
/// `run.started` event that names its runbook), read before choosing which runs to fetch whole.
public struct ListedRun: Sendable, Equatable {
    public var id: String
    public var pushed: Bool
    /// The first event's line (canonical bytes); nil when the run holds no event.
    public var firstLine: [UInt8]?

    public init(id: String, pushed: Bool, firstLine: [UInt8]?) {
        (self.id, self.pushed, self.firstLine) = (id, pushed, firstLine)
    }
}

extension RunStore {
    /// Every run in the store, by id, with its first event's line: one query.
    public static func list(_ store: StoreConnection) async throws -> [ListedRun] {
        try await requireSchema(store)
        let query: PostgresQuery = """
            SELECT r.run, r.pushed, e.line FROM runsheet.runs r
            LEFT JOIN runsheet.events e ON e.run = r.run AND e.seq = 1 ORDER BY r.run
            """
        do {
            var runs: [ListedRun] = []
            for try await (id, pushed, line) in try await store.connection.query(query, logger: store.logger).decode((String, Bool, ByteBuffer?).self) {
                runs.append(ListedRun(id: id, pushed: pushed, firstLine: line.map { Array($0.readableBytesView) }))
            }
            return runs
        } catch let error as PSQLError {
            throw serverError(error, store)
        }
    }

    /// The runs `ids` whole, in three queries whatever their number: every event of them ordered
    /// by run and seq, their files, and the distinct contents those files name (a runbook shared
    /// by a thousand runs is read once). Runs the store does not hold are absent from the result.
    public static func fetchAll(_ store: StoreConnection, _ listed: [ListedRun]) async throws -> [StoredRun] {
        try await requireSchema(store)
        let db = store.connection, logger = store.logger
        let ids = listed.map(\.id)
        guard !ids.isEmpty else { return [] }
        do {
            var lines: [String: [[UInt8]]] = [:]
            let events: PostgresQuery = "SELECT run, line FROM runsheet.events WHERE run = ANY(\(ids)) ORDER BY run, seq"
            for try await (run, line) in try await db.query(events, logger: logger).decode((String, ByteBuffer).self) {
                lines[run, default: []].append(Array(line.readableBytesView))
            }
            var named: [String: [(StoredFile.Kind, String, String)]] = [:]
            var wanted = Set<String>()
            let files: PostgresQuery = "SELECT run, kind, path, sha256 FROM runsheet.run_files WHERE run = ANY(\(ids)) ORDER BY run, kind, path"
            for try await (run, kind, path, sha) in try await db.query(files, logger: logger).decode((String, String, String, String).self) {
                guard let kind = StoredFile.Kind(rawValue: kind) else { continue }
                named[run, default: []].append((kind, path, sha))
                wanted.insert(sha)
            }
            var contents: [String: [UInt8]] = [:]
            if !wanted.isEmpty {
                let blobs: PostgresQuery = "SELECT sha256, content FROM runsheet.blobs WHERE sha256 = ANY(\(Array(wanted)))"
                for try await (sha, content) in try await db.query(blobs, logger: logger).decode((String, ByteBuffer).self) {
                    contents[sha] = Array(content.readableBytesView)
                }
            }
            return listed.map { run in
                let files = (named[run.id] ?? []).compactMap { kind, path, sha in
                    contents[sha].map { StoredFile(kind: kind, path: path, content: $0, sha256: sha) }
                }
                return StoredRun(id: run.id, lines: lines[run.id] ?? [], files: files, pushed: run.pushed)
            }
        } catch let error as PSQLError {
            throw serverError(error, store)
        }
    }
}
