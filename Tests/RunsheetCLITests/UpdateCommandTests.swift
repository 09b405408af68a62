import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// `runsheet update` through the binary: a scripted run with `add` and `lesson`, then the patch
/// (checked with `git apply`) and the in-place update, which agree.
@Suite struct UpdateCommandTests {
    static let runbook = """
        ---
        id: ship
        ---
        # Ship

        - [ ] Build
          - Estimate: 1h

          ```bash run
          sleep 1
          ```
        - [ ] Publish the notes
        - [ ] Tell support

        """

    @Test func addedStepsLessonsAndEstimatesComeBackAsAMinimalDiff() throws {
        let dir = try Fixtures.temporaryDirectory()
        let path = dir.appendingPathComponent("ship.md")
        try Self.runbook.write(to: path, atomically: true, encoding: .utf8)
        let git = try Fixtures.run("/usr/bin/env", ["git", "init", "-q"], directory: dir)
        #expect(git.status == 0)
        let runs = dir.appendingPathComponent("runs").path
        let script = "run\nadd Check the changelog links\nlesson Ask docs for a review first\ndone\nnote nothing to learn here\ndone\n"
        let run = try Fixtures.runsheet(["run", "ship.md", "--as", "alice", "--runs-dir", runs], stdin: script, directory: dir)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("added step 'check-the-changelog-links' as done"))
        let id = try #require(Fixtures.onlyRun(in: runs))

        // The report lists the added step by its title, done by the operator.
        let report = try Fixtures.runsheet(["report", id, "--format", "json", "--runs-dir", runs], directory: dir)
        let steps = try #require((try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])?["steps"] as? [[String: Any]])
        let added = try #require(steps.first { $0["id"] as? String == "check-the-changelog-links" })
        #expect(added["title"] as? String == "Check the changelog links" && added["status"] as? String == "done" && added["actor"] as? String == "alice")

        let patchFile = dir.appendingPathComponent("ship.patch").path
        let patched = try Fixtures.runsheet(["update", "ship.md", "--from", id, "--patch", "-o", patchFile, "--runs-dir", runs], directory: dir)
        #expect(patched.status == 0, "\(patched.stderr)")
        #expect(patched.stdout.contains("ship.md:7: build: estimate 1h → 5s (median of 1 run)"))
        #expect(patched.stdout.contains("new step 'Check the changelog links' after build"))
        #expect(patched.stdout.contains("publish-the-notes: lesson 'Ask docs for a review first'"))
        #expect(!patched.stdout.contains("nothing to learn"))
        #expect(try String(contentsOfFile: path.path, encoding: .utf8) == Self.runbook, "--patch leaves the runbook alone")
        let diff = try String(contentsOfFile: patchFile, encoding: .utf8)
        #expect(diff.hasPrefix("--- a/ship.md\n+++ b/ship.md\n"))
        let check = try Fixtures.run("/usr/bin/env", ["git", "apply", "--check", "ship.patch"], directory: dir)
        #expect(check.status == 0, "\(check.stderr)")

        let inPlace = try Fixtures.runsheet(["update", "ship.md", "--from", id, "--runs-dir", runs], directory: dir)
        #expect(inPlace.status == 0, "\(inPlace.stderr)")
        let updated = try String(contentsOfFile: path.path, encoding: .utf8)
        #expect(updated == """
            ---
            id: ship
            ---
            # Ship

            - [ ] Build
              - Estimate: 5s

              ```bash run
              sleep 1
              ```
            - [ ] Check the changelog links
            - [ ] Publish the notes
              - Lesson: Ask docs for a review first
            - [ ] Tell support

