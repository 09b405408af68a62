import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Found by the adversary of issue 14: `halt --key KEY` without `--as` was refused for the name
/// in RUNSHEET_USER or Git's user.email, although with a key the person is the key's principal
/// (docs/JOURNAL.md, "Allowed signers and SSH signatures"), as for `sign`.
@Suite struct HaltKeyPrincipalTests {
    @Test func aHaltWithAKeyIsTheKeysPrincipalNotTheConfiguredName() throws {
        let (dir, rita) = try HaltSigningTests().repository()
        let path = dir.appendingPathComponent(".runsheet/halts.jsonl").path
        let halted = try Fixtures.runsheet(["halt", "--reason", "INC-2041", "--key", rita],
                                           environment: ["RUNSHEET_SIGNING_KEY": "", "RUNSHEET_USER": "dan"], directory: dir)
        #expect(halted.status == 0, "\(halted.stdout)\(halted.stderr)")
        let log = try String(contentsOfFile: path, encoding: .utf8)
        #expect(log.contains(#""actor":"rita""#) && !log.contains(#""actor":"dan""#), "\(log)")
        let lifted = try Fixtures.runsheet(["halt", "--lift", "--key", rita],
                                           environment: ["RUNSHEET_SIGNING_KEY": "", "RUNSHEET_USER": "dan"], directory: dir)
        #expect(lifted.status == 0, "\(lifted.stdout)\(lifted.stderr)")
    }
}
