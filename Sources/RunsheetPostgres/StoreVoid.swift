import Foundation
import NIOCore
import PostgresNIO

/// A chain of the store that `store void` cuts: a run's events, or a governance log.
public enum VoidTarget: Sendable, Equatable {
    case run(String)
    /// `halts` or `closures`.
    case log(String)

    var table: String {
        switch self {
        case .run: "runsheet.events"
        case .log: "runsheet.governance"
        }
    }

    /// The column of `runsheet.voided` (and of the chain's table) that names it.
    var column: String {
        switch self {
        case .run: "run"
        case .log: "log"
        }
    }

    var key: String {
        switch self {
        case .run(let id): id
        case .log(let name): name
        }
    }
}

/// One act of `store void`: records `first` to `last` of a chain, by database user `voidedBy` at
/// `voidedAt` (server time, UTC), for `reason`.
public struct Voiding: Sendable, Equatable {
    public var first: Int
    public var last: Int
    public var voidedBy: String
    public var voidedAt: String
    public var reason: String
}

/// A row of `runsheet.voided`: the record as the database held it, and who voided it, when and why.
public struct VoidedRecord: Sendable, Equatable, Encodable {
    public var run: String?
    public var log: String?
    public var seq: Int
    /// The journal (or governance) line, as it was.
    public var line: String
    public var hash: String
    public var prev: String
    public var actor: String
    public var dbUser: String
    public var serverTime: String
    public var voidedBy: String
    public var voidedAt: String
    public var reason: String

    enum CodingKeys: String, CodingKey {
        case run, log, seq, line, hash, prev, actor, reason
        case dbUser = "db_user", serverTime = "server_time", voidedBy = "voided_by", voidedAt = "voided_at"
    }
}

/// Why the store did not void: each is said as one sentence by the command.
public enum VoidRefusal: Error, Equatable, Sendable {
    /// The connecting user does not own the store's tables (`owner`), and only their owner may.
    case notOwner(dbUser: String, owner: String)
    /// A session holds the run's lease: it is being driven.
    case driven(run: String)
    /// The chain is no longer what was verified: someone appended since.
    case changed
    /// The chain has no record at that seq.
    case noRecord(count: Int)
}

extension RunStore {
    static let serverTimeUTC = #"'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'"#

    /// Refuses (`VoidRefusal.notOwner`) a database user who does not own the store's tables.
    public static func requireOwner(_ store: StoreConnection) async throws {
        try await requireSchema(store)
        let query: PostgresQuery = """
            SELECT session_user::text, r.rolname::text, pg_has_role(session_user, c.relowner, 'USAGE')
            FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE c.oid = 'runsheet.events'::regclass
            """
        do {
            for try await (user, owner, owns) in try await store.connection.query(query, logger: store.logger).decode((String, String, Bool).self) where !owns {
                throw VoidRefusal.notOwner(dbUser: user, owner: owner)
            }
        } catch let error as PSQLError {
            throw serverError(error, store)
        }
    }

