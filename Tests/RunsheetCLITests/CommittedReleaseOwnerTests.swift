import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// "The release's owner" who may close a release (and mark its PIR done) is the owner its release
/// file names as committed at HEAD: an operator who names themselves owner in an uncommitted edit,
/// or in a release file never committed, may not close it. Through the real binary, in Git.
@Suite struct CommittedReleaseOwnerTests {
    let rules = CommittedRulesTests()
    let close = ReleaseCloseTests()

    /// A Git repository with the roles, the runbook and the release (owner owen) committed, and a completed run: GO.
    func repository(commitRelease: Bool = true) throws -> URL {
        let dir = try close.repository()
        if !commitRelease { try FileManager.default.removeItem(at: dir.appendingPathComponent("release.md")) }
        try FileManager.default.removeItem(at: dir.appendingPathComponent(".git"))
        try rules.git(dir, ["init", "-q"])
        try rules.git(dir, ["add", "-A"])
        try rules.git(dir, ["commit", "-qm", "rules and release"])
        if !commitRelease { try ReleaseCloseTests.release.write(to: dir.appendingPathComponent("release.md"), atomically: true, encoding: .utf8) }
        #expect(try close.runsheet(["run", "change.md", "--as", "olly"], in: dir, stdin: "done\ndone\ndone\n").status == 0)
        return dir
    }

    @Test(arguments: ["edited", "uncommitted"])
    func anOwnerNamedOnlyInTheWorkingCopyMayNotClose(_ how: String) throws {
        let dir = try repository(commitRelease: how == "edited")
        let release = dir.appendingPathComponent("release.md")
        try ReleaseCloseTests.release.replacingOccurrences(of: "owner: owen", with: "owner: olly").write(to: release, atomically: true, encoding: .utf8)
        let refused = try close.runsheet(["release", "close", "release.md", "--as", "olly"], in: dir)
        let why = how == "edited" ? "it differs from its version committed at HEAD" : "it is not committed at HEAD"
        #expect(refused.status == 1 && refused.stderr.contains("olly is the owner the release file release.md names, but \(why), so that owner does not count")
                && refused.stderr.contains("so they may not close release rel-1; nothing was written"), "\(refused.status) \(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: close.closures(dir)))
        // The owner the committed file names, with the file as committed, closes.
        if how == "edited" {
            try rules.git(dir, ["checkout", "--", "release.md"])
            let closed = try close.runsheet(["release", "close", "release.md", "--as", "owen"], in: dir)
            #expect(closed.status == 0 && closed.stdout.contains("release rel-1 closed by owen"), "\(closed.stdout)\(closed.stderr)")
        } else {
            // A release manager still may.
            let closed = try close.runsheet(["release", "close", "release.md", "--as", "rita"], in: dir)
            #expect(closed.status == 0 && closed.stdout.contains("release rel-1 closed by rita"), "\(closed.stdout)\(closed.stderr)")
        }
    }

    /// A closure written by the working-copy owner (by an older runsheet, or appended by hand) does
    /// not count: readiness says why, and the release is not closed.
    @Test func aClosureByAWorkingCopyOwnerDoesNotCount() throws {
        let dir = try repository()
        let release = dir.appendingPathComponent("release.md")
        try ReleaseCloseTests.release.replacingOccurrences(of: "owner: owen", with: "owner: olly").write(to: release, atomically: true, encoding: .utf8)
        // Rita closes (she may), then the record is rewritten as olly's with the chain recomputed.
        #expect(try close.runsheet(["release", "close", "release.md", "--as", "rita"], in: dir).status == 0)
        let log = GovernanceLog(path: close.closures(dir), name: "closures")
        var record = try #require(try log.read().first)
        (record.actor, record.canonical) = ("olly", "olly")
        record.hash = ""
        record.hash = try record.computedHash()
        try Data(try record.canonicalBytes() + [UInt8(ascii: "\n")]).write(to: URL(fileURLWithPath: close.closures(dir)))
        let readiness = try close.runsheet(["readiness", "release.md"], in: dir)
        #expect(!readiness.stdout.contains("| Closed | closed by olly") && readiness.stdout.contains("so that owner does not count"), "\(readiness.stdout)")
    }
}
