import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import Synchronization

/// An open connection to a PostgreSQL store, with the settings it was opened with.
public struct StoreConnection: Sendable {
    public let connection: PostgresConnection
    public let settings: ConnectionSettings
    let logger: Logger
    /// The commits of this connection's appends, confirmed (`RunStore.append`).
    let confirmations = AppendConfirmations()
    private let statements = StatementCount()

    /// How many statements the append path (`RunStore.append`, `newLines`) has sent on this
    /// connection, each one round trip: what its tests and benchmark count.
    public var statementCount: Int { statements.value.load(ordering: .relaxed) }

    func countStatement() { statements.value.add(1, ordering: .relaxed) }

    /// Sends `query`, counted.
    func query(_ query: PostgresQuery) async throws -> PostgresRowSequence {
        countStatement()
        return try await connection.query(query, logger: logger)
    }

    /// postgres-nio logs nothing a user should see: failures come back as `StoreError` sentences.
    static let quietLogger = Logger(label: "runsheet.store", factory: { _ in SwiftLogNoOpLogHandler() })

    private final class StatementCount: Sendable {
        let value = Atomic<Int>(0)
    }

    /// Connects as `settings` says, with `password` (from `PasswordLookup`, never the URL).
    public static func open(_ settings: ConnectionSettings, password: String?, passwordFile: String) async throws -> StoreConnection {
        let logger = quietLogger
        do {
            let connection: PostgresConnection
            if settings.sslMode == .allow {
                // libpq's allow: without TLS first, and with it when the server refuses that.
                do {
                    connection = try await connect(settings, password: password, tls: .disable, logger: logger)
                } catch let error as PSQLError where error.code == .server && error.serverInfo?[.sqlState] == "28000" {
                    connection = try await connect(settings, password: password, tls: .prefer(try context(.none, settings)), logger: logger)
                }
            } else {
                connection = try await connect(settings, password: password, tls: try tls(for: settings), logger: logger)
            }
            return StoreConnection(connection: connection, settings: settings, logger: logger)
        } catch {
            throw describe(error, settings: settings, passwordFile: passwordFile)
        }
    }