            """)
        // The patch made the same file: applied in reverse, it gives back the original.
        let reverse = try Fixtures.run("/usr/bin/env", ["git", "apply", "-R", "ship.patch"], directory: dir)
        #expect(reverse.status == 0, "\(reverse.stderr)")
        #expect(try String(contentsOfFile: path.path, encoding: .utf8) == Self.runbook)
        try updated.write(to: path, atomically: true, encoding: .utf8)

        let lint = try Fixtures.runsheet(["check", "--strict", "ship.md"], directory: dir)
        #expect(lint.status == 0, "\(lint.stdout)")
        let again = try Fixtures.runsheet(["update", "ship.md", "--all", "--runs-dir", runs], directory: dir)
        #expect(again.status == 0 && again.stdout == "ship.md: nothing to update from 1 run\n")
        // The lesson shows on the next run.
        let next = try Fixtures.runsheet(["run", "ship.md", "--as", "bob", "--runs-dir", runs], stdin: "done\ndone\ndone\ndone\n", directory: dir)
        #expect(next.stdout.contains("⚑ lesson: Ask docs for a review first"))
    }

    @Test func refusesRunsOfAnotherRunbookAndMissingRuns() throws {
        let dir = try Fixtures.temporaryDirectory()
        try Self.runbook.write(to: dir.appendingPathComponent("ship.md"), atomically: true, encoding: .utf8)
        try "---\nid: other\n---\n# Other\n\n- [ ] One\n".write(to: dir.appendingPathComponent("other.md"), atomically: true, encoding: .utf8)
        let runs = dir.appendingPathComponent("runs").path
        _ = try Fixtures.runsheet(["run", "other.md", "--as", "alice", "--runs-dir", runs], stdin: "done\n", directory: dir)
        let id = try #require(Fixtures.onlyRun(in: runs))

        let wrong = try Fixtures.runsheet(["update", "ship.md", "--from", id, "--runs-dir", runs], directory: dir)
        #expect(wrong.status == 2)
        #expect(wrong.stderr == "runsheet: run \(id) is a run of 'other', not of 'ship' (ship.md); pick runs of this runbook ('runsheet status' lists them)\n")
        let none = try Fixtures.runsheet(["update", "ship.md", "--all", "--runs-dir", runs], directory: dir)
        #expect(none.status == 2 && none.stderr.contains("no runs of 'ship' in \(runs)"))
        let noFrom = try Fixtures.runsheet(["update", "ship.md"], directory: dir)
        #expect(noFrom.status == 2 && noFrom.stderr.contains("--from RUN"))
        let unknown = try Fixtures.runsheet(["update", "ship.md", "--from", "nope", "--runs-dir", runs], directory: dir)
        #expect(unknown.status == 2 && unknown.stderr.contains("no run 'nope'"))
        #expect(try String(contentsOfFile: dir.appendingPathComponent("ship.md").path, encoding: .utf8) == Self.runbook)
    }
}

/// Outside Git, runs live beside the runbook; the printed resume command works from anywhere and
/// reports find the runbook again from another folder.
@Suite struct RunsFolderTests {
    @Test func theResumeHintAndTheRunbookWorkFromAnotherFolder() throws {
        let dir = try Fixtures.temporaryDirectory()
        let sub = dir.appendingPathComponent("sub"), other = dir.appendingPathComponent("other")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        try "---\nid: t\n---\n# T\n\n- [ ] One\n- [ ] Two\n".write(to: sub.appendingPathComponent("t.md"), atomically: true, encoding: .utf8)
        let started = try Fixtures.runsheet(["run", "../sub/t.md", "--as", "a"], stdin: "done\n", directory: other)
        #expect(started.status == 3)
        let runs = sub.appendingPathComponent("runs").standardizedFileURL.path
        // The resume hint heads the summary the paused run leaves (issue 15).
        let hint = try #require(started.stdout.split(separator: "\n").first { $0.contains("resume with:") }.map(String.init))
        #expect(hint.hasSuffix(" --runs-dir \(runs)"), "\(hint)")
        let command = try #require(hint.components(separatedBy: "resume with: runsheet ").last).split(separator: " ").map(String.init)
        let resumed = try Fixtures.runsheet(command + ["--as", "a"], stdin: "done\n", directory: dir)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let id = command[1]
        // The summary's report command works from anywhere too.
        let reportLine = try #require(resumed.stdout.split(separator: "\n").first { $0.hasPrefix("    runsheet report ") })
        #expect(reportLine == "    runsheet report \(id) --runs-dir \(runs)")
        let report = try Fixtures.runsheet(reportLine.split(separator: " ").dropFirst().map(String.init) + ["--format", "csv"], directory: dir)
        #expect(report.status == 0 && report.stdout.contains("two,Two,T,done,a"), "\(report.stderr)")
        // Run from the runbook's own folder, the runs folder is the default: no option needed.
        let local = try Fixtures.runsheet(["run", "t.md", "--as", "a"], stdin: "done\n", directory: sub)
        let localHint = local.stdout.split(separator: "\n").first { $0.contains("resume with:") }
        #expect(localHint?.hasSuffix("resume with: runsheet resume " + (localHint?.split(separator: " ").last ?? "")) == true, "\(local.stdout)")
    }
}
