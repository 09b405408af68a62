import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Signed lifts and closures name what they act on: a lift the halts it lifts (by content hash)
/// and the repository it was written in; a closure the repository, the release file and its
/// SHA-256. Records copied from another repository, or moved within a file, act on nothing.
@Suite struct GovernanceReplayTests {
    /// Makes `dir` a Git repository with one commit of its own (its root commit differs from any other's).
    static func commit(_ dir: URL) throws {
        try? FileManager.default.removeItem(at: dir.appendingPathComponent(".git"))
        try UUID().uuidString.write(to: dir.appendingPathComponent("origin.txt"), atomically: true, encoding: .utf8)
        let identity = ["-c", "user.name=t", "-c", "user.email=t@example.com"]
        for arguments in [["init", "-q"], ["add", "-A"], identity + ["commit", "-qm", "init"]] {
            let result = try Fixtures.run("/usr/bin/env", ["git"] + arguments, directory: dir)
            try #require(result.status == 0, "\(result.stderr)")
        }
    }

    func haltRepository() throws -> URL {
        let dir = try HaltTests().repository()
        try Self.commit(dir)
        return dir
    }

    func halts(_ dir: URL) -> GovernanceLog { GovernanceLog(path: HaltTests().haltsFile(dir), name: "halts") }

    /// Writes `records` as the whole halts file, each chained after the one before (what rechain.py does).
    func rewrite(_ dir: URL, with records: [GovernanceRecord]) throws {
        try? FileManager.default.removeItem(atPath: HaltTests().haltsFile(dir))
        for record in records { try halts(dir).append(record, signer: nil) { _ in } }
    }

    func inForce(_ dir: URL) throws -> String {
        try HaltTests().run(["status"], in: dir).stdout
    }

    @Test func aLiftFromAnotherRepositoryLiftsNothingHere() throws {
        let a = try haltRepository(), b = try haltRepository()
        #expect(try HaltTests().runsheet(["halt", "--as", "rita", "--reason", "INC-A"], in: a).status == 0)
        #expect(try HaltTests().runsheet(["halt", "--lift", "--as", "rita", "--reason", "fixed"], in: a).status == 0)
        #expect(try HaltTests().runsheet(["halt", "--as", "rita", "--reason", "INC-B real outage"], in: b).status == 0)
        let lift = try halts(a).read()[1]
        try halts(b).append(lift, signer: nil) { _ in }
        let status = try inForce(b)
        #expect(status.contains("halt 1: production halted by rita") && status.contains("INC-B real outage"), "\(status)")
        // A's halt and its lift both copied in: the halt counts (stopping is the safe side), the lift does not.
        let foreign = try halts(a).read()
        try rewrite(b, with: [try halts(b).read()[0]] + foreign)
        let both = try inForce(b)
        #expect(both.contains("INC-B real outage") && both.contains("INC-A"), "\(both)")
        let production = try HaltTests().run(["run", "change.md", "--as", "olly"], in: b, stdin: "done\ndone\ndone\n")
        #expect(production.status != 0 && production.stdout.contains("production is halted by rita"), "\(production.stdout)\(production.stderr)")
    }

    @Test func aLiftMovedOntoAnotherHaltLiftsNothing() throws {
        let dir = try haltRepository()
        #expect(try HaltTests().runsheet(["halt", "--as", "rita", "--reason", "INC-A"], in: dir).status == 0)
        #expect(try HaltTests().runsheet(["halt", "--lift", "--as", "rita", "--reason", "fixed"], in: dir).status == 0)
        #expect(try HaltTests().runsheet(["halt", "--as", "rita", "--reason", "INC-B real outage"], in: dir).status == 0)
        let records = try halts(dir).read()
        // Halt B first, then the lift of halt A: the lift's number now points at B.
        try rewrite(dir, with: [records[2], records[1]])
        let status = try inForce(dir)
        #expect(status.contains("halt 1: production halted by rita") && status.contains("INC-B real outage"), "\(status)")
        // A lift naming B's hash but dated before B was declared does not count either.
        var early = records[1]
        early.time = "2020-01-01T00:00:00.000000Z"
        early.data["halts"] = .array([.string(SHA256Hex.of(try records[2].signedBytes(log: "halts")))])
        try halts(dir).append(early, signer: nil) { _ in }
        #expect(try inForce(dir).contains("INC-B real outage"))
        // The real lift still works.
        let lift = try HaltTests().runsheet(["halt", "--lift", "--as", "rita", "--reason", "resolved"], in: dir)
        #expect(lift.status == 0 && lift.stdout.contains("lifted halt 1"), "\(lift.stdout)\(lift.stderr)")
        #expect(!(try inForce(dir)).contains("INC-B real outage"))
    }

    func releaseRepository() throws -> URL {
        let dir = try ReleaseCloseTests().repository()
        try Self.commit(dir)
        #expect(try ReleaseCloseTests().runsheet(["run", "change.md", "--as", "olly"], in: dir, stdin: "done\ndone\ndone\n").status == 0)
        return dir
    }

    @Test func aClosureFromAnotherRepositoryClosesNothingHere() throws {
        let a = try releaseRepository(), b = try releaseRepository()
        #expect(try ReleaseCloseTests().runsheet(["release", "close", "release.md", "--as", "rita"], in: a).status == 0)
        try FileManager.default.copyItem(atPath: ReleaseCloseTests().closures(a), toPath: ReleaseCloseTests().closures(b))
        let readiness = try ReleaseCloseTests().runsheet(["readiness", "release.md"], in: b)
        #expect(readiness.stdout.contains("| Closed | not counted: a closure by rita (it was written in another repository"), "\(readiness.stdout)")
        let close = try ReleaseCloseTests().runsheet(["release", "close", "release.md", "--as", "owen"], in: b)
        #expect(close.status == 0 && close.stdout.contains("release rel-1 closed by owen"), "\(close.stdout)\(close.stderr)")
        let now = try ReleaseCloseTests().runsheet(["readiness", "release.md"], in: b)
        #expect(now.stdout.contains("| Closed | closed by owen at"), "\(now.stdout)")
    }

    @Test func aClosureCountsForTheReleaseFileAsItWasClosed() throws {
        let dir = try releaseRepository()
        #expect(try ReleaseCloseTests().runsheet(["release", "close", "release.md", "--as", "rita"], in: dir).status == 0)
        let record = try String(contentsOfFile: ReleaseCloseTests().closures(dir), encoding: .utf8)
        #expect(record.contains(#""file":"release.md""#) && record.contains(#""repository":""#), "\(record)")
        let release = dir.appendingPathComponent("release.md")
        try (String(contentsOf: release, encoding: .utf8) + "\n- [Another change](other.md)\n").write(to: release, atomically: true, encoding: .utf8)
        let readiness = try ReleaseCloseTests().runsheet(["readiness", "release.md"], in: dir)
        #expect(readiness.stdout.contains("not counted: a closure by rita (the release file release.md changed since it was closed"), "\(readiness.stdout)")
        // The same release id in another file of the repository is not the release closed.
        try ReleaseCloseTests.release.write(to: dir.appendingPathComponent("copy.md"), atomically: true, encoding: .utf8)
        let copy = try ReleaseCloseTests().runsheet(["readiness", "copy.md"], in: dir)
        #expect(copy.stdout.contains("not counted: a closure by rita (it closed the release file release.md, not copy.md)"), "\(copy.stdout)")
    }
}
