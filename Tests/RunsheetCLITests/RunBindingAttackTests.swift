import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Issue 14, the second adversary: a run of a repository's runs folder is that repository's run.
/// A copy of the runbook elsewhere, beside rule files and keys of the operator's own, and a
/// copied run folder (one set of approvals used twice) must not pass as the repository's.
@Suite struct RunBindingAttackTests {
    let base = SigningTests()

    func runsheet(_ arguments: [String], in dir: URL) throws -> ProcessResult {
        try Fixtures.run("/usr/bin/setsid", ["--wait", Fixtures.binary.path] + arguments, directory: dir)
    }

    /// A shadow of the repository outside it, not under Git: the same runbook, the same roles,
    /// and allowed signers listing the operator's own keys for alice and bob. A run of it,
    /// signed there by those keys, is moved into the repository's runs folder.
    func shadowRun(of repository: URL, runbookArgument: (URL) -> String) throws -> (shadow: URL, id: String) {
        let (shadow, evilAlice, evilBob) = try base.repository()
        try FileManager.default.removeItem(at: shadow.appendingPathComponent(".git"))
        let started = try runsheet(["run", runbookArgument(shadow), "--auto", "--as", "alice", "--key", evilAlice, "--runs-dir", "runs"], in: shadow)
        #expect(started.status == 3, "\(started.stdout)\(started.stderr)")
        let id = try #require(Fixtures.onlyRun(in: shadow.appendingPathComponent("runs").path))
        let signed = try runsheet(["sign", id, "approve-the-change", "--as", "bob", "--key", evilBob, "--runs-dir", "runs"], in: shadow)
        #expect(signed.status == 0, "\(signed.stdout)\(signed.stderr)")
        #expect(try runsheet(["verify", id, "--runs-dir", "runs"], in: shadow).status == 0)
        try FileManager.default.createDirectory(at: repository.appendingPathComponent("runs"), withIntermediateDirectories: true)
        try FileManager.default.moveItem(at: shadow.appendingPathComponent("runs/\(id)"), to: repository.appendingPathComponent("runs/\(id)"))
        try? FileManager.default.removeItem(at: repository.appendingPathComponent("runs/\(id)/lease"))
        return (shadow, id)
    }

    @Test func aRunStartedFromARunbookOutsideTheRepositoryFailsThereWithItsSignatures() throws {
        let (dir, alice, _) = try base.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (shadow, id) = try shadowRun(of: dir) { $0.appendingPathComponent("change.md").path }
        defer { try? FileManager.default.removeItem(at: shadow) }
        let verify = try runsheet(["verify", id, "--runs-dir", "runs"], in: dir)
        #expect(verify.status == 1, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("outside the repository"), "\(verify.stdout)")
        let status = try runsheet(["status", id, "--runs-dir", "runs"], in: dir)
        #expect(status.status == 1 && status.stderr.contains("outside the repository"), "\(status.stderr)")
        let resume = try runsheet(["resume", id, "--auto", "--as", "alice", "--key", alice, "--runs-dir", "runs"], in: dir)
        #expect(resume.status == 1 && resume.stderr.contains("does not act on a journal that does not verify"), "\(resume.stderr)")
        #expect(!(try base.journalLines(dir, id).joined().contains("run.ended")))
    }

    /// The same shadow run with a relative runbook path, checked from the shadow folder (where a
    /// same-named runbook with the operator's rules lies): the repository's runbook and allowed
    /// signers decide, wherever the command is typed.
    @Test func aRelativeRunbookPathIsTheRepositorysWhereverTheCommandRuns() throws {
        let (dir, _, _) = try base.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (shadow, id) = try shadowRun(of: dir) { _ in "change.md" }
        defer { try? FileManager.default.removeItem(at: shadow) }
        let runs = dir.appendingPathComponent("runs").path
        for place in [dir, shadow] {
            let verify = try runsheet(["verify", id, "--runs-dir", runs], in: place)
            #expect(verify.status == 1, "from \(place.path): \(verify.stdout)\(verify.stderr)")
            #expect(verify.stdout.contains("does not verify") || verify.stdout.contains("not in"), "\(verify.stdout)")
        }
    }

    @Test func runningARunbookFromOutsideTheRepositoryOfTheRunsFolderIsRefused() throws {
        let (dir, alice, _) = try base.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (shadow, _, _) = try base.repository()
        defer { try? FileManager.default.removeItem(at: shadow) }
        try FileManager.default.removeItem(at: shadow.appendingPathComponent(".git"))
        let runs = dir.appendingPathComponent("runs").path
        let started = try runsheet(["run", shadow.appendingPathComponent("change.md").path, "--auto", "--as", "alice", "--key", alice, "--runs-dir", runs], in: dir)
        #expect(started.status == 1, "\(started.stdout)\(started.stderr)")
        #expect(started.stderr.contains("is outside the repository") && started.stderr.contains("nothing was written"), "\(started.stderr)")
        let fromShadow = try runsheet(["run", "change.md", "--auto", "--as", "alice", "--key", alice, "--runs-dir", runs], in: shadow)
        #expect(fromShadow.status == 1 && fromShadow.stderr.contains("is outside the repository"), "\(fromShadow.stderr)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: runs)) ?? []).filter { !$0.hasPrefix(".") }.isEmpty)
    }

