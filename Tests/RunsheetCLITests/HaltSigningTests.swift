import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Where the policy requires signatures, halts and lifts are signed; an unsigned lift written
/// by hand (its chain recomputed) does not lift, and a signed halt edited by hand fails closed.
@Suite struct HaltSigningTests {
    func repository() throws -> (URL, String) {
        let dir = try HaltTests().repository()
        try "signatures: required\n".write(to: dir.appendingPathComponent(".runsheet/policy.yaml"), atomically: true, encoding: .utf8)
        let keys = try Fixtures.temporaryDirectory("keys")
        let rita = try SigningKeys.generate(name: "rita", in: keys)
        try SigningKeys.allow([("rita", rita)], in: dir)
        return (dir, rita)
    }

    func halt(_ arguments: [String], in dir: URL) throws -> ProcessResult {
        try Fixtures.runsheet(["halt"] + arguments, environment: ["RUNSHEET_SIGNING_KEY": ""], directory: dir)
    }

    @Test func haltsAreSignedWhereThePolicyRequiresIt() throws {
        let (dir, rita) = try repository()
        let path = dir.appendingPathComponent(".runsheet/halts.jsonl").path
        let unsigned = try halt(["--as", "rita", "--reason", "INC-2041"], in: dir)
        #expect(unsigned.status == 1 && unsigned.stderr.contains("requires signatures"), "\(unsigned.stderr)")
        #expect(!FileManager.default.fileExists(atPath: path))
        let signed = try halt(["--as", "rita", "--reason", "INC-2041", "--key", rita], in: dir)
        #expect(signed.status == 0, "\(signed.stderr)")
        #expect(try String(contentsOfFile: path, encoding: .utf8).contains(#""signature":"-----BEGIN SSH SIGNATURE-----"#))
        // An insider appends an unsigned lift in rita's name, chain and all: it does not lift.
        let log = GovernanceLog(path: path, name: "halts")
        let forged = GovernanceRecord(type: Halt.lifted, by: Actor(name: "rita", host: "x", via: "terminal"), data: ["halts": .array([.int(1)])])
        try log.append(forged, signer: nil) { _ in }
        let status = try Fixtures.runsheet(["status", "--runs-dir", dir.appendingPathComponent("runs").path], directory: dir)
        #expect(status.stdout.contains("halt 1: production halted by rita"), "\(status.stdout)\(status.stderr)")
        // The signed halt's reason rewritten, every hash recomputed: its signature no longer verifies.
        var records = try log.read()
        records[0].data["reason"] = .string("nothing")
        var previous = ""
        var lines: [String] = []
        for var record in records {
            record.prev = previous
            record.hash = ""
            record.hash = try record.computedHash()
            previous = record.hash
            lines.append(String(decoding: try record.canonicalBytes(), as: UTF8.self))
        }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: false, encoding: .utf8)
        let after = try Fixtures.runsheet(["status", "--runs-dir", dir.appendingPathComponent("runs").path], directory: dir)
        #expect(after.stdout.contains("every production step is blocked") && after.stdout.contains("signature"), "\(after.stdout)")
    }
}
