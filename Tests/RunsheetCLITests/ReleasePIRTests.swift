import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// `runsheet release pir`: the PIR follow-up a closed release owes is marked done by its owner or
/// a release manager, once, beside the closure in closures.jsonl; readiness then shows it done.
/// Refused (one sentence, exit 1, nothing written) when no PIR is due or by someone else.
@Suite struct ReleasePIRTests {
    let close = ReleaseCloseTests()

    func lines(_ dir: URL) throws -> [String] {
        try String(contentsOfFile: close.closures(dir), encoding: .utf8).split(separator: "\n").map(String.init)
    }

    /// A release closed GO with exceptions: one exception, so a PIR is due.
    func closedWithAnException() throws -> URL {
        let dir = try close.repository()
        #expect(try close.runsheet(["run", "change.md", "--as", "olly"], in: dir, stdin: "done\ndone\nskip announced elsewhere\n").status == 0)
        #expect(try close.runsheet(["release", "close", "release.md", "--as", "rita"], in: dir).status == 0)
        return dir
    }

    @Test func theOwnerMarksThePIRDoneOnceAndReadinessShowsIt() throws {
        let dir = try closedWithAnException()
        let stranger = try close.runsheet(["release", "pir", "release.md", "--as", "olly", "--link", "https://wiki.example.com/pir/1"], in: dir)
        #expect(stranger.status == 1 && stranger.stderr.contains("olly is not the release's owner (owen)") && stranger.stderr.contains("nothing was written"), "\(stranger.stderr)")
        let noLink = try close.runsheet(["release", "pir", "release.md", "--as", "owen"], in: dir)
        #expect(noLink.status == 2 && noLink.stderr.contains("needs --link"), "\(noLink.stderr)")
        #expect(try lines(dir).count == 1)
        let done = try close.runsheet(["release", "pir", "release.md", "--as", "owen", "--link", "https://wiki.example.com/pir/1"], in: dir)
        #expect(done.status == 0, "\(done.stderr)")
        #expect(done.stdout.contains("release rel-1: PIR done by owen at") && done.stdout.contains("https://wiki.example.com/pir/1"), "\(done.stdout)")
        let records = try lines(dir)
        #expect(records.count == 2 && records[1].contains(#""type":"release.pir""#), "\(records)")
        // Hash-linked to the closure it completes.
        let closureHash = try #require((try JSONSerialization.jsonObject(with: Data(records[0].utf8)) as? [String: Any])?["hash"] as? String)
        #expect(records[1].contains(#""closure":"\#(closureHash)""#), "\(records[1])")
        let readiness = try close.runsheet(["readiness", "release.md"], in: dir)
        #expect(readiness.stdout.contains("| PIR follow-up | PIR done by owen at") && !readiness.stdout.contains("due: 1 exception"), "\(readiness.stdout)")
        let json = try close.runsheet(["readiness", "release.md", "--format", "json"], in: dir)
        #expect(json.stdout.contains(#""pir" : {"#) && json.stdout.contains("wiki.example.com"), "\(json.stdout)")
        let twice = try close.runsheet(["release", "pir", "release.md", "--as", "rita", "--link", "again"], in: dir)
        #expect(twice.status == 1 && twice.stderr.contains("is already done by owen"), "\(twice.stderr)")
        #expect(try lines(dir).count == 2)
    }

    @Test func noPIRIsMarkedWhereNoneIsDue() throws {
        // Not closed.
        let open = try close.repository()
        #expect(try close.runsheet(["run", "change.md", "--as", "olly"], in: open, stdin: "done\ndone\ndone\n").status == 0)
        let notClosed = try close.runsheet(["release", "pir", "release.md", "--as", "rita", "--link", "x"], in: open)
        #expect(notClosed.status == 1 && notClosed.stderr.contains("has no PIR follow-up due because it is not closed"), "\(notClosed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: close.closures(open)))
        // Closed GO, nothing went wrong: no PIR is due.
        #expect(try close.runsheet(["release", "close", "release.md", "--as", "rita"], in: open).status == 0)
        let none = try close.runsheet(["release", "pir", "release.md", "--as", "rita", "--link", "x"], in: open)
        #expect(none.status == 1 && none.stderr.contains("with no PIR follow-up due"), "\(none.stderr)")
        #expect(try lines(open).count == 1)
    }

