import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// `runsheet readiness`: the decision from real runs, every blocking reason and exception with
/// who and where, the exit code CI gates on, and the release file's own mistakes at path:line:col.
@Suite struct ReadinessCommandTests {
    static let fixture = Fixtures.outsideRepository("Tests/Fixtures/reports")

    @Test(arguments: ["md", "html", "json"])
    func recordedRunsGiveTheExpectedReport(format: String) throws {
        let arguments = ["readiness", "checkout-release.md", "--runs-dir", "runs", "--at", "2026-11-23T00:00:00Z", "--format", format]
        let result = try Fixtures.runsheet(arguments, directory: Self.fixture)
        #expect(result.status == 1, "the recorded run rolled back: NO-GO; \(result.stderr)")
        #expect(result.stderr.isEmpty)
        try Golden.check(result.stdout, against: "reports/readiness.\(format)")
        #expect(try Fixtures.runsheet(arguments, directory: Self.fixture).stdout == result.stdout)
        if format == "html" {
            #expect(!result.stdout.contains("http://") && !result.stdout.contains("https://") && !result.stdout.contains("<script"))
        }
    }

    static let deploy = """
        ---
        id: deploy
        roles: [sre]
        params:
          version:
            default: "1.0"
        ---
        # Deploy

        - [ ] Announce the deploy
        - [ ] Approve
          - Sign-off: sre
        - [ ] Switch traffic
          - Production: yes
        - [ ] Post in the channel
          - On failure: continue

        """

    static let rollback = "---\nid: rollback\n---\n# Roll back\n\n- [ ] Switch back\n"

    static func release(target: String = "2026-11-25 10:00", extra: String = "") -> String {
        """
        ---
        release: r-1
        target: \(target)
        class: normal
        owner: alice
        \(extra)---
        # Release r-1

        ## Requires

        - [Deploy](runbooks/deploy.md)

        ## Rollback

        - [Roll back](runbooks/rollback.md)

        """
    }

    /// A repository with the two runbooks, a roles file and a change calendar with a year-end freeze (years ahead, so runs now are not blocked).
    static func repository() throws -> URL {
        let dir = try Fixtures.temporaryDirectory()
        let manager = FileManager.default
        try manager.createDirectory(at: dir.appendingPathComponent("runbooks"), withIntermediateDirectories: true)
        try manager.createDirectory(at: dir.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        try manager.createDirectory(at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try deploy.write(to: dir.appendingPathComponent("runbooks/deploy.md"), atomically: true, encoding: .utf8)
        try rollback.write(to: dir.appendingPathComponent("runbooks/rollback.md"), atomically: true, encoding: .utf8)
        try "roles:\n  sre: [bob]\n  release-manager: [carol]\n  operator: [alice]\n".write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        try """
            freezes:
              - name: year-end
                from: 2030-12-20
                to: 2031-01-04
            """.write(to: dir.appendingPathComponent(".runsheet/calendar.yaml"), atomically: true, encoding: .utf8)
        try release().write(to: dir.appendingPathComponent("release.md"), atomically: true, encoding: .utf8)
        return dir
    }

    func readiness(_ dir: URL, _ extra: [String] = []) throws -> ProcessResult {
        try Fixtures.runsheet(["readiness", "release.md", "--runs-dir", "runs", "--format", "json"] + extra, directory: dir)
    }

    func decode(_ result: ProcessResult) throws -> ReadinessReport {
        try JSONDecoder().decode(ReadinessReport.self, from: Data(result.stdout.utf8))
    }

    @Test func fromNoGoThroughExceptionsToGo() throws {
        let dir = try Self.repository()
        let runs = ["--runs-dir", "runs"]
        // Nothing has run: both items block.
        var result = try readiness(dir)
        #expect(result.status == 1)
        var report = try decode(result)
        #expect(report.decision == .noGo)
        #expect(report.blockers.map(\.text).contains("no run of deploy yet; start one with: runsheet run runbooks/deploy.md"))
        #expect(report.blockers.contains { $0.item == "Roll back" && $0.text.hasPrefix("the rollback runbook has not been rehearsed") && $0.location == "release.md:15" })

        // A run that stops at the gate is in progress, with where it is.
        _ = try Fixtures.runsheet(["run", "runbooks/deploy.md", "--as", "alice"] + runs, stdin: "done\n", directory: dir)
        _ = try Fixtures.runsheet(["run", "runbooks/rollback.md", "--as", "alice"] + runs, stdin: "done\n", directory: dir)
        report = try decode(try readiness(dir))
        let progress = try #require(report.blockers.first { $0.item == "Deploy" })
        #expect(progress.text.contains("is still in progress: 1 of 4 steps settled and is at step approve; continue it with: runsheet resume deploy-"))
        #expect(progress.link == "runbooks/deploy.md#deploy" && progress.location == "runbooks/deploy.md:11")
        #expect(!report.blockers.contains { $0.item == "Roll back" }, "a completed rehearsal counts")

        // Signed, then the gate done, a skip and a failure continued past: GO with exceptions, exit 4.
        let deployRun = try #require(report.items.first { $0.title == "Deploy" }?.run)
        #expect(try Fixtures.runsheet(["sign", deployRun, "approve", "--as", "bob"] + runs, directory: dir).status == 0)
        _ = try Fixtures.runsheet(["resume", deployRun, "--as", "alice"] + runs, stdin: "done\nskip traffic already switched by the canary\nfail the channel is archived\n", directory: dir)
        result = try readiness(dir)
        #expect(result.status == 4, "\(result.stdout)")
        report = try decode(result)
        #expect(report.decision == .goWithExceptions)
        #expect(report.blockers.isEmpty)
        #expect(report.exceptions.map(\.text) == ["step switch-traffic skipped: traffic already switched by the canary",
                                                   "step post-in-the-channel failed: the channel is archived (the run continued past it)"])
        #expect(report.exceptions.allSatisfy { $0.by == "alice" && $0.run == deployRun })

        // A clean run afterwards: GO, exit 0; the Markdown says so.
        _ = try Fixtures.runsheet(["run", "runbooks/deploy.md", "--as", "alice"] + runs, stdin: "done\n", directory: dir)
        let ids = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("runs").path)
        let second = try #require(ids.first { $0.hasPrefix("deploy-") && $0 != deployRun })
        #expect(try Fixtures.runsheet(["sign", second, "approve", "--as", "bob"] + runs, directory: dir).status == 0)
        _ = try Fixtures.runsheet(["resume", second, "--as", "alice"] + runs, stdin: "done\ndone\ndone\n", directory: dir)
        result = try readiness(dir)
        #expect(result.status == 0, "\(result.stdout)")
        #expect(try decode(result).decision == .go)
        let markdown = try Fixtures.runsheet(["readiness", "release.md"] + runs, directory: dir)
        #expect(markdown.status == 0 && markdown.stdout.contains("## Decision: ✅ GO"))

