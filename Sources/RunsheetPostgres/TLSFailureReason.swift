import Foundation
import NIOSSL

/// Why a TLS connection failed, in words a user can act on, instead of NIOSSL's and BoringSSL's
/// error dumps (an error code, a source path and line of BoringSSL's); nil for an error that is
/// not about TLS.
enum TLSFailureReason {
    static func of(_ error: any Error, settings: ConnectionSettings) -> String? {
        if let extra = error as? NIOSSLExtraError, extra == .failedToValidateHostname {
            let host = if case .tcp(let host, _) = settings.endpoint { host } else { "" }
            return "the server's certificate does not name the host \(host), which sslmode=\(settings.sslMode.rawValue) requires"
        }
        let stack: [BoringSSLInternalError]
        switch error {
        case NIOSSLError.handshakeFailed(let boring): stack = internalErrors(boring)
        case let boring as BoringSSLError: stack = internalErrors(boring)
        case let ssl as NIOSSLError: return "the TLS connection broke (\(ssl))"
        case let extra as NIOSSLExtraError: return "\(extra)".replacingOccurrences(of: "NIOSSLExtraError.", with: "")
        default: return nil
        }
        let names = stack.compactMap(reasonName)
        if names.contains("CERTIFICATE_VERIFY_FAILED") {
            let roots = settings.sslRootCert == "system" ? "the system's trusted root certificates" : "the root certificates in \(settings.sslRootCert)"
            return "the server's certificate does not verify against \(roots) (it is signed by another CA, or has expired, or is not for a server)"
        }
        return "the TLS handshake failed (\(names.isEmpty ? "no reason given" : names.joined(separator: ", ")))"
    }

    private static func internalErrors(_ error: BoringSSLError) -> [BoringSSLInternalError] {
        switch error {
        case .sslError(let stack), .unknownError(let stack), .invalidSNIName(let stack), .failedToSetALPN(let stack): stack
        default: []
        }
    }

    /// BoringSSL's reason name, such as `CERTIFICATE_VERIFY_FAILED`, from
    /// `Error: 268435581 error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED at FILE:LINE`.
    private static func reasonName(_ error: BoringSSLInternalError) -> String? {
        let text = "\(error)"
        let end = text.range(of: " at ", options: .backwards)?.lowerBound ?? text.endIndex
        guard let colon = text[..<end].lastIndex(of: ":") else { return nil }
        let name = text[text.index(after: colon)..<end]
        return name.isEmpty ? nil : String(name)
    }
}
