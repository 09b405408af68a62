import Foundation
@testable import RunsheetPostgres
import Testing

/// The store URL read as libpq reads it, without a server.
@Suite struct ConnectionSettingsTests {
    func parse(_ url: String, _ environment: [String: String] = [:]) throws -> ConnectionSettings {
        try ConnectionSettings.parse(url, environment: environment, loginName: "osuser", home: "/home/osuser")
    }

    @Test func everyPartOfTheURL() throws {
        let settings = try parse("postgresql://alice@db.example.com:6543/runs?sslmode=verify-full&sslrootcert=/etc/ca.pem&connect_timeout=7&application_name=rs")
        #expect(settings.endpoint == .tcp(host: "db.example.com", port: 6543))
        #expect(settings.user == "alice" && settings.database == "runs")
        #expect(settings.sslMode == .verifyFull && settings.sslRootCert == "/etc/ca.pem")
        #expect(settings.connectTimeout == 7 && settings.applicationName == "rs")
        #expect(settings.description == "alice@db.example.com:6543/runs")
    }

    @Test func postgresSchemeAndPercentDecoding() throws {
        let settings = try parse("postgres://al%40ice@h%2Dost/my%20db")
        #expect(settings.user == "al@ice" && settings.database == "my db")
        #expect(settings.endpoint == .tcp(host: "h-ost", port: 5432))
        #expect(try parse("postgresql://%2Ftmp%2Fpg/db").endpoint == .socket(directory: "/tmp/pg", port: 5432))
        #expect(try parse("postgresql://[::1]:5433/db").endpoint == .tcp(host: "::1", port: 5433))
        #expect(try parse("postgresql:///db?host=/run/pg&port=6000").endpoint == .socket(directory: "/run/pg", port: 6000))
    }

    @Test func defaultsAsLibpq() throws {
        let bare = try parse("postgresql://")
        #expect(bare.endpoint == .socket(directory: "/var/run/postgresql", port: 5432))
        #expect(bare.user == "osuser" && bare.database == "osuser" && bare.sslMode == .prefer)
        #expect(bare.sslRootCert == "/home/osuser/.postgresql/root.crt" && bare.connectTimeout == nil)
        let environment = ["PGHOST": "envhost", "PGPORT": "7000", "PGUSER": "envuser", "PGDATABASE": "envdb",
                           "PGSSLMODE": "require", "PGSSLROOTCERT": "/ca", "PGCONNECT_TIMEOUT": "1"]
        let fromEnvironment = try parse("postgresql://", environment)
        #expect(fromEnvironment.endpoint == .tcp(host: "envhost", port: 7000))
        #expect(fromEnvironment.user == "envuser" && fromEnvironment.database == "envdb")
        #expect(fromEnvironment.sslMode == .require && fromEnvironment.sslRootCert == "/ca")
        #expect(fromEnvironment.connectTimeout == 2, "libpq waits at least 2 seconds")
        let given = try parse("postgresql://u@h:1/d?sslmode=disable", environment)
        #expect(given.endpoint == .tcp(host: "h", port: 1) && given.user == "u" && given.database == "d" && given.sslMode == .disable)
        #expect(try parse("postgresql://h/d?ssl=true").sslMode == .require)
        #expect(try parse("postgresql://u@h").database == "u", "the database defaults to the user")
    }

    @Test func aPasswordInTheURLIsRefusedWithoutShowingIt() throws {
        for url in ["postgresql://alice:s3cret@h/db", "postgresql://alice@h/db?password=s3cret", "postgresql://alice:@h/db"] {
            let error = #expect(throws: StoreError.self) { try parse(url) }
            guard case .passwordInURL? = error else { Issue.record("\(url): \(String(describing: error))"); continue }
            let sentence = error?.errorDescription ?? ""
            #expect(!sentence.contains("s3cret") && sentence.contains("PGPASSWORD") && sentence.contains(".pgpass"))
            #expect(error?.isUsage == true)
        }
        #expect(ConnectionSettings.redacted("postgresql://a:pw@h/d?password=x&sslmode=require") == "postgresql://a:***@h/d?password=***&sslmode=require")
    }

    @Test func mistakesAreOneSentenceEach() throws {
        let cases: [(String, String)] = [
            ("mysql://h/d", "must start with postgresql://"),
            ("postgresql://h/d?sslmode=sometimes", "sslmode 'sometimes'"),
            ("postgresql://h/d?sslcert=/x", "'sslcert'"),
            ("postgresql://h/d?nonsense=1", "'nonsense'"),
            ("postgresql://h:99999/d", "the port '99999'"),
            ("postgresql://h:abc/d", "the port 'abc'"),
            ("postgresql://h1,h2/d", "more than one host"),
            ("postgresql://h/d%zz", "% not followed by two hex digits"),
            ("postgresql://h/d%00", "%00"),
            ("postgresql://[::1/d", "closing ]"),
            ("postgresql://h/d?sslmode", "has no value"),
        ]
        for (url, words) in cases {
            let error = #expect(throws: StoreError.self) { try parse(url) }
            let sentence = error?.errorDescription ?? ""
            #expect(sentence.contains(words), "\(url): \(sentence)")
            #expect(!sentence.contains("\n") && error?.isUsage == true)
        }
        #expect(throws: StoreError.invalidSSLMode("bogus")) { try parse("postgresql://h/d", ["PGSSLMODE": "bogus"]) }
    }