        // Later, the release moves into the freeze, and the rehearsal ages past the limit.
        try Self.release(target: "2030-12-24 10:00", extra: "rehearsal-within: 30d\n").write(to: dir.appendingPathComponent("release.md"), atomically: true, encoding: .utf8)
        result = try readiness(dir, ["--at", "2031-03-01"])
        #expect(result.status == 1)
        report = try decode(result)
        #expect(report.blockers.contains { $0.text.hasPrefix("the target time 2030-12-24 10:00:00 UTC") && $0.text.contains("year-end") && $0.location.hasSuffix(".runsheet/calendar.yaml") })
        #expect(report.blockers.contains { $0.item == "Roll back" && $0.text.contains("no completed run in the last 30d") })

        // The runbook changes after the run: the run no longer counts.
        try (Self.deploy + "- [ ] Close the change ticket\n").write(to: dir.appendingPathComponent("runbooks/deploy.md"), atomically: true, encoding: .utf8)
        report = try decode(try readiness(dir))
        #expect(report.blockers.contains { $0.text.contains("followed an earlier version of the runbook (added: close-the-change-ticket)") })
    }

    @Test func mistakesInTheReleaseFileArePositioned() throws {
        let dir = try Self.repository()
        try Self.release(extra: "taget: 2026-11-25\n").write(to: dir.appendingPathComponent("release.md"), atomically: true, encoding: .utf8)
        var result = try readiness(dir)
        #expect(result.status == 2)
        #expect(result.stderr == "runsheet: release.md:6:1: unknown release key 'taget'; did you mean 'target'?\n")
        try Self.release(target: "next tuesday").write(to: dir.appendingPathComponent("release.md"), atomically: true, encoding: .utf8)
        result = try readiness(dir)
        #expect(result.status == 2 && result.stderr.hasPrefix("runsheet: release.md:3:9: target 'next tuesday' is not a date"))
        try "---\nrelease: x\n---\n# X\n\nNo links.\n".write(to: dir.appendingPathComponent("release.md"), atomically: true, encoding: .utf8)
        result = try readiness(dir)
        #expect(result.status == 2 && result.stderr.contains("release.md:4:1: the release requires no runbooks"))
        result = try Fixtures.runsheet(["readiness", "nope.md"], directory: dir)
        #expect(result.status == 2 && result.stderr.contains("nope.md"))
    }
}