    private static func connect(_ settings: ConnectionSettings, password: String?, tls: PostgresConnection.Configuration.TLS,
                                logger: Logger) async throws -> PostgresConnection {
        var configuration: PostgresConnection.Configuration
        var named: (channel: any Channel, host: String)?
        switch settings.endpoint {
        case .tcp(let host, let port) where settings.sslMode == .verifyFull && !CertificateHostName.isAddress(host):
            // runsheet opens the socket itself to read the certificate afterwards (CertificateHostName).
            let channel = try await ClientBootstrap(group: PostgresConnection.defaultEventLoopGroup)
                .connectTimeout(.seconds(Int64(settings.connectTimeout ?? 10))).connect(host: host, port: port).get()
            configuration = .init(establishedChannel: channel, tls: tls, username: settings.user, password: password, database: settings.database)
            configuration.options.tlsServerName = host
            named = (channel, host)
        case .tcp(let host, let port):
            configuration = .init(host: host, port: port, username: settings.user, password: password, database: settings.database, tls: tls)
        case .socket(let directory, let port):
            // libpq uses no TLS on a Unix socket either.
            configuration = .init(unixSocketPath: "\(directory)/.s.PGSQL.\(port)", username: settings.user, password: password, database: settings.database)
        }
        configuration.options.connectTimeout = .seconds(Int64(settings.connectTimeout ?? 10))
        if let name = settings.applicationName { configuration.options.additionalStartupParameters.append(("application_name", name)) }
        guard let named else { return try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger) }
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(on: named.channel.eventLoop, configuration: configuration, id: 1, logger: logger)
        } catch {
            try? await named.channel.close()
            throw error
        }
        do { try await CertificateHostName.check(named.channel, host: named.host, store: settings.description) } catch {
            try? await connection.close()
            throw error
        }
        return connection
    }

    /// libpq's sslmode on postgres-nio: disable and allow without TLS; prefer with it when offered,
    /// unchecked; require with it, unchecked, unless a root certificate file exists (then as
    /// verify-ca, as libpq does); verify-ca checks the chain; verify-full the chain and the host name.
    static func tls(for settings: ConnectionSettings) throws -> PostgresConnection.Configuration.TLS {
        switch settings.sslMode {
        case .disable, .allow: return .disable
        case .prefer: return .prefer(try context(.none, settings))
        case .require:
            let rootsExist = settings.sslRootCert == "system" || FileManager.default.fileExists(atPath: settings.sslRootCert)
            return .require(try context(rootsExist ? .noHostnameVerification : .none, settings))
        case .verifyCA: return .require(try context(.noHostnameVerification, settings))
        case .verifyFull: return .require(try context(.fullVerification, settings))
        }
    }

    private static func context(_ verification: CertificateVerification, _ settings: ConnectionSettings) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = verification
        if verification != .none && settings.sslRootCert != "system" {
            guard FileManager.default.fileExists(atPath: settings.sslRootCert) else {
                throw StoreError.tlsFailed(settings.description, why: "sslmode=\(settings.sslMode.rawValue) checks the server's certificate, and the root certificate file \(settings.sslRootCert) does not exist; give sslrootcert=FILE, or sslrootcert=system for the system's trusted roots")
            }
            configuration.trustRoots = .file(settings.sslRootCert)
        }
        do { return try NIOSSLContext(configuration: configuration) } catch {
            throw StoreError.tlsFailed(settings.description, why: "the root certificate file \(settings.sslRootCert) cannot be used (\(error))")
        }
    }

    /// One sentence for whatever connecting threw.
    static func describe(_ error: any Error, settings: ConnectionSettings, passwordFile: String) -> StoreError {
        let store = settings.description
        if let error = error as? StoreError { return error }
        if let why = TLSFailureReason.of(error, settings: settings) { return .tlsFailed(store, why: why) }
        guard let error = error as? PSQLError else { return .unreachable(store, why: reason(error)) }
        switch error.code {
        case .server:
            let message = error.serverInfo?[.message] ?? "an error without a message"
            switch error.serverInfo?[.sqlState] {
            case "28P01": return .wrongPassword(store)
            case "3D000": return .databaseMissing(store)
            case "28000": return .refusedByServer(store, message: message)
            default: return .server(store, message: message)
            }
        case .sslUnsupported: return .tlsRefused(store, sslmode: settings.sslMode.rawValue)
        case .authMechanismRequiresPassword: return .noPassword(store, passwordFile: passwordFile)
        case .failedToAddSSLHandler:
            return .tlsFailed(store, why: error.underlying.map { TLSFailureReason.of($0, settings: settings) ?? reason($0) } ?? "the TLS handler could not be set up")
        default:
            if let underlying = error.underlying {
                if let why = TLSFailureReason.of(underlying, settings: settings) { return .tlsFailed(store, why: why) }
                return .unreachable(store, why: reason(underlying))
            }
            return .unreachable(store, why: "the connection failed (\(error.code))")
        }
    }

    /// Why a connection failed, in words: the system's text for an errno, a timeout, or the error itself.
    static func reason(_ error: any Error) -> String {
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)).lowercased() }
        if let connection = error as? NIOConnectionError {
            if let first = connection.connectionErrors.first { return reason(first.error) }
            if let dns = connection.dnsAAAAError ?? connection.dnsAError { return "the host name does not resolve (\(dns))" }
            return "no address of \(connection.host) answered"
        }
        if let channel = error as? ChannelError, case .connectTimeout(let amount) = channel {
            return "no answer within \(amount.nanoseconds / 1_000_000_000) seconds"
        }
        if let ssl = error as? NIOSSLError { return "\(ssl)" }
        return "\(error)"
    }
}
