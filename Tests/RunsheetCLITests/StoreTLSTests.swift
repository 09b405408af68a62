import Foundation
import RunsheetTestSupport
import Testing

/// The suite's one PostgreSQL server with TLS (`ServerCertificates`: a CA, a server certificate
/// for IP:127.0.0.1 and DNS:localhost, `hostssl` only over TCP), started before its first test
/// and removed after its last.
struct TLSServerScope: SuiteTrait, TestScoping {
    @TaskLocal static var server: PostgresServer?

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let certificates = try ServerCertificates.make()
        defer { try? FileManager.default.removeItem(atPath: certificates.folder) }
        let server = try PostgresServer.own(tls: certificates)
        defer { server.remove() }
        try await Self.$server.withValue(server, operation: function)
    }
}

extension Trait where Self == TLSServerScope {
    static var tlsServer: Self { TLSServerScope() }
}

/// sslmode as a user meets it, through the binary, against a real server with TLS: what connects,
/// and each way checking the certificate fails (one sentence, exit 6). The server without TLS
/// (sslmode=require: "does not offer TLS") is played in PostgresStoreTests.
@Suite(.serialized, .tlsServer) struct StoreTLSTests {
    /// The suite's server and a fresh store on it, with its schema (made over sslmode=require).
    func store() throws -> (server: PostgresServer, certificates: ServerCertificates, store: TestStore) {
        let server = try #require(TLSServerScope.server)
        let certificates = try #require(server.certificates)
        let store = try server.makeStore()
        let made = try Fixtures.runsheet(["store", "init", url(store, query: "sslmode=require"), "--role", "rs_\(store.suffix)"],
                                         environment: try environment(store))
        #expect(made.status == 0 && made.stdout.contains("created the runsheet schema"), "\(made.stdout)\(made.stderr)")
        return (server, certificates, store)
    }

    func url(_ store: TestStore, host: String = "127.0.0.1", query: String) -> String {
        "postgresql://\(store.owner)@\(host):\(store.server.port)/\(store.database)?\(query)"
    }

    /// The owner's password, no password file, and a home of its own: no ~/.postgresql/root.crt
    /// unless the test puts one there, and no PGSSLMODE or PGSSLROOTCERT from the caller.
    func environment(_ store: TestStore, home: URL? = nil) throws -> [String: String] {
        let home = try home ?? Fixtures.temporaryDirectory("tls-home")
        return store.environment(password: store.ownerPassword).merging(["HOME": home.path, "PGSSLMODE": "", "PGSSLROOTCERT": ""]) { $1 }
    }

    /// `status --store URL`, as a user checks a store.
    func status(_ url: String, _ environment: [String: String]) throws -> ProcessResult {
        try Fixtures.runsheet(["status", "--store", url], environment: environment)
    }