    /// The second adversary: a nested repository (or a `git worktree`) inside the repository
    /// holds rule files and allowed signers of its own, found first for its runbooks; and a
    /// runbook in another repository that links to the repository's runbook. Neither is the
    /// repository's runbook, so neither starts into its runs folder.
    @Test func aNestedRepositoryOrALinkedRunbookIsNotTheRepositorys() throws {
        let (dir, alice, _) = try base.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (nested, evilAlice, _) = try base.repository()
        try FileManager.default.moveItem(at: nested, to: dir.appendingPathComponent("wt"))
        try "gitdir: /elsewhere/.git/worktrees/wt\n".write(to: dir.appendingPathComponent("wt/.git-file"), atomically: true, encoding: .utf8)
        let inNested = try runsheet(["run", "wt/change.md", "--auto", "--as", "alice", "--key", evilAlice, "--runs-dir", "runs"], in: dir)
        #expect(inNested.status == 1 && inNested.stderr.contains("is outside the repository"), "\(inNested.stdout)\(inNested.stderr)")
        // A worktree's .git is a file, not a folder.
        try FileManager.default.removeItem(at: dir.appendingPathComponent("wt/.git"))
        try FileManager.default.moveItem(at: dir.appendingPathComponent("wt/.git-file"), to: dir.appendingPathComponent("wt/.git"))
        let inWorktree = try runsheet(["run", "wt/change.md", "--auto", "--as", "alice", "--key", evilAlice, "--runs-dir", "runs"], in: dir)
        #expect([1, 2].contains(inWorktree.status) && (inWorktree.stderr.contains("is outside the repository") || inWorktree.stderr.contains("is below the repository's own")),
                "\(inWorktree.stdout)\(inWorktree.stderr)")

        let (shadow, _, _) = try base.repository()
        defer { try? FileManager.default.removeItem(at: shadow) }
        try FileManager.default.removeItem(at: shadow.appendingPathComponent("change.md"))
        try FileManager.default.createSymbolicLink(at: shadow.appendingPathComponent("change.md"), withDestinationURL: dir.appendingPathComponent("change.md"))
        let linked = try runsheet(["run", "change.md", "--auto", "--as", "alice", "--key", alice, "--runs-dir", dir.appendingPathComponent("runs").path], in: shadow)
        #expect(linked.status == 1 && linked.stderr.contains("is outside the repository"), "\(linked.stdout)\(linked.stderr)")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("runs").path)) ?? []).filter { !$0.hasPrefix(".") }.isEmpty)
    }

    /// The second adversary: readiness pointed at another repository's runs folder, or at one
    /// outside any repository, would count runs checked against rules and allowed signers that
    /// are not the release's. A release in a repository is decided from that repository's runs.
    @Test func readinessDecidesFromTheReleasesRepositoryOnly() throws {
        let (dir, _, _) = try base.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "---\ntarget: 2030-01-01\n---\n# Release\n\n## Requires\n\n- [Change](../change.md)\n"
            .write(to: dir.appendingPathComponent("releases.md"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("releases"), withIntermediateDirectories: true)
        try FileManager.default.moveItem(at: dir.appendingPathComponent("releases.md"), to: dir.appendingPathComponent("releases/r.md"))
        let (shadow, _, _) = try base.repository()
        defer { try? FileManager.default.removeItem(at: shadow) }
        let outside = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: outside) }
        for runs in [shadow.appendingPathComponent("runs").path, outside.path] {
            let refused = try runsheet(["readiness", "releases/r.md", "--runs-dir", runs], in: dir)
            #expect(refused.status == 2, "\(refused.stdout)\(refused.stderr)")
            #expect(refused.stderr.contains("is not in the repository") && refused.stderr.contains("so its runs were not checked"), "\(refused.stderr)")
            #expect(refused.stdout.isEmpty)
        }
        let own = try runsheet(["readiness", "releases/r.md", "--runs-dir", "runs"], in: dir)
        #expect(own.status == 1 && !own.stderr.contains("is not in the repository"), "\(own.stdout)\(own.stderr)")
    }

    /// The approved run copied to a second folder: the copy is refused everywhere, so one set of
    /// approvals carries out one run.
    @Test func aCopiedRunFolderDoesNotReuseItsApprovals() throws {
        let (dir, alice, bob) = try base.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try base.startedRun(in: dir, key: alice)
        #expect(try base.runsheet(["sign", id, "approve-the-change", "--as", "bob", "--key", bob], in: dir).status == 0)
        let copy = "signed-change-20261204-235959-0bad"
        let runs = dir.appendingPathComponent("runs")
        try FileManager.default.copyItem(at: runs.appendingPathComponent(id), to: runs.appendingPathComponent(copy))
        try? FileManager.default.removeItem(at: runs.appendingPathComponent("\(copy)/lease"))
        let resume = try base.runsheet(["resume", copy, "--auto", "--as", "alice", "--key", alice], in: dir)
        #expect(resume.status == 1, "\(resume.stdout)\(resume.stderr)")
        #expect(resume.stderr.contains("holds the journal of run \(id)"), "\(resume.stderr)")
        let verify = try base.runsheet(["verify", copy], in: dir)
        #expect(verify.status == 1 && verify.stdout.contains("holds the journal of run \(id)"), "\(verify.stdout)")
        let status = try base.runsheet(["status", copy], in: dir)
        #expect(status.status == 1 && status.stderr.contains("holds the journal of run \(id)"), "\(status.stdout)\(status.stderr)")
        // The original still verifies and goes on.
        #expect(try base.runsheet(["verify", id], in: dir).status == 0)
        let original = try base.runsheet(["resume", id, "--auto", "--as", "alice", "--key", alice], in: dir)
        #expect(original.status == 3 && original.stdout.contains("paused"), "\(original.stdout)\(original.stderr)")
    }
}