    /// Moves the records of `target` from `seq` on into `runsheet.voided`, in one transaction, and
    /// returns how many. `verified`: the chain's lines as the caller verified them; the store's
    /// must still be exactly these (checked under the lock that keeps writers out).
    ///
    /// The append-only trigger is disabled and enabled again inside the transaction: ALTER TABLE
    /// takes a lock that keeps every other writer of the table waiting until the commit, by when
    /// the trigger is back, so no other session ever sees it off. Only the tables' owner may.
    public static func void(_ store: StoreConnection, _ target: VoidTarget, from seq: Int, verified: [[UInt8]], reason: String) async throws -> Int {
        try await requireOwner(store)
        let db = store.connection, logger = store.logger
        let key = target.key
        return try await transaction(store) {
            if case .run(let id) = target {
                // The lease `run` and `resume` hold as a session lock: a session driving the run keeps it.
                var free = false
                for try await got in try await db.query("SELECT pg_try_advisory_xact_lock(hashtext('runsheet.lease'), hashtext(\(id)))", logger: logger).decode(Bool.self) {
                    free = got
                }
                if !free { throw VoidRefusal.driven(run: id) }
            }
            try await db.query(PostgresQuery(unsafeSQL: "LOCK TABLE \(target.table) IN SHARE ROW EXCLUSIVE MODE"), logger: logger)
            var lines: [[UInt8]] = []
            let read = PostgresQuery(unsafeSQL: "SELECT line FROM \(target.table) WHERE \(target.column) = $1 ORDER BY seq, line", binds: binds(key))
            for try await line in try await db.query(read, logger: logger).decode(ByteBuffer.self) { lines.append(Array(line.readableBytesView)) }
            guard lines == verified else { throw VoidRefusal.changed }
            guard seq >= 1, seq <= lines.count else { throw VoidRefusal.noRecord(count: lines.count) }
            let (run, log) = target.column == "run" ? ("run", "NULL::text") : ("NULL::text", "log")
            var keep = PostgresBindings()
            keep.append(key)
            keep.append(seq)
            keep.append(reason)
            try await db.query(PostgresQuery(unsafeSQL: """
                INSERT INTO runsheet.voided (run, log, seq, line, hash, prev, actor, db_user, server_time, reason)
                SELECT \(run), \(log), seq, line, hash, prev, actor, db_user, server_time, $3 FROM \(target.table)
                WHERE \(target.column) = $1 AND seq >= $2 ORDER BY seq
                """, binds: keep), logger: logger)
            try await db.query(PostgresQuery(unsafeSQL: "ALTER TABLE \(target.table) DISABLE TRIGGER append_only"), logger: logger)
            var cut = PostgresBindings()
            cut.append(key)
            cut.append(seq)
            try await db.query(PostgresQuery(unsafeSQL: "DELETE FROM \(target.table) WHERE \(target.column) = $1 AND seq >= $2", binds: cut), logger: logger)
            try await db.query(PostgresQuery(unsafeSQL: "ALTER TABLE \(target.table) ENABLE TRIGGER append_only"), logger: logger)
            switch target {
            case .run(let id):
                // Events appended in place of pushed ones are checked as any other (check_event skips the pushed).
                try await db.query("UPDATE runsheet.runs SET pushed_through = least(pushed_through, \(seq - 1)) WHERE run = \(id)", logger: logger)
            case .log(let name):
                try await db.query("SELECT pg_notify(\(governanceChannel), \(name))", logger: logger)
            }
            return lines.count - seq + 1
        }
    }

    private static func binds(_ key: String) -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(key)
        return binds
    }

    /// Each act of `store void` on `target`, oldest first.
    public static func voidings(_ store: StoreConnection, _ target: VoidTarget) async throws -> [Voiding] {
        let query = PostgresQuery(unsafeSQL: """
            SELECT min(seq), max(seq), voided_by::text, to_char(voided_at AT TIME ZONE 'UTC', \(serverTimeUTC)), reason
            FROM runsheet.voided WHERE \(target.column) = $1 GROUP BY voided_at, voided_by, reason ORDER BY voided_at
            """, binds: binds(target.key))
        do {
            var found: [Voiding] = []
            for try await (first, last, by, at, reason) in try await store.connection.query(query, logger: store.logger).decode((Int, Int, String, String, String).self) {
                found.append(Voiding(first: first, last: last, voidedBy: by, voidedAt: at, reason: reason))
            }
            return found
        } catch let error as PSQLError {
            throw serverError(error, store)
        }
    }

    /// The voided records of `target`, in the order they were voided (and by seq within an act).
    public static func voidedRecords(_ store: StoreConnection, _ target: VoidTarget) async throws -> [VoidedRecord] {
        try await requireSchema(store)
        let query = PostgresQuery(unsafeSQL: """
            SELECT seq, line, hash, prev, actor, db_user::text, to_char(server_time AT TIME ZONE 'UTC', \(serverTimeUTC)),
                   voided_by::text, to_char(voided_at AT TIME ZONE 'UTC', \(serverTimeUTC)), reason
            FROM runsheet.voided WHERE \(target.column) = $1 ORDER BY voided_at, seq
            """, binds: binds(target.key))
        do {
            var found: [VoidedRecord] = []
            let rows = try await store.connection.query(query, logger: store.logger)
            for try await (seq, line, hash, prev, actor, user, time, by, at, reason) in rows.decode((Int, ByteBuffer, String, String, String, String, String, String, String, String).self) {
                let (run, log): (String?, String?) = target.column == "run" ? (target.key, nil) : (nil, target.key)
                found.append(VoidedRecord(run: run, log: log, seq: seq, line: String(decoding: line.readableBytesView, as: UTF8.self), hash: hash, prev: prev,
                                          actor: actor, dbUser: user, serverTime: time, voidedBy: by, voidedAt: at, reason: reason))
            }
            return found
        } catch let error as PSQLError {
            throw serverError(error, store)
        }
    }
}
