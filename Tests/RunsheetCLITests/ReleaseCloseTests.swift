import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// `runsheet release close` and what readiness shows of halts and closures, through the real binary.
@Suite struct ReleaseCloseTests {
    static let release = """
        ---
        release: rel-1
        title: Checkout release
        owner: owen
        ---
        # Checkout release

        ## Requires

        - [Change](change.md)
        """

    func repository() throws -> URL {
        let dir = try HaltTests().repository()
        try "roles:\n  release-manager: [rita]\n  operator: [olly, owen]\n"
            .write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        try Self.release.write(to: dir.appendingPathComponent("release.md"), atomically: true, encoding: .utf8)
        return dir
    }

    func runsheet(_ arguments: [String], in dir: URL, stdin: String? = nil) throws -> ProcessResult {
        try Fixtures.runsheet(arguments + ["--runs-dir", dir.appendingPathComponent("runs").path], stdin: stdin, directory: dir)
    }

    func closures(_ dir: URL) -> String { dir.appendingPathComponent(".runsheet/closures.jsonl").path }

    @Test func aNoGoReleaseIsNotClosed() throws {
        let dir = try repository()
        let result = try runsheet(["release", "close", "release.md", "--as", "rita"], in: dir)
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("release rel-1 is NO-GO") && result.stderr.contains("nothing was written"), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: closures(dir)))
    }

    @Test func theOwnerClosesOnceAndReadinessShowsIt() throws {
        let dir = try repository()
        #expect(try runsheet(["run", "change.md", "--as", "olly"], in: dir, stdin: "done\ndone\ndone\n").status == 0)
        #expect(try runsheet(["readiness", "release.md"], in: dir).status == 0)
        let stranger = try runsheet(["release", "close", "release.md", "--as", "olly"], in: dir)
        #expect(stranger.status == 1 && stranger.stderr.contains("olly is not the release's owner (owen)"), "\(stranger.stderr)")
        #expect(!FileManager.default.fileExists(atPath: closures(dir)))
        // The owner in another letter case is the owner.
        let closed = try runsheet(["release", "close", "release.md", "--as", "OWEN"], in: dir)
        #expect(closed.status == 0, "\(closed.stderr)")
        #expect(closed.stdout.contains("release rel-1 closed by OWEN at") && closed.stdout.contains("GO then"), "\(closed.stdout)")
        #expect(closed.stdout.contains("no PIR follow-up is due"), "\(closed.stdout)")
        let record = try String(contentsOfFile: closures(dir), encoding: .utf8)
        #expect(record.contains(#""type":"release.closed""#) && record.contains(#""verdict":"GO""#), "\(record)")
        // The hash recorded is the readiness report's as of the time printed.
        let asOf = try #require(closed.stdout.split(separator: "\n").first { $0.contains("--at") }?.split(separator: " ").last { $0.hasSuffix("Z") })
        let json = try runsheet(["readiness", "release.md", "--format", "json", "--at", String(asOf)], in: dir)
        #expect(record.contains(SHA256Hex.of(json.stdout)), "\(record)\n\(json.stdout)")
        let readiness = try runsheet(["readiness", "release.md"], in: dir)
        #expect(readiness.status == 0 && readiness.stdout.contains("| Closed | closed by OWEN at"), "\(readiness.stdout)")
        let twice = try runsheet(["release", "close", "release.md", "--as", "rita"], in: dir)
        #expect(twice.status == 1 && twice.stderr.contains("is already closed by OWEN"), "\(twice.stderr)")
        #expect(try String(contentsOfFile: closures(dir), encoding: .utf8).split(separator: "\n").count == 1)
        // A run started after the closure is flagged.
        #expect(try runsheet(["run", "change.md", "--as", "olly"], in: dir, stdin: "done\ndone\ndone\n").status == 0)
        let later = try runsheet(["readiness", "release.md"], in: dir)
        #expect(later.stdout.contains("| Runs after closure | change-"), "\(later.stdout)")
    }

    /// A release with an exception closes GO with exceptions, and a PIR follow-up falls due.
    @Test func exceptionsMakeAPIRFollowUpDue() throws {
        let dir = try repository()
        #expect(try runsheet(["run", "change.md", "--as", "olly"], in: dir, stdin: "done\ndone\nskip announced elsewhere\n").status == 0)
        let closed = try runsheet(["release", "close", "release.md", "--as", "rita"], in: dir)
        #expect(closed.status == 0, "\(closed.stderr)")
        #expect(closed.stdout.contains("GO-WITH-EXCEPTIONS then") && closed.stdout.contains("PIR follow-up due: 1 exception"), "\(closed.stdout)")
        let readiness = try runsheet(["readiness", "release.md"], in: dir)
        #expect(readiness.stdout.contains("| PIR follow-up | due: 1 exception"), "\(readiness.stdout)")
    }

    /// A halt in force blocks readiness (NO-GO, with who, why and since when), and so the closure.
    @Test func aHaltInForceIsNoGo() throws {
        let dir = try repository()
        #expect(try runsheet(["run", "change.md", "--as", "olly"], in: dir, stdin: "done\ndone\ndone\n").status == 0)
        #expect(try Fixtures.runsheet(["halt", "--as", "rita", "--reason", "INC-2041 checkout errors"], directory: dir).status == 0)
        let readiness = try runsheet(["readiness", "release.md"], in: dir)
        #expect(readiness.status == 1, "\(readiness.stdout)")
        #expect(readiness.stdout.contains("**halt 1**: production is halted by rita since") && readiness.stdout.contains("INC-2041"), "\(readiness.stdout)")
        let close = try runsheet(["release", "close", "release.md", "--as", "rita"], in: dir)
        #expect(close.status == 1 && close.stderr.contains("is NO-GO"), "\(close.stderr)")
        #expect(!FileManager.default.fileExists(atPath: closures(dir)))
    }

    /// A closures file edited by hand blocks readiness and refuses a closure; the JSON report
    /// carries the closure before that.
    @Test func aHandEditedClosuresFileFailsClosed() throws {
        let dir = try repository()
        #expect(try runsheet(["run", "change.md", "--as", "olly"], in: dir, stdin: "done\ndone\ndone\n").status == 0)
        #expect(try runsheet(["release", "close", "release.md", "--as", "rita"], in: dir).status == 0)
        let json = try runsheet(["readiness", "release.md", "--format", "json"], in: dir)
        #expect(json.stdout.contains(#""closure" : {"#) && json.stdout.contains(#""by" : "rita""#), "\(json.stdout)")
        let text = try String(contentsOfFile: closures(dir), encoding: .utf8)
        try text.replacingOccurrences(of: #""verdict":"GO""#, with: #""verdict":"GO ""#).write(toFile: closures(dir), atomically: false, encoding: .utf8)
        let readiness = try runsheet(["readiness", "release.md"], in: dir)
        #expect(readiness.status == 1 && readiness.stdout.contains("**closures**") && readiness.stdout.contains("closures.jsonl:1 does not verify"), "\(readiness.stdout)")
        let again = try runsheet(["release", "close", "release.md", "--as", "rita"], in: dir)
        #expect(again.status == 1, "\(again.stderr)")
    }
}
