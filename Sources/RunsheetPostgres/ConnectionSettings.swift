import Foundation

/// Where and as whom to connect, read from a `postgresql://` URL as libpq reads one
/// (PostgreSQL's "Connection URIs" and "Environment Variables"): percent-decoding, query
/// parameters, and PGHOST, PGPORT, PGUSER, PGDATABASE, PGSSLMODE, PGSSLROOTCERT and
/// PGCONNECT_TIMEOUT for what the URL leaves out. postgres-nio reads none of these.
public struct ConnectionSettings: Sendable, Equatable {
    /// Where the server is: a TCP host and port, or the folder of its Unix socket (a host starting with `/`).
    public enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int)
        case socket(directory: String, port: Int)
    }

    public var endpoint: Endpoint
    public var user: String
    public var database: String
    public var sslMode: SSLMode
    /// `sslrootcert`: a file of trusted CA certificates, or `system` for the system's roots.
    public var sslRootCert: String
    /// Seconds to wait for the connection; nil for the default of 10.
    public var connectTimeout: Int?
    public var applicationName: String?

    /// libpq's socket folder when no host is given: Debian's, where its postgresql package puts it.
    public static let defaultSocketDirectory = "/var/run/postgresql"

    /// The parameters runsheet takes in a URL's query; other libpq parameters are refused by name.
    static let takenParameters: Set<String> = ["host", "port", "dbname", "user", "sslmode", "sslrootcert", "connect_timeout", "application_name", "ssl"]

    public var port: Int {
        switch endpoint {
        case .tcp(_, let port), .socket(_, let port): port
        }
    }

    /// `user@host:port/database`, for sentences: never a password.
    public var description: String {
        switch endpoint {
        case .tcp(let host, let port):
            let shown = host.contains(":") ? "[\(host)]" : host
            return "\(user)@\(shown):\(port)/\(database)"
        case .socket(let directory, let port):
            return "\(user)@\(directory)/.s.PGSQL.\(port) database \(database)"
        }
    }

    /// Reads `url` (`postgresql://` or `postgres://`), filling what it leaves out from `environment`
    /// as libpq does; `loginName` is the operating-system user, libpq's last default for the user.
    public static func parse(_ url: String, environment: [String: String], loginName: String, home: String?) throws -> ConnectionSettings {
        let shown = redacted(url)
        func fail(_ reason: String) -> StoreError { .invalidURL(shown, reason: reason) }
        guard let schemeEnd = ["postgresql://", "postgres://"].first(where: { url.hasPrefix($0) }) else {
            throw fail("it must start with postgresql:// or postgres://")
        }
        var rest = Substring(url.dropFirst(schemeEnd.count))
        var query = Substring("")
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        var path: Substring?
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        var values: [String: String] = [:]
        // userspec@hostspec: the last @ ends the user part, as in libpq.
        if let at = rest.lastIndex(of: "@") {
            let userspec = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if userspec.contains(":") { throw StoreError.passwordInURL(shown) }
            let user = try decode(userspec, fail)
            if !user.isEmpty { values["user"] = user }
        }
        if !rest.isEmpty {
            if rest.contains(",") { throw fail("it names more than one host, and runsheet connects to one") }
            var hostPart = rest
            var portPart: Substring?
            if hostPart.hasPrefix("[") {
                guard let close = hostPart.firstIndex(of: "]") else { throw fail("an IPv6 address in [ ] has no closing ]") }
                let after = hostPart[hostPart.index(after: close)...]
                if after.hasPrefix(":") { portPart = after.dropFirst() } else if !after.isEmpty { throw fail("unexpected '\(after)' after the IPv6 address") }
                hostPart = hostPart[hostPart.index(after: hostPart.startIndex)..<close]
            } else if let colon = hostPart.firstIndex(of: ":") {
                portPart = hostPart[hostPart.index(after: colon)...]
                hostPart = hostPart[..<colon]
            }
            let host = try decode(hostPart, fail)
            if !host.isEmpty { values["host"] = host }
            if let portPart, !portPart.isEmpty { values["port"] = try decode(portPart, fail) }
        }
        if let path, !path.isEmpty { values["dbname"] = try decode(path, fail) }
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            guard let equals = pair.firstIndex(of: "=") else { throw fail("the query parameter '\(pair)' has no value (name=value)") }
            let name = try decode(pair[..<equals], fail)
            let value = try decode(pair[pair.index(after: equals)...], fail)
            if name == "password" { throw StoreError.passwordInURL(shown) }
            guard takenParameters.contains(name) else { throw StoreError.unsupportedParameter(shown, name: name) }
            if name == "ssl" {
                // libpq's JDBC-compatible ssl=true means sslmode=require.
                guard value == "true" else { throw fail("ssl takes only the value true") }
                values["sslmode"] = "require"
            } else {
                values[name] = value
            }
        }
        func setting(_ name: String, _ variable: String) -> String? {
            if let value = values[name], !value.isEmpty { return value }
            if let value = environment[variable], !value.isEmpty { return value }
            return nil
        }
        let portText = setting("port", "PGPORT") ?? "5432"
        guard let port = Int(portText), (1...65535).contains(port) else { throw fail("the port '\(portText)' is not a number from 1 to 65535") }
        let host = setting("host", "PGHOST")
        let endpoint: Endpoint = if let host, !host.hasPrefix("/") { .tcp(host: host, port: port) }
            else { .socket(directory: host ?? defaultSocketDirectory, port: port) }
        let user = setting("user", "PGUSER") ?? loginName
        let database = setting("dbname", "PGDATABASE") ?? user
        let modeText = setting("sslmode", "PGSSLMODE") ?? "prefer"
        guard let mode = SSLMode(rawValue: modeText) else { throw StoreError.invalidSSLMode(modeText) }
        let rootCert = setting("sslrootcert", "PGSSLROOTCERT") ?? ((home ?? "~") + "/.postgresql/root.crt")
        var timeout: Int?
        if let text = setting("connect_timeout", "PGCONNECT_TIMEOUT") {
            guard let seconds = Int(text) else { throw fail("connect_timeout '\(text)' is not a whole number of seconds") }
            // libpq: zero or less waits forever, and 1 counts as 2.
            timeout = seconds <= 0 ? nil : max(seconds, 2)
        }
        return ConnectionSettings(endpoint: endpoint, user: user, database: database, sslMode: mode, sslRootCert: rootCert,
                                  connectTimeout: timeout, applicationName: values["application_name"])
    }

    /// libpq's percent-decoding: `%` needs two hex digits, and `%00` is refused.
    static func decode(_ text: Substring, _ fail: (String) -> StoreError) throws -> String {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard iterator.count >= 2, let high = hexValue(iterator.popFirst()!), let low = hexValue(iterator.popFirst()!) else {
                throw fail("'\(text)' has a % not followed by two hex digits")
            }
            let value = high << 4 | low
            if value == 0 { throw fail("'\(text)' has a forbidden %00") }
            bytes.append(value)
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else { throw fail("'\(text)' does not decode to UTF-8 text") }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The URL as it may be shown: any password in it replaced by `***`.
    public static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        let authorityEnd = url[scheme.upperBound...].firstIndex { $0 == "/" || $0 == "?" } ?? url.endIndex
        var shown = url
        if let at = url[scheme.upperBound..<authorityEnd].lastIndex(of: "@"),
           let colon = url[scheme.upperBound..<at].firstIndex(of: ":") {
            shown = String(url[..<url.index(after: colon)]) + "***" + String(url[at...])
        }
        // A password=… query parameter too.
        if let range = shown.range(of: #"([?&])password=[^&]*"#, options: .regularExpression) {
            let separator = shown[range].first!
            shown.replaceSubrange(range, with: "\(separator)password=***")
        }
        return shown
    }
}

/// libpq's `sslmode`, from least to most checking.
public enum SSLMode: String, Sendable, Equatable, CaseIterable {
    case disable, allow, prefer, require
    case verifyCA = "verify-ca"
    case verifyFull = "verify-full"
}