    /// Exit 6 and one sentence, the TLS failure's, naming the store and holding `words`.
    func expectTLSFailure(_ result: ProcessResult, _ store: TestStore, host: String = "127.0.0.1", _ words: String...,
                          sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(result.status == 6, "\(result.stderr)", sourceLocation: sourceLocation)
        let named = "runsheet: the TLS connection to the PostgreSQL store \(store.owner)@\(host):\(store.server.port)/\(store.database) failed: "
        #expect(result.stderr.hasPrefix(named), "\(result.stderr)", sourceLocation: sourceLocation)
        for word in words { #expect(result.stderr.contains(word), "\(word): \(result.stderr)", sourceLocation: sourceLocation) }
        #expect(result.stderr.split(separator: "\n").count == 1, "one sentence: \(result.stderr)", sourceLocation: sourceLocation)
        for noise in ["Error", "error:", "BoringSSL", "NIOSSL", "0x", "Fatal"] {
            #expect(!result.stderr.contains(noise), "no internals (\(noise)): \(result.stderr)", sourceLocation: sourceLocation)
        }
    }

    @Test func requireVerifyCAAndVerifyFullConnectWithTheRightRoot() throws {
        let (_, certificates, store) = try store()
        let environment = try environment(store)
        let root = "sslrootcert=\(certificates.authority)"
        // The server lets TCP in with TLS only, so each answer below came over TLS.
        for (host, query) in [("127.0.0.1", "sslmode=prefer"), ("127.0.0.1", "sslmode=require"), ("127.0.0.1", "ssl=true"),
                              ("127.0.0.1", "sslmode=verify-ca&\(root)"), ("localhost", "sslmode=verify-ca&\(root)"),
                              // 127.0.0.1 matches the certificate's IP address entry, localhost its DNS name.
                              ("127.0.0.1", "sslmode=verify-full&\(root)"), ("localhost", "sslmode=verify-full&\(root)")] {
            let result = try status(url(store, host: host, query: query), environment)
            #expect(result.status == 0, "\(host) \(query): \(result.stderr)")
            #expect(result.stderr.isEmpty, "\(host) \(query): \(result.stderr)")
        }
        // The same from PGSSLMODE and PGSSLROOTCERT, as libpq reads them.
        let fromEnvironment = try status("postgresql://\(store.owner)@localhost:\(store.server.port)/\(store.database)",
                                         environment.merging(["PGSSLMODE": "verify-full", "PGSSLROOTCERT": certificates.authority]) { $1 })
        #expect(fromEnvironment.status == 0, "\(fromEnvironment.stderr)")
    }

    @Test func aCertificateFromAnotherRootFailsInOneSentence() throws {
        let (_, certificates, store) = try store()
        let environment = try environment(store)
        for mode in ["verify-ca", "verify-full"] {
            for host in ["127.0.0.1", "localhost"] {
                let result = try status(url(store, host: host, query: "sslmode=\(mode)&sslrootcert=\(certificates.otherAuthority)"), environment)
                expectTLSFailure(result, store, host: host, "certificate", certificates.otherAuthority)
            }
        }
        // A root file that is not there: said before anything is sent.
        let missing = try status(url(store, query: "sslmode=verify-full&sslrootcert=\(certificates.folder)/none.crt"), environment)
        expectTLSFailure(missing, store, "\(certificates.folder)/none.crt does not exist")
    }

    /// verify-full checks the name the user gave, as libpq does: a DNS name in the certificate for
    /// a host name, an IP address entry for an address.
    @Test func verifyFullToAHostTheCertificateDoesNotNameFails() throws {
        let (server, certificates, store) = try store()
        let environment = try environment(store)
        let root = "sslrootcert=\(certificates.authority)"
        // A certificate for IP:127.0.0.1 only: localhost reaches 127.0.0.1, but the certificate does not name it.
        try server.offer(certificate: certificates.addressOnlyCertificate)
        defer { try? server.offer(certificate: certificates.serverCertificate) }
        let byName = try status(url(store, host: "localhost", query: "sslmode=verify-full&\(root)"), environment)
        expectTLSFailure(byName, store, host: "localhost", "does not name the host localhost")
        // The control: the same certificate for the address it names, and verify-ca, which checks no name.
        #expect(try status(url(store, query: "sslmode=verify-full&\(root)"), environment).status == 0)
        #expect(try status(url(store, host: "localhost", query: "sslmode=verify-ca&\(root)"), environment).status == 0)
        // And the certificate for DNS:localhost only: 127.0.0.1 is not in it.
        try server.offer(certificate: certificates.nameOnlyCertificate)
        let byAddress = try status(url(store, query: "sslmode=verify-full&\(root)"), environment)
        expectTLSFailure(byAddress, store, "does not name the host 127.0.0.1")
        #expect(try status(url(store, host: "localhost", query: "sslmode=verify-full&\(root)"), environment).status == 0)
    }

    @Test func disableIsRefusedByAHostsslServerAndAllowRetriesWithTLS() throws {
        let (_, _, store) = try store()
        let environment = try environment(store)
        let disabled = try status(url(store, query: "sslmode=disable"), environment)
        #expect(disabled.status == 6, "\(disabled.stderr)")
        #expect(disabled.stderr.hasPrefix("runsheet: the PostgreSQL store \(store.owner)@127.0.0.1:\(store.server.port)/\(store.database) refused the connection: "),
                "\(disabled.stderr)")
        #expect(disabled.stderr.contains("no encryption") && disabled.stderr.split(separator: "\n").count == 1, "\(disabled.stderr)")
        let allowed = try status(url(store, query: "sslmode=allow"), environment)
        #expect(allowed.status == 0 && allowed.stderr.isEmpty, "\(allowed.stderr)")
        // store init writes through allow too.
        let again = try Fixtures.runsheet(["store", "init", url(store, query: "sslmode=allow"), "--role", "rs_\(store.suffix)"], environment: environment)
        #expect(again.status == 0 && again.stdout.contains("at version 4 already"), "\(again.stdout)\(again.stderr)")
    }

    /// libpq: with ~/.postgresql/root.crt present, sslmode=require checks the chain against it (as verify-ca).
    @Test func requireChecksTheCertificateWhenTheHomeHoldsARootFile() throws {
        let (_, certificates, store) = try store()
        let home = try Fixtures.temporaryDirectory("tls-home")
        try FileManager.default.createDirectory(at: home.appendingPathComponent(".postgresql"), withIntermediateDirectories: true)
        let rootFile = home.appendingPathComponent(".postgresql/root.crt").path
        let environment = try environment(store, home: home)
        try FileManager.default.copyItem(atPath: certificates.otherAuthority, toPath: rootFile)
        for query in ["sslmode=require", "ssl=true"] {
            expectTLSFailure(try status(url(store, query: query), environment), store, "certificate", rootFile)
        }
        // prefer is left unchecked, as the table in docs/TEAMS.md says.
        #expect(try status(url(store, query: "sslmode=prefer"), environment).status == 0)
        // The right root in its place: the same URL connects.
        try FileManager.default.removeItem(atPath: rootFile)
        try FileManager.default.copyItem(atPath: certificates.authority, toPath: rootFile)
        let checked = try status(url(store, query: "sslmode=require"), environment)
        #expect(checked.status == 0, "\(checked.stderr)")
    }
}
