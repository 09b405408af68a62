import Foundation

/// Why the PostgreSQL store cannot be used, each one sentence naming the store (never a password).
public enum StoreError: Error, Equatable, LocalizedError, Sendable {
    /// The URL does not parse as libpq reads one.
    case invalidURL(String, reason: String)
    /// A password in the URL or its `password` parameter: it would sit in shell history and `ps`.
    case passwordInURL(String)
    /// A libpq parameter runsheet does not implement, or one libpq does not know.
    case unsupportedParameter(String, name: String)
    case invalidSSLMode(String)
    /// The server asked for a password and neither PGPASSWORD nor the password file had one.
    case noPassword(String, passwordFile: String)
    /// The server refused the user's password, or the user does not exist (PostgreSQL says the same for both).
    case wrongPassword(String)
    /// pg_hba.conf has no entry for this user, database and connection (or the role may not log in).
    case refusedByServer(String, message: String)
    case databaseMissing(String)
    case unreachable(String, why: String)
    /// `sslmode` asks for TLS and the server does not offer it.
    case tlsRefused(String, sslmode: String)
    case tlsFailed(String, why: String)
    /// The database holds no runsheet schema: `store init` was never run on it.
    case schemaMissing(String)
    case schemaOlder(String, found: Int, known: Int)
    case schemaNewer(String, found: Int, known: Int)
    /// Anything else the server answered with an error.
    case server(String, message: String)

    /// Mistakes in what the user typed (exit 2); every other case means the store is unavailable (exit 6).
    public var isUsage: Bool {
        switch self {
        case .invalidURL, .passwordInURL, .unsupportedParameter, .invalidSSLMode: true
        default: false
        }
    }

    public var errorDescription: String? {
        switch self {
        case .invalidURL(let url, let reason):
            "the store URL \(url) is not a PostgreSQL URL: \(reason)"
        case .passwordInURL(let url):
            "the store URL \(url) carries a password, which runsheet never takes from a command line or a file it writes; put it in PGPASSWORD or in ~/.pgpass (PGPASSFILE) and leave it out of the URL"
        case .unsupportedParameter(let url, let name):
            "the store URL \(url) sets '\(name)', a connection parameter runsheet does not take (it takes host, port, dbname, user, sslmode, sslrootcert, connect_timeout and application_name)"
        case .invalidSSLMode(let value):
            "sslmode '\(value)' is not one of disable, allow, prefer, require, verify-ca and verify-full"
        case .noPassword(let store, let file):
            "the PostgreSQL store \(store) asks for a password and none was found: set PGPASSWORD or add a line for it to \(file)"
        case .wrongPassword(let store):
            "the PostgreSQL store \(store) refused the password (wrong password, or no such database user); check PGPASSWORD or the matching line of the password file"
        case .refusedByServer(let store, let message):
            "the PostgreSQL store \(store) refused the connection: \(message)"
        case .databaseMissing(let store):
            "the PostgreSQL store \(store) does not exist: the server has no such database"
        case .unreachable(let store, let why):
            "the PostgreSQL store \(store) cannot be reached: \(why)"
        case .tlsRefused(let store, let mode):
            "the PostgreSQL store \(store) does not offer TLS, which sslmode=\(mode) requires; enable ssl on the server, or lower sslmode if the network is trusted"
        case .tlsFailed(let store, let why):
            "the TLS connection to the PostgreSQL store \(store) failed: \(why)"
        case .schemaMissing(let store):
            "the PostgreSQL store \(store) holds no runsheet schema; the database's owner creates it with: runsheet store init URL"
        case .schemaOlder(let store, let found, let known):
            "the PostgreSQL store \(store) has runsheet schema version \(found), older than version \(known) this runsheet uses; the database's owner upgrades it with: runsheet store init URL"
        case .schemaNewer(let store, let found, let known):
            "the PostgreSQL store \(store) has runsheet schema version \(found), newer than version \(known) this runsheet knows; upgrade runsheet to use it"
        case .server(let store, let message):
            "the PostgreSQL store \(store) answered with an error: \(message)"
        }
    }
}