    @Test func sslModesOnPostgresNIO() throws {
        func tls(_ mode: String) throws -> (allowed: Bool, enforced: Bool) {
            let settings = try parse("postgresql://h/d?sslmode=\(mode)&sslrootcert=/nonexistent/root.crt")
            let tls = try StoreConnection.tls(for: settings)
            return (tls.isAllowed, tls.isEnforced)
        }
        #expect(try tls("disable") == (false, false))
        #expect(try tls("allow") == (false, false))
        #expect(try tls("prefer") == (true, false))
        #expect(try tls("require") == (true, true))
        // verify-ca and verify-full check the certificate, so they need the root file (libpq's rule).
        for mode in ["verify-ca", "verify-full"] {
            let error = #expect(throws: StoreError.self) { try tls(mode) }
            #expect(error?.errorDescription?.contains("/nonexistent/root.crt does not exist") == true)
        }
        let system = try parse("postgresql://h/d?sslmode=verify-full&sslrootcert=system")
        #expect(try StoreConnection.tls(for: system).isEnforced)
    }
}

/// PGPASSWORD and the password file, by libpq's rules.
@Suite struct PasswordLookupTests {
    let settings = try! ConnectionSettings.parse("postgresql://alice@db.example.com:5432/runs", environment: [:], loginName: "x", home: nil)

    @Test func matchingLines() {
        let file = """
            other.example.com:5432:runs:alice:wrong
            db.example.com:5432:runs:bob:wrong
            db.example.com:*:runs:alice:first\\:one\\\\x:ignored
            *:*:*:*:second
            """
        #expect(PasswordLookup.match(file, settings: settings) == "first:one\\x", "first match wins, escapes undone, the password ends at a colon")
        #expect(PasswordLookup.match("*:*:*:*:any", settings: settings) == "any")
        #expect(PasswordLookup.match("db.example.com:5432:runs:alice", settings: settings) == nil, "a line of four fields is no entry")
        #expect(PasswordLookup.match("db\\.example.com:5432:runs:alice:p", settings: settings) == "p", "\\x is x")
        #expect(PasswordLookup.match("d*:5432:runs:alice:p", settings: settings) == nil, "* only as a whole field")
        #expect(PasswordLookup.match("db.example.com:5432:\\*:alice:p", settings: settings) == nil, "an escaped * is a literal")
        let socket = try! ConnectionSettings.parse("postgresql:///runs?user=alice", environment: [:], loginName: "x", home: nil)
        #expect(PasswordLookup.match("localhost:5432:runs:alice:local", settings: socket) == "local", "the default socket is localhost")
    }

    @Test func environmentFirstThenAPrivateFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pgpass-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = folder + "/.pgpass"
        try "*:*:*:alice:fromfile\n".write(toFile: file, atomically: true, encoding: .utf8)
        chmod(file, 0o600)
        #expect(PasswordLookup.password(for: settings, environment: ["PGPASSWORD": "fromenv"], home: folder).password == "fromenv")
        #expect(PasswordLookup.password(for: settings, environment: [:], home: folder).password == "fromfile")
        #expect(PasswordLookup.passwordFilePath(environment: [:], home: folder) == file)
        let other = folder + "/elsewhere"
        try "*:*:*:*:passfile\n".write(toFile: other, atomically: true, encoding: .utf8)
        chmod(other, 0o600)
        #expect(PasswordLookup.password(for: settings, environment: ["PGPASSFILE": other], home: folder).password == "passfile")
        chmod(file, 0o640)
        let ignored = PasswordLookup.password(for: settings, environment: [:], home: folder)
        #expect(ignored.password == nil)
        #expect(ignored.warning?.contains("has group or world access") == true && ignored.warning?.contains(file) == true)
        #expect(PasswordLookup.password(for: settings, environment: [:], home: folder + "/none") == (nil, nil))
    }
}

/// --store, then RUNSHEET_STORE, then the configuration's store:, then the folder store.
@Suite struct StoreChoiceTests {
    @Test func precedence() {
        let environment = ["RUNSHEET_STORE": "postgresql://env/db"]
        #expect(StoreChoice.resolve(flag: "postgresql://flag/db", environment: environment, configured: "postgresql://conf/db")
                == .postgres(url: "postgresql://flag/db", from: .flag))
        #expect(StoreChoice.resolve(flag: nil, environment: environment, configured: "postgresql://conf/db")
                == .postgres(url: "postgresql://env/db", from: .environment))
        #expect(StoreChoice.resolve(flag: "", environment: ["RUNSHEET_STORE": " "], configured: "postgresql://conf/db")
                == .postgres(url: "postgresql://conf/db", from: .configuration))
        #expect(StoreChoice.resolve(flag: nil, environment: [:], configured: nil) == .folder)
        #expect(StoreChoice.resolve(flag: "folder", environment: environment, configured: nil) == .folder)
    }
}
