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
}
