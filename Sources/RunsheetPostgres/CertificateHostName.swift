import Foundation
import NIOCore
import NIOSSL

/// libpq's `sslmode=verify-full` check of a host name against the server's certificate.
///
/// NIOSSL's own check also accepts a certificate whose IP address entry is the address the name
/// resolved to; libpq does not (an IP address entry matches only a host given as an address), so
/// a certificate any trusted CA issued for an address would pass for every name pointed at it.
/// runsheet keeps NIOSSL's check and adds libpq's: one of the certificate's DNS names matches the
/// host, or, when it has none, its common name does.
enum CertificateHostName {
    /// Whether `host` is an IPv4 or IPv6 address, as postgres-nio decides (then NIOSSL checks it
    /// against the certificate's IP address entries, as libpq does).
    static func isAddress(_ host: String) -> Bool {
        var v4 = in_addr(), v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    /// The DNS names `certificate` is for: its subject alternative names of that type, or its common
    /// name when it has none.
    static func names(_ certificate: NIOSSLCertificate) -> [String] {
        let dnsNames = certificate._subjectAlternativeNames().filter { $0.nameType == .dnsName }
            .map { String(decoding: $0.contents, as: UTF8.self) }
        if !dnsNames.isEmpty { return dnsNames }
        return certificate.subjectName.filter { $0.type == .commonName }.map(\.value)
    }

    /// libpq's match: case-insensitive, and `*.` stands for exactly one leftmost label.
    static func matches(_ name: String, host: String) -> Bool {
        let name = name.lowercased()
        var host = host.lowercased()
        if host.hasSuffix(".") { host.removeLast() }
        guard name.hasPrefix("*.") else { return name == host }
        guard let dot = host.firstIndex(of: "."), dot != host.startIndex else { return false }
        return host[dot...] == name.dropFirst()
    }

    /// Checks the certificate the server on `channel` presented against `host`.
    static func check(_ channel: any Channel, host: String, store: String) async throws {
        guard let certificate = try await channel.nioSSL_peerCertificate().get() else {
            throw StoreError.tlsFailed(store, why: "the server presented no certificate")
        }
        let names = names(certificate)
        guard names.contains(where: { matches($0, host: host) }) else {
            let named = names.isEmpty ? "no host name" : names.joined(separator: ", ")
            throw StoreError.tlsFailed(store, why: "the server's certificate does not name the host \(host) (it names \(named)), which sslmode=verify-full requires")
        }
    }
}
