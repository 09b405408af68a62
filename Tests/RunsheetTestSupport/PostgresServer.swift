import Foundation
import Synchronization

/// A throwaway PostgreSQL server on 127.0.0.1 for the store tests: one per test process, started
/// on first use with `initdb` and `pg_ctl` in a folder of `ScratchRoot`, as an unprivileged user
/// (`nobody` when the tests run as root, since initdb refuses root), with password
/// (scram-sha-256) authentication on TCP, and stopped when the process exits. Each test takes a
/// fresh database (`makeStore`), owned by a fresh owner with CREATEROLE.
public final class PostgresServer: Sendable {
    public let port: Int
    public let folder: String
    public let binaries: String
    public static let superuser = "postgres"
    public static let superPassword = "super-\(UUID().uuidString.prefix(8))"

    /// The server of this process; the error says why none could be started (no PostgreSQL installed...).
    public static let shared: Result<PostgresServer, ServerFailure> = {
        do { return .success(try PostgresServer()) } catch let failure as ServerFailure { return .failure(failure) } catch {
            return .failure(ServerFailure(description: "\(error)"))
        }
    }()

    public struct ServerFailure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Where Debian puts the newest PostgreSQL's programs (`/usr/lib/postgresql/N/bin`), or PG_BINDIR.
    static func binaryFolder() -> String? {
        if let given = ProcessInfo.processInfo.environment["PG_BINDIR"], !given.isEmpty { return given }
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []).compactMap(Int.init).sorted()
        return versions.reversed().map { "/usr/lib/postgresql/\($0)/bin" }.first { FileManager.default.isExecutableFile(atPath: $0 + "/initdb") }
    }

    /// The `runuser` prefix when the server runs as nobody.
    let prefix: [String]

    /// A server of the test's own, for a test that stops and starts it (`stop`, `start`); the
    /// test removes it with `remove()`. With `tls`, it offers TLS with those certificates and lets
    /// TCP connections in only with TLS (`hostssl`); psql then connects with sslmode=require.
    public static func own(tls: ServerCertificates? = nil) throws -> PostgresServer { try PostgresServer(shared: false, tls: tls) }

    /// The certificates the server offers TLS with; nil when it offers none.
    public let certificates: ServerCertificates?

    /// The `-o` options of every start: where it listens, and TLS when it has certificates.
    let startOptions: String

    /// Stops the server: `immediate` is a crash (no checkpoint, recovery from the WAL at the next start).
    public func stop(immediate: Bool) throws {
        try control(["-D", folder + "/data", "-m", immediate ? "immediate" : "fast", "-w", "stop"])
    }

    /// Starts the stopped server again on its port.
    public func start() throws {
        try control(["-D", folder + "/data", "-l", folder + "/server.log", "-w", "-t", "60", "-o", startOptions, "start"])
    }

    /// Makes a server with TLS offer `certificate` (a file for the key it has) from its next
    /// connection on: the file replaces its own, the server reloads, and this waits until it
    /// serves the new one.
    public func offer(certificate: String) throws {
        let pem = try String(contentsOfFile: certificate, encoding: .utf8)
        // Written over the server's file, which keeps its owner.
        let file = try FileHandle(forWritingTo: URL(fileURLWithPath: folder + "/tls/server.crt"))
        try file.truncate(atOffset: 0)
        try file.write(contentsOf: Data(pem.utf8))
        try file.close()
        try control(["-D", folder + "/data", "reload"])
        let body = pem.components(separatedBy: "-----")[2].trimmingCharacters(in: .whitespacesAndNewlines)
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            let served = try Fixtures.run("/usr/bin/env", ["openssl", "s_client", "-connect", "127.0.0.1:\(port)", "-starttls", "postgres"], timeout: 20)
            if served.stdout.contains(body) { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw ServerFailure(description: "the server did not offer \(certificate) within 20 seconds of a reload")
    }

    /// Stops the server if it runs and removes its folder.
    public func remove() {
        try? stop(immediate: true)
        try? FileManager.default.removeItem(atPath: folder)
    }

    private func control(_ arguments: [String]) throws {
        let closing = #"for n in $(ls /proc/$$/fd); do if [ "$n" -gt 2 ]; then eval "exec $n>&-" 2>/dev/null; fi; done; exec "$@""#
        let command = ["/bin/bash", "-c", closing, "bash"] + prefix + [binaries + "/pg_ctl"] + arguments
        let result = try Self.run(command[0], Array(command.dropFirst()), directory: folder)
        guard result.status == 0 else { throw ServerFailure(description: "pg_ctl failed (\(result.status)): \(result.output)") }
    }

    private init(shared: Bool = true, tls: ServerCertificates? = nil) throws {
        guard let binaries = Self.binaryFolder() else {
            throw ServerFailure(description: "no PostgreSQL server programs in /usr/lib/postgresql/*/bin: scripts/install-deps installs Debian's postgresql")
        }
        self.binaries = binaries
        folder = ScratchRoot.path + "/runsheet-pg-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let passwordFile = folder + "/superuser-password"
        try Self.superPassword.write(toFile: passwordFile, atomically: false, encoding: .utf8)
        port = Self.freePort()
        certificates = tls
        var options = "-c listen_addresses=127.0.0.1 -p \(port) -c unix_socket_directories=\(folder) -c fsync=off -c full_page_writes=off"
        if let tls { options += " " + (try tls.install(in: folder + "/tls")) }
        startOptions = options
        let asRoot = getuid() == 0
        if asRoot {
            // initdb refuses root: the folder and all in it belong to nobody, who runs the server.
            _ = try Self.run("/bin/chown", ["-R", "nobody:nogroup", folder])
        }
        let prefix = asRoot ? ["/usr/sbin/runuser", "-u", "nobody", "--"] : []
        self.prefix = prefix
        func server(_ tool: String, _ arguments: [String]) throws {
            // The server outlives pg_ctl and must hold none of this process's descriptors: Foundation's
            // Process learns that a child ended when its socket closes, which a daemon holding it prevents.
            let closing = #"for n in $(ls /proc/$$/fd); do if [ "$n" -gt 2 ]; then eval "exec $n>&-" 2>/dev/null; fi; done; exec "$@""#
            let command = ["/bin/bash", "-c", closing, "bash"] + prefix + [binaries + "/" + tool] + arguments
            let result = try Self.run(command[0], Array(command.dropFirst()), directory: folder)
            guard result.status == 0 else {
                throw ServerFailure(description: "\(tool) failed (\(result.status)): \(result.output)")
            }
        }
        do {
            try server("initdb", ["-D", folder + "/data", "-U", Self.superuser, "--pwfile=" + passwordFile, "--auth=scram-sha-256",
                                  "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])
            try server("pg_ctl", ["-D", folder + "/data", "-l", folder + "/server.log", "-w", "-t", "60", "-o", startOptions, "start"])
        } catch {
            try? FileManager.default.removeItem(atPath: folder)
            throw error
        }
        guard shared else { return }
        PostgresServer.running.withLock { $0 = (prefix, binaries, folder) }
        atexit {
            // Stop the server with the test process; nothing outlives the run.
            guard let (prefix, binaries, folder) = PostgresServer.running.withLock({ $0 }) else { return }
            let command = prefix + [binaries + "/pg_ctl", "-D", folder + "/data", "-m", "immediate", "-w", "stop"]
            _ = try? PostgresServer.run(command[0], Array(command.dropFirst()), directory: folder)
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    private static let running = Mutex<([String], String, String)?>(nil)

    /// A store for one test: a new database owned by a new owner (LOGIN, CREATEROLE), and its URL.
    public func makeStore() throws -> TestStore {
        let suffix = Self.suffix()
        let owner = "owner_\(suffix)", database = "db_\(suffix)", password = "pw-\(suffix)"
        try superSQL("CREATE ROLE \(owner) LOGIN CREATEROLE PASSWORD '\(password)'")
        try superSQL("CREATE DATABASE \(database) OWNER \(owner) ENCODING 'UTF8'")
        return TestStore(server: self, database: database, owner: owner, ownerPassword: password, suffix: suffix)
    }

    /// Runs SQL as the superuser on the `postgres` database.
    public func superSQL(_ sql: String, database: String = "postgres") throws {
        let result = try psql(sql, user: Self.superuser, password: Self.superPassword, database: database)
        guard result.status == 0 else { throw ServerFailure(description: "psql failed: \(result.stderr)") }
    }

    /// Runs SQL through psql over TCP as `user`, without stopping at the first error's caller.
    public func psql(_ sql: String, user: String, password: String, database: String) throws -> ProcessResult {
        try Fixtures.run(binaries + "/psql", ["-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", String(port),
                                             "-U", user, "-d", database, "-c", sql],
                         environment: ["PGPASSWORD": password, "PGPASSFILE": "/nonexistent", "PGSSLMODE": certificates == nil ? "disable" : "require"])
    }

    static func suffix() -> String { String(UUID().uuidString.lowercased().filter(\.isHexDigit).prefix(10)) }

    /// A TCP port on 127.0.0.1 nothing listens on now.
    public static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 ? getsockname(fd, $0, &length) : -1 }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func run(_ executable: String, _ arguments: [String], directory: String? = nil) throws -> (status: Int32, output: String) {
        let result = try Fixtures.run(executable, arguments, directory: directory.map { URL(fileURLWithPath: $0) }, timeout: 120)
        return (result.status, result.stdout + result.stderr)
    }
}

/// One test's database on the shared server, with its owner; members are made with `makeMember`.
public struct TestStore: Sendable {
    public let server: PostgresServer
    public let database: String
    public let owner: String
    public let ownerPassword: String
    public let suffix: String

    /// The URL for `user` (the owner by default), with extra query text such as `sslmode=disable`.
    public func url(user: String? = nil, port: Int? = nil, query: String = "sslmode=disable") -> String {
        "postgresql://\(user ?? owner)@127.0.0.1:\(port ?? server.port)/\(database)?\(query)"
    }

    /// A new database user with a password (its name made unique to this test), not yet a member.
    public func makeUser(_ name: String) throws -> (user: String, password: String) {
        let user = "\(name)_\(suffix)", password = "pw-\(name)-\(suffix)"
        try server.superSQL("CREATE ROLE \(user) LOGIN PASSWORD '\(password)'")
        return (user, password)
    }

    /// The environment for runsheet connecting with `password` (and no password file).
    public func environment(password: String) -> [String: String] {
        ["PGPASSWORD": password, "PGPASSFILE": "/nonexistent", "RUNSHEET_STORE": ""]
    }

    /// psql on this database as `user`.
    public func sql(_ sql: String, user: String, password: String) throws -> ProcessResult {
        try server.psql(sql, user: user, password: password, database: database)
    }
}
