import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Found by the adversary of issue 14 (F2): a run folder moved from another repository verified
/// once that repository's commit was fetched into any ref (`git fetch ../other HEAD:refs/x/a`),
/// even with the ref deleted again. The recorded commit must be in the history of HEAD
/// (docs/JOURNAL.md, "The recorded commit").
@Suite struct RecordedCommitHistoryTests {
    typealias Repository = SignatureBindingAttackTests.Repository

    func git(_ repo: Repository, _ arguments: [String]) throws {
        let result = try Fixtures.run("/usr/bin/git", ["-C", repo.dir.path] + arguments)
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
    }

    @Test func aRunMovedInAfterItsCommitWasFetchedIntoAnotherRefFailsVerifyAndReadiness() throws {
        let repo = try Repository()
        defer { repo.remove() }
        let other = try Repository()
        defer { other.remove() }
        try FileManager.default.removeItem(at: other.signers)
        try FileManager.default.copyItem(at: repo.signers, to: other.signers)
        try other.commit()
        let id = try repo.startedRun()
        try FileManager.default.createDirectory(at: other.dir.appendingPathComponent("runs"), withIntermediateDirectories: true)
        try FileManager.default.moveItem(at: repo.dir.appendingPathComponent("runs/\(id)"), to: other.dir.appendingPathComponent("runs/\(id)"))
        try? FileManager.default.removeItem(at: other.dir.appendingPathComponent("runs/\(id)/lease"))
        try git(other, ["fetch", "-q", repo.dir.path, "HEAD:refs/x/a"])
        try git(other, ["update-ref", "-d", "refs/x/a"])
        let verified = try other.runsheet(["verify", id])
        #expect(verified.status == 1, "\(verified.stdout)\(verified.stderr)")
        #expect(verified.stdout.contains("which is not in the history of HEAD of the repository \(other.dir.path) that holds the run")
                && verified.stdout.contains("check out or merge the branch the run was started from")
                && !verified.stdout.contains("fetch"), "\(verified.stdout)")
        let ready = try other.runsheet(["readiness", "releases/r.md"])
        #expect(ready.status == 1 && ready.stdout.contains("which is not in the history of HEAD of the repository"), "\(ready.stdout)\(ready.stderr)")
    }

    /// A run started on a branch verifies while that branch is checked out, not from another
    /// branch that does not contain its commit, and again once the branch is merged.
    @Test func aRunFromABranchVerifiesWhereItsBranchIsCheckedOutOrMerged() throws {
        let repo = try Repository()
        defer { repo.remove() }
        try git(repo, ["branch", "-M", "main"])
        try git(repo, ["checkout", "-q", "-b", "feature"])
        try "feature\n".write(to: repo.dir.appendingPathComponent("feature.txt"), atomically: true, encoding: .utf8)
        try repo.commit()
        let id = try repo.startedRun()
        #expect(try repo.runsheet(["verify", id]).status == 0)
        try git(repo, ["checkout", "-q", "main"])
        let elsewhere = try repo.runsheet(["verify", id])
        #expect(elsewhere.status == 1 && elsewhere.stdout.contains("check out or merge the branch the run was started from"), "\(elsewhere.stdout)\(elsewhere.stderr)")
        try git(repo, ["merge", "-q", "--ff-only", "feature"])
        let merged = try repo.runsheet(["verify", id])
        #expect(merged.status == 0, "\(merged.stdout)\(merged.stderr)")
    }
}
