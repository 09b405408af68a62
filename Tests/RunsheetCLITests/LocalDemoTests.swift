import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// runbooks/local-demo.md end to end: the real binary runs it unattended against the real demo
/// service (demo/), once healthy and once with a release built broken that must roll back.
@Suite struct LocalDemoTests {
    static let runbook = Fixtures.packageRoot.appendingPathComponent("runbooks/local-demo.md").path
    static let democtl = Fixtures.packageRoot.appendingPathComponent("demo/democtl").path

    /// One finished run of the demo: its folder, events, JSON report and captured output.
    struct DemoRun {
        var result: ProcessResult
        var runs: String
        var home: String
        var directory: String
        var events: [RunEvent]
        var report: RunReport

        var id: String { (directory as NSString).lastPathComponent }

        func step(_ id: String) throws -> RunReport.Step { try #require(report.steps.first { $0.id == id }, "no step \(id)") }

        /// What the step's command printed on its last attempt, read through the journal.
        func output(of step: String) throws -> String {
            let finished = try #require(events.last { $0.type == .commandFinished && $0.step == step }, "\(step) ran no command")
            let file = try #require(finished.data["outputFile"]?.string)
            return try String(contentsOfFile: (directory as NSString).appendingPathComponent(file), encoding: .utf8)
        }
    }

    func runDemo(_ params: [String] = []) throws -> DemoRun {
        let dir = try Fixtures.temporaryDirectory("runsheet-demo")
        let runs = dir.appendingPathComponent("runs").path
        let home = dir.appendingPathComponent("home").path
        let arguments = ["run", Self.runbook, "--auto", "--runs-dir", runs, "--as", "demo@example.com", "--param", "home=\(home)"]
            + params.flatMap { ["--param", $0] }
        let result = try Fixtures.run(Fixtures.binary.path, arguments, timeout: 50)
        let id = try #require(Fixtures.onlyRun(in: runs), "no run folder: \(result.stderr)")
        let directory = (runs as NSString).appendingPathComponent(id)
        let events = try JournalFile.read(at: directory + "/journal.jsonl", repair: false).events
        let json = try Fixtures.runsheet(["report", id, "--runs-dir", runs, "--format", "json"])
        #expect(json.status == 0, "\(json.stderr)")
        let report = try JSONDecoder().decode(RunReport.self, from: Data(json.stdout.utf8))
        return DemoRun(result: result, runs: runs, home: home, directory: directory, events: events, report: report)
    }

    /// Live processes serving the demo from `home` (zombies waiting for a parent do not count).
    static func servicesAlive(home: String) -> [Int32] {
        let homes = [home, URL(fileURLWithPath: home).resolvingSymlinksInPath().path]
        let proc = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return proc.compactMap(Int32.init).filter { pid in
            guard let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
                let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
            else { return false }
            let arguments = cmdline.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            let state = stat.split(separator: ")").last?.split(separator: " ").first
            return state != "Z" && arguments.contains { $0.hasSuffix("service.py") } && arguments.contains { homes.contains($0) }
        }
    }

    /// Stops a service a failing run left behind, so a failed test leaves nothing running.
    static func stopService(home: String) {
        _ = try? Fixtures.run(democtl, ["--home", home, "stop"], timeout: 30)
    }

    /// The journal verifies and the Markdown report names the outcome.
    func checkRecord(_ run: DemoRun, outcome: String) throws {
        let verify = try Fixtures.runsheet(["verify", run.id, "--runs-dir", run.runs])
        #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
        #expect(verify.stdout.contains("intact"))
        let md = try Fixtures.runsheet(["report", run.id, "--runs-dir", run.runs, "--format", "md"])
        #expect(md.status == 0, "\(md.stderr)")
        #expect(md.stdout.contains("| Outcome | **\(outcome)** |"), "\(md.stdout)")
    }

