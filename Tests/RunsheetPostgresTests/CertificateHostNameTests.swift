@testable import RunsheetPostgres
import Testing

/// libpq's verify-full match of a host name against a certificate's DNS name, without a server
/// (StoreTLSTests plays it against one).
@Suite struct CertificateHostNameTests {
    @Test func aNameMatchesItselfInAnyCaseAndAWildcardOneLabel() {
        #expect(CertificateHostName.matches("db.example.com", host: "DB.Example.COM"))
        #expect(CertificateHostName.matches("db.example.com", host: "db.example.com."))
        #expect(CertificateHostName.matches("*.example.com", host: "db.example.com"))
        #expect(!CertificateHostName.matches("*.example.com", host: "example.com"))
        #expect(!CertificateHostName.matches("*.example.com", host: "a.db.example.com"))
        #expect(!CertificateHostName.matches("*.example.com", host: ".example.com"))
        #expect(!CertificateHostName.matches("db.example.com", host: "db.example.org"))
        #expect(!CertificateHostName.matches("127.0.0.1", host: "localhost"))
    }

    @Test func addressesAreTheOnesPostgresNIOTakesForAddresses() {
        #expect(CertificateHostName.isAddress("127.0.0.1") && CertificateHostName.isAddress("::1"))
        #expect(!CertificateHostName.isAddress("localhost") && !CertificateHostName.isAddress("db.example.com"))
    }
}