    @Test func aPIRIsSignedWhereThePolicyRequiresIt() throws {
        let dir = try close.repository()
        let keys = try Fixtures.temporaryDirectory("keys")
        let rita = try SigningKeys.generate(name: "rita", in: keys), olly = try SigningKeys.generate(name: "olly", in: keys)
        try SigningKeys.allow([("rita", rita), ("olly", olly)], in: dir)
        try "signatures: required\n".write(to: dir.appendingPathComponent(".runsheet/policy.yaml"), atomically: true, encoding: .utf8)
        let environment = ["RUNSHEET_SIGNING_KEY": ""]
        let runs = dir.appendingPathComponent("runs").path
        let run = try Fixtures.runsheet(["run", "change.md", "--as", "olly", "--key", olly, "--runs-dir", runs], stdin: "done\ndone\nskip announced elsewhere\n", environment: environment, directory: dir)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        // Under required signatures someone other than its starter seals the ended run.
        let id = try #require(RepositoryRuns.runs(in: dir).first)
        let seal = try Fixtures.runsheet(["seal", id, "--as", "rita", "--key", rita, "--runs-dir", runs], environment: environment, directory: dir)
        #expect(seal.status == 0, "\(seal.stdout)\(seal.stderr)")
        let closed = try Fixtures.runsheet(["release", "close", "release.md", "--as", "rita", "--key", rita, "--runs-dir", runs], environment: environment, directory: dir)
        #expect(closed.status == 0, "\(closed.stdout)\(closed.stderr)")
        let unsigned = try Fixtures.runsheet(["release", "pir", "release.md", "--as", "rita", "--link", "x", "--runs-dir", runs], environment: environment, directory: dir)
        #expect(unsigned.status == 1 && unsigned.stderr.contains("requires signatures"), "\(unsigned.stderr)")
        #expect(try lines(dir).count == 1)
        let signed = try Fixtures.runsheet(["release", "pir", "release.md", "--as", "rita", "--key", rita, "--link", "x", "--runs-dir", runs], environment: environment, directory: dir)
        #expect(signed.status == 0, "\(signed.stderr)")
        #expect(try lines(dir)[1].contains(#""signature":"-----BEGIN SSH SIGNATURE-----"#))
        // An unsigned PIR appended by hand (chain and all) in rita's name does not count.
        let forged = try close.repository()
        try SigningKeys.allow([("rita", rita), ("olly", olly)], in: forged)
        try "signatures: required\n".write(to: forged.appendingPathComponent(".runsheet/policy.yaml"), atomically: true, encoding: .utf8)
        let forgedRuns = forged.appendingPathComponent("runs").path
        #expect(try Fixtures.runsheet(["run", "change.md", "--as", "olly", "--key", olly, "--runs-dir", forgedRuns], stdin: "done\ndone\nskip announced elsewhere\n", environment: environment, directory: forged).status == 0)
        let forgedID = try #require(RepositoryRuns.runs(in: forged).first)
        #expect(try Fixtures.runsheet(["seal", forgedID, "--as", "rita", "--key", rita, "--runs-dir", forgedRuns], environment: environment, directory: forged).status == 0)
        #expect(try Fixtures.runsheet(["release", "close", "release.md", "--as", "rita", "--key", rita, "--runs-dir", forgedRuns], environment: environment, directory: forged).status == 0)
        let log = GovernanceLog(path: close.closures(forged), name: "closures")
        let closure = try #require(try log.read().first)
        let pir = ReleasePIR(release: "rel-1", by: "rita", at: "", link: "forged", closure: closure.hash)
        try log.append(GovernanceRecord(type: ReleasePIR.done, by: Actor(name: "rita", host: "x", via: "terminal"), data: pir.data, repository: closure.repository), signer: nil) { _ in }
        let readiness = try Fixtures.runsheet(["readiness", "release.md", "--runs-dir", forgedRuns], environment: environment, directory: forged)
        #expect(readiness.stdout.contains("due: 1 exception") && readiness.stdout.contains("does not count: it is not signed"), "\(readiness.stdout)")
    }
}
