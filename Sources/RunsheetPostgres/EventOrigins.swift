import Foundation
import PostgresNIO

/// Who wrote an event into the store and when, by the database's own word: the database user
/// (`session_user`) and the server's clock, recorded whatever the INSERT said (docs/TEAMS.md).
public struct EventOrigin: Sendable, Equatable {
    public var seq: Int
    public var dbUser: String
    /// The server's time, UTC, to the microsecond: `2026-12-04T18:30:00.123456Z`.
    public var serverTime: String
    /// Whether it came with a `store push`: written elsewhere, so its actor is a claim the database did not check.
    public var pushed: Bool

    public init(seq: Int, dbUser: String, serverTime: String, pushed: Bool) {
        (self.seq, self.dbUser, self.serverTime, self.pushed) = (seq, dbUser, serverTime, pushed)
    }
}

extension RunStore {
    /// Each event's database user and server time, by seq, for `audit`.
    public static func origins(_ store: StoreConnection, _ runID: String) async throws -> [EventOrigin] {
        try await requireSchema(store)
        let query: PostgresQuery = """
            SELECT e.seq, e.db_user::text, to_char(e.server_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                   r.pushed AND e.seq <= r.pushed_through
            FROM runsheet.events e JOIN runsheet.runs r USING (run) WHERE e.run = \(runID) AND e.seq IS NOT NULL ORDER BY e.seq, e.line
            """
        do {
            var origins: [EventOrigin] = []
            for try await (seq, user, time, pushed) in try await store.connection.query(query, logger: store.logger).decode((Int, String, String, Bool).self) {
                origins.append(EventOrigin(seq: seq, dbUser: user, serverTime: time, pushed: pushed))
            }
            return origins
        } catch let error as PSQLError {
            throw serverError(error, store)
        }
    }
}
