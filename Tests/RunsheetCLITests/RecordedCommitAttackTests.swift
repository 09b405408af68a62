import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// A run belongs to the history of its repository: the commit its `run.started` records must be
/// a commit there (A7: a commit unknown to the repository, or none at all, switched off the check
/// of a run dated before its commit; A8: a run folder moved into another repository with the same
/// allowed signers verified there). docs/JOURNAL.md, "The recorded commit".
@Suite struct RecordedCommitAttackTests {
    typealias Repository = SignatureBindingAttackTests.Repository

    /// The run's events dated 40 days back (before the repository's commit was made), with
    /// run.started's `gitCommit` replaced by `commit` (left out when nil), and signed again with
    /// op's key, as an insider with a script and ssh-keygen would.
    func backdate(_ repo: Repository, _ id: String, commit: String?) throws {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var events: [RunEvent] = []
        for var event in try SignatureBindingAttackTests.events(repo, id) {
            event.time = formatter.string(from: try #require(formatter.date(from: event.time)).addingTimeInterval(-40 * 86400))
            if event.type == .runStarted { event.data["gitCommit"] = commit.map { .string($0) } }
            if event.signature != nil { try SignatureBindingAttackTests.sign(&event, in: repo, run: id, key: repo.key("op"), name: "event-\(event.seq)") }
            events.append(event)
        }
        try RepositoryRuns.rewrite(repo.dir, id: id, events)
    }

    @Test func aBackdatedRunNamingACommitUnknownToTheRepositoryFailsVerify() throws {
        let repo = try Repository()
        defer { repo.remove() }
        let id = try repo.startedRun()
        try backdate(repo, id, commit: "0123456789abcdef0123456789abcdef01234567")
        let verified = try repo.runsheet(["verify", id])
        #expect(verified.status == 1, "\(verified.stdout)\(verified.stderr)")
        #expect(verified.stdout.contains("run.started records commit 0123456789ab, which is not in the history of HEAD of the repository")
                && verified.stdout.contains("check out or merge the branch the run was started from"), "\(verified.stdout)")
        let ready = try repo.runsheet(["readiness", "releases/r.md"])
        #expect(ready.status == 1 && ready.stdout.contains("which is not in the history of HEAD of the repository"), "\(ready.stdout)\(ready.stderr)")
    }

    @Test func aBackdatedRunRecordingNoCommitFailsVerifyWhereSignaturesAreRequired() throws {
        let repo = try Repository()
        defer { repo.remove() }
        let id = try repo.startedRun()
        try backdate(repo, id, commit: nil)
        let verified = try repo.runsheet(["verify", id])
        #expect(verified.status == 1, "\(verified.stdout)\(verified.stderr)")
        #expect(verified.stdout.contains("run.started records no commit, but the repository ") && verified.stdout.contains("requires signatures"), "\(verified.stdout)")
        let status = try repo.runsheet(["status", id])
        #expect(status.status == 1 && status.stderr.contains("records no commit"), "\(status.stdout)\(status.stderr)")
    }

    /// Where signatures are required a run that could record no commit (the repository has none
    /// yet) would never verify, so it does not start.
    @Test func aSignedRunDoesNotStartInARepositoryWithoutACommit() throws {
        let repo = try Repository()
        defer { repo.remove() }
        try FileManager.default.removeItem(at: repo.dir.appendingPathComponent(".git"))
        #expect(try Fixtures.run("/usr/bin/git", ["init", "-q", repo.dir.path]).status == 0)
        let refused = try repo.runsheet(["run", "rb/change.md", "--as", "op@example.com", "--key", repo.key("op")], stdin: "done\nquit\n")
        #expect(refused.status == 1, "\(refused.stdout)\(refused.stderr)")
        #expect(refused.stderr.contains("requires signatures, and a signed run records the commit it starts from, but it has no commit yet")
                && refused.stderr.contains("commit rb/change.md first"), "\(refused.stderr)")
        #expect(Fixtures.onlyRun(in: repo.dir.appendingPathComponent("runs").path) == nil)
        try repo.commit()
        let id = try repo.startedRun()
        #expect(try repo.runsheet(["verify", id]).status == 0)
    }

    /// A8: another repository whose allowed signers list the same keys takes in the run folder.
    @Test func aRunFolderMovedIntoAnotherRepositoryWithTheSameSignersFailsThere() throws {
        let repo = try Repository()
        defer { repo.remove() }
        let other = try Repository()
        defer { other.remove() }
        try FileManager.default.removeItem(at: other.signers)
        try FileManager.default.copyItem(at: repo.signers, to: other.signers)
        try other.commit()
        let id = try repo.startedRun()
        #expect(try repo.runsheet(["verify", id]).status == 0)
        try FileManager.default.createDirectory(at: other.dir.appendingPathComponent("runs"), withIntermediateDirectories: true)
        try FileManager.default.moveItem(at: repo.dir.appendingPathComponent("runs/\(id)"), to: other.dir.appendingPathComponent("runs/\(id)"))
        try? FileManager.default.removeItem(at: other.dir.appendingPathComponent("runs/\(id)/lease"))
        let verified = try other.runsheet(["verify", id])
        #expect(verified.status == 1, "\(verified.stdout)\(verified.stderr)")
        #expect(verified.stdout.contains("which is not in the history of HEAD of the repository \(other.dir.path) that holds the run"), "\(verified.stdout)")
        let ready = try other.runsheet(["readiness", "releases/r.md"])
        #expect(ready.status == 1 && ready.stdout.contains("which is not in the history of HEAD of the repository"), "\(ready.stdout)\(ready.stderr)")
        #expect(!ready.stdout.contains("in progress"), "readiness does not decide from the moved run: \(ready.stdout)")
    }

    /// A shallow clone lacks the commit a run recorded: fail closed, and say how to fetch it;
    /// with the history fetched the run verifies.
    @Test func aShallowCloneSaysTheCommitCannotBeCheckedAndHowToFetchIt() throws {
        let repo = try Repository()
        defer { repo.remove() }
        let id = try repo.startedRun()
        try "later\n".write(to: repo.dir.appendingPathComponent("later.txt"), atomically: true, encoding: .utf8)
        try repo.commit()
        let clone = repo.root.appendingPathComponent("clone")
        #expect(try Fixtures.run("/usr/bin/git", ["clone", "-q", "--depth", "1", "file://" + repo.dir.path, clone.path]).status == 0)
        // The runs folder was committed with the later commit (a copy of the record in Git), so the clone holds the run.
        #expect(FileManager.default.fileExists(atPath: clone.appendingPathComponent("runs/\(id)/journal.jsonl").path))
        func verify() throws -> ProcessResult {
            try Fixtures.run("/usr/bin/setsid", ["--wait", Fixtures.binary.path, "verify", id, "--runs-dir", "runs"], environment: ["NO_COLOR": "1"], directory: clone)
        }
        let shallow = try verify()
        #expect(shallow.status == 1, "\(shallow.stdout)\(shallow.stderr)")
        #expect(shallow.stdout.contains("cannot be checked in the shallow clone") && shallow.stdout.contains("git fetch --unshallow"), "\(shallow.stdout)")
        #expect(try Fixtures.run("/usr/bin/git", ["-C", clone.path, "fetch", "-q", "--unshallow"]).status == 0)
        let full = try verify()
        #expect(full.status == 0, "\(full.stdout)\(full.stderr)")
    }
}
