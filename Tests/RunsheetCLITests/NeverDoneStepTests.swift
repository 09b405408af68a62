import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// A step the operator moved past with `goto` and the run then ended: it was neither done nor
/// skipped with a reason, so it does not count as done. Found by the adversary (readiness said GO).
@Suite struct NeverDoneStepTests {
    @Test func aStepJumpedPastWithGotoIsNotDoneForReadinessStatusAndTheReport() throws {
        let dir = try ReadinessCommandTests.repository()
        let runs = ["--runs-dir", "runs"]
        let rehearsed = try Fixtures.runsheet(["run", "runbooks/rollback.md", "--as", "alice"] + runs, stdin: "done\n", directory: dir)
        #expect(rehearsed.status == 0, "\(rehearsed.stdout)\(rehearsed.stderr)")
        let started = try Fixtures.runsheet(["run", "runbooks/deploy.md", "--as", "alice"] + runs, stdin: "done\n", directory: dir)
        #expect(started.status == 3, "\(started.stdout)\(started.stderr)")
        let run = try #require(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("runs").path).first { $0.hasPrefix("deploy-") })
        #expect(try Fixtures.runsheet(["sign", run, "approve", "--as", "bob"] + runs, directory: dir).status == 0)
        // Done at the gate, then a jump from switch-traffic past it to the last step, done: the run completes.
        let jumped = try Fixtures.runsheet(["resume", run, "--as", "alice"] + runs, stdin: "done\ngoto post-in-the-channel\ndone\n", directory: dir)
        #expect(jumped.status == 0, "\(jumped.stdout)\(jumped.stderr)")
        #expect(try Fixtures.runsheet(["status", run] + runs, directory: dir).stdout.contains("status   completed"))

        let readiness = try Fixtures.runsheet(["readiness", "release.md", "--format", "json"] + runs, directory: dir)
        #expect(readiness.status == 1, "\(readiness.stdout)\(readiness.stderr)")
        let report = try JSONDecoder().decode(ReadinessReport.self, from: Data(readiness.stdout.utf8))
        #expect(report.decision == .noGo)
        let blocker = try #require(report.blockers.first { $0.text.hasPrefix("step switch-traffic was never done") }, "\(report.blockers.map(\.text))")
        #expect(blocker.run == run && blocker.location == "runbooks/deploy.md:13", "\(blocker)")

        let status = try Fixtures.runsheet(["status", run] + runs, directory: dir)
        #expect(status.stdout.contains("⊘ switch-traffic  NEVER DONE"), "\(status.stdout)")
        let shown = try Fixtures.runsheet(["report", run] + runs, directory: dir)
        #expect(shown.stdout.contains("NEVER DONE"), "\(shown.stdout)\(shown.stderr)")
        let json = try Fixtures.runsheet(["report", run, "--format", "json"] + runs, directory: dir)
        #expect(json.stdout.contains("\"neverDone\""), "\(json.stdout)")
    }

    /// A skip with a reason stays an exception, as before; the steps of a branch section the run
    /// never entered are not "never done".
    @Test func aSkipWithAReasonAndAnUntakenBranchAreNotNeverDone() throws {
        let dir = try HaltTests().repository()
        let result = try Fixtures.runsheet(["run", "change.md", "--as", "olly", "--runs-dir", "runs"], stdin: "done\nskip not today\ndone\n", directory: dir)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let run = try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))
        let status = try Fixtures.runsheet(["status", run, "--runs-dir", "runs"], directory: dir)
        #expect(!status.stdout.contains("NEVER DONE"), "\(status.stdout)")
    }
}