    @Test func healthyReleaseCompletesAndStopsTheService() throws {
        let run = try runDemo()
        defer { Self.stopService(home: run.home) }
        #expect(run.result.status == 0, "\(run.result.stdout)\n\(run.result.stderr)")
        #expect(run.result.stdout.contains("run \(run.id) completed"))
        #expect(RunState.fold(run.events).outcome == .completed)
        #expect(run.report.run.outcome == "completed")
        #expect(run.report.run.params == ["version": "2.0.0", "break": "no", "home": run.home])

        let compiled = Compiler().compile(path: Self.runbook, bytes: try [UInt8](Data(contentsOf: URL(fileURLWithPath: Self.runbook)))).runbook
        let branchSections = Set(compiled.sections.filter(\.branch).map(\.id))
        let normal = compiled.steps.filter { !branchSections.contains($0.section ?? "") }.map(\.id)
        #expect(normal == ["reset", "install-current", "start-current", "check-current", "status", "backup",
                           "install", "deploy", "health", "stop"])
        for id in normal {
            let step = try run.step(id)
            #expect(step.status == "done", "\(id): \(step.status) \(step.reason ?? "")")
            #expect(!step.commands.isEmpty && step.commands.allSatisfy { $0.exit == 0 && $0.passed }, "\(id): \(step.commands)")
        }
        for id in ["rollback", "verify-rollback", "rollback-stop"] { #expect(try run.step(id).status == "pending") }
        let health = try run.step("health")
        #expect(health.commands.count == 1 && health.commands[0].exit == 0)
        #expect(try run.output(of: "health").contains(#"healthy: release 2.0.0 answers 200"#))
        #expect(try run.output(of: "deploy").contains("deployed release 2.0.0 (previous: 1.0.0)"))
        #expect(!run.events.contains { $0.type == .branchTaken })

        try checkRecord(run, outcome: "completed")
        #expect(Self.servicesAlive(home: run.home).isEmpty, "a demo service outlived the run")
        #expect(!FileManager.default.fileExists(atPath: run.home + "/service.pid"))
    }

    @Test func brokenReleaseFailsItsHealthCheckAndRollsBack() throws {
        let run = try runDemo(["break=yes"])
        defer { Self.stopService(home: run.home) }
        #expect(run.result.status == 1, "\(run.result.stdout)\n\(run.result.stderr)")
        #expect(run.result.stdout.contains("run \(run.id) rolled-back"))
        #expect(RunState.fold(run.events).outcome == .rolledBack)
        #expect(run.report.run.outcome == "rolled-back")

        // The poll tried more than once, every attempt got a failing answer, then it branched.
        let health = try run.step("health")
        #expect(health.status == "failed")
        #expect(health.branch == "rollback")
        #expect(health.commands.count > 1 && health.commands.allSatisfy { $0.exit == 1 && !$0.passed }, "\(health.commands)")
        #expect(try run.output(of: "health").contains(#"answered 500"#))
        #expect(run.events.contains { $0.type == .branchTaken && $0.data["from"]?.string == "health" && $0.data["to"]?.string == "rollback" })

        for id in ["reset", "install-current", "start-current", "check-current", "status", "backup", "install", "deploy",
                   "rollback", "verify-rollback", "rollback-stop"] {
            #expect(try run.step(id).status == "done", "\(id)")
        }
        #expect(try run.step("stop").status == "pending")
        #expect(try run.output(of: "rollback").contains("rolled back from release 2.0.0 to 1.0.0"))
        // During the rollback's check the service answered as the previous release.
        let verified = try run.output(of: "verify-rollback")
        #expect(verified.contains(#"healthy: release 1.0.0 answers 200"#) && verified.contains(#""version": "1.0.0""#), "\(verified)")
        #expect(try run.step("verify-rollback").commands.last?.exit == 0)

        try checkRecord(run, outcome: "rolled-back")
        #expect(Self.servicesAlive(home: run.home).isEmpty, "a demo service outlived the run")
        #expect(!FileManager.default.fileExists(atPath: run.home + "/service.pid"))
    }

    @Test func democtlFindsWhatItStartsAndStopsItOnce() throws {
        let home = try Fixtures.temporaryDirectory("runsheet-demo").appendingPathComponent("home").path
        func democtl(_ arguments: String...) throws -> ProcessResult {
            try Fixtures.run(Self.democtl, ["--home", home] + arguments, timeout: 30)
        }
        #expect(try democtl("install", "1.0.0").status == 0)
        #expect(try democtl("deploy", "1.0.0").status == 0)
        defer { Self.stopService(home: home) }
        #expect(Self.servicesAlive(home: home).count == 1)
        #expect(try democtl("health", "--expect", "1.0.0").status == 0)
        let wrong = try democtl("health", "--expect", "9.9.9")
        #expect(wrong.status == 1 && wrong.stdout.contains("expected 9.9.9"), "\(wrong.stdout)")
        let first = try democtl("stop")
        #expect(first.status == 0 && first.stdout.contains("stopped release 1.0.0"), "\(first.stdout)\(first.stderr)")
        #expect(Self.servicesAlive(home: home).isEmpty)
        let again = try democtl("stop")
        #expect(again.status == 0 && again.stdout.contains("not running"))
        let unhealthy = try democtl("health")
        #expect(unhealthy.status == 1 && unhealthy.stderr.contains("not running"))
    }
}
