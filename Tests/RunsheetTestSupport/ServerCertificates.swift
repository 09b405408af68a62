import Foundation

/// Certificates for a test PostgreSQL server with TLS, made with the `openssl` CLI: a CA, a server
/// certificate it signs for `IP:127.0.0.1` and `DNS:localhost`, two more for the same key naming
/// only one of them, and a second CA that signed nothing of the server's (a wrong root). Also the
/// pg_hba.conf that only lets TLS in over TCP. No certificate's common name is a host name.
public struct ServerCertificates: Sendable {
    /// The folder holding them all, owned by the test process.
    public let folder: String
    /// The CA that signed the server's certificate: the right `sslrootcert`.
    public var authority: String { folder + "/ca.crt" }
    /// Another CA: the wrong `sslrootcert`.
    public var otherAuthority: String { folder + "/other-ca.crt" }
    public var serverCertificate: String { folder + "/server.crt" }
    /// The server's key, with a certificate for `IP:127.0.0.1` only.
    public var addressOnlyCertificate: String { folder + "/address-only.crt" }
    /// The server's key, with a certificate for `DNS:localhost` only.
    public var nameOnlyCertificate: String { folder + "/name-only.crt" }
    public var serverKey: String { folder + "/server.key" }
    /// `hostssl` only over TCP: a connection without TLS finds no pg_hba.conf entry.
    public var hostBasedAuthentication: String { folder + "/pg_hba.conf" }

    /// Makes them in a new temporary folder; each key is a P-256 key, each certificate valid for a day.
    public static func make() throws -> ServerCertificates {
        let folder = try Fixtures.temporaryDirectory("pg-tls").path
        func openssl(_ arguments: [String]) throws {
            let result = try Fixtures.run("/usr/bin/env", ["openssl"] + arguments, directory: URL(fileURLWithPath: folder), timeout: 60)
            guard result.status == 0 else {
                throw PostgresServer.ServerFailure(description: "openssl \(arguments.first ?? "") failed (\(result.status)): \(result.stderr)")
            }
        }
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        for name in ["ca", "other-ca"] {
            try openssl(["req", "-x509"] + key + ["-keyout", "\(name).key", "-out", "\(name).crt", "-days", "1",
                         "-subj", "/CN=runsheet test \(name)", "-addext", "basicConstraints=critical,CA:TRUE",
                         "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        }
        try openssl(["req"] + key + ["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=runsheet test server"])
        for (name, names) in [("server", "IP:127.0.0.1, DNS:localhost"), ("address-only", "IP:127.0.0.1"), ("name-only", "DNS:localhost")] {
            try """
                basicConstraints = CA:FALSE
                keyUsage = critical, digitalSignature, keyEncipherment
                extendedKeyUsage = serverAuth
                subjectAltName = \(names)

                """.write(toFile: folder + "/\(name).ext", atomically: false, encoding: .utf8)
            try openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                         "-out", "\(name).crt", "-days", "1", "-extfile", "\(name).ext"])
        }
        // Over TCP, TLS or nothing (a Unix socket, which has no TLS, with a password).
        try """
            local   all all              scram-sha-256
            hostssl all all 127.0.0.1/32 scram-sha-256

            """.write(toFile: folder + "/pg_hba.conf", atomically: false, encoding: .utf8)
        return ServerCertificates(folder: folder)
    }

    /// Copies what the server reads into `serverFolder`: its certificate, its key (mode 0600, as
    /// PostgreSQL demands) and pg_hba.conf; returns the `-c` options that turn TLS on with them.
    func install(in serverFolder: String) throws -> String {
        let manager = FileManager.default
        try manager.createDirectory(atPath: serverFolder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        for (source, name) in [(serverCertificate, "server.crt"), (serverKey, "server.key"), (hostBasedAuthentication, "pg_hba.conf")] {
            try manager.copyItem(atPath: source, toPath: serverFolder + "/" + name)
        }
        try manager.setAttributes([.posixPermissions: 0o600], ofItemAtPath: serverFolder + "/server.key")
        return "-c ssl=on -c ssl_cert_file=\(serverFolder)/server.crt -c ssl_key_file=\(serverFolder)/server.key -c hba_file=\(serverFolder)/pg_hba.conf"
    }
}
