import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// The runbooks shipped in runbooks/: lint-clean, and each one plans.
@Suite struct RunbookLibraryTests {
    static let directory = Fixtures.packageRoot.appendingPathComponent("runbooks")

    static func files() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".md") }.sorted()
    }

    @Test func everyRunbookPassesCheckWithoutWarnings() throws {
        let result = try Fixtures.runsheet(["check", "--strict", "runbooks"], directory: Fixtures.packageRoot)
        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.stderr.contains("checked \(try Self.files().count) files: 0 errors, 0 warnings"))
        #expect(try Self.files().count >= 10)
    }

    @Test(arguments: try files())
    func everyRunbookPlans(file: String) throws {
        let result = try Fixtures.runsheet(["run", "runbooks/" + file, "--dry-run"], directory: Fixtures.packageRoot)
        #expect(result.status == 0, "\(file): \(result.stderr)")
        #expect(result.stdout.hasPrefix("Plan for "))
        let runbook = Compiler().compile(path: Self.directory.appendingPathComponent(file).path,
                                         bytes: try [UInt8](Data(contentsOf: Self.directory.appendingPathComponent(file)))).runbook
        #expect(result.stdout.contains("\(runbook.steps.count) steps"))
    }

    /// runbooks/.runsheet/ is the example governance the bundled runbooks run under: a
    /// production run names its change record in the policy's form and is started by an initiator.
    @Test func theBundledGovernanceApplies() throws {
        let runs = try Fixtures.temporaryDirectory().path
        func start(_ extra: [String]) throws -> ProcessResult {
            try Fixtures.runsheet(["run", "runbooks/blue-green-deploy.md", "--param", "version=1.4.2", "--runs-dir", runs, "--auto"] + extra,
                                  environment: ["RUNSHEET_PARAM_notify_token": "abc", "NO_COLOR": "1"], directory: Fixtures.packageRoot)
        }
        let none = try start(["--as", "bob@example.com"])
        #expect(none.status == 1 && none.stderr.contains("requires a change record for normal runs") && none.stderr.contains("CHG[0-9]{7}"), "\(none.stderr)")
        let malformed = try start(["--as", "bob@example.com", "--change", "CHG12"])
        #expect(malformed.status == 2, "\(malformed.stderr)")
        let outsider = try start(["--as", "quinn@example.com", "--change", "CHG0001234"])
        #expect(outsider.status == 1 && outsider.stderr.contains("'initiators'"), "\(outsider.stderr)")
        #expect(Fixtures.onlyRun(in: runs) == nil)
        let started = try start(["--as", "bob@example.com", "--change", "CHG0001234"])
        #expect(started.status == 3, "\(started.stderr)")
        let id = try #require(Fixtures.onlyRun(in: runs))
        let status = try Fixtures.runsheet(["status", id, "--runs-dir", runs], directory: Fixtures.packageRoot)
        #expect(status.stdout.contains("CHG0001234"), "\(status.stdout)")
    }

    @Test func emergencyChangeTakesTheBreakGlassPath() throws {
        let dir = try Fixtures.temporaryDirectory()
        try FileManager.default.copyItem(at: Self.directory.appendingPathComponent("emergency-change.md"), to: dir.appendingPathComponent("emergency-change.md"))
        // A production run is started only by someone a roles file names.
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        try "roles:\n  operator: [olly]\n  sre: [sam]\n  release-manager: [rita]\n  cab: [carla]\n"
            .write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        // The bundled runbook names the configuration item it changes: the inventory must list it.
        try "items:\n  app-fleet: {owner: sre, criticality: low}\n"
            .write(to: dir.appendingPathComponent(".runsheet/inventory.yaml"), atomically: true, encoding: .utf8)
        let runs = dir.appendingPathComponent("runs").path
        let started = try Fixtures.runsheet(["run", "emergency-change.md", "--as", "olly", "--runs-dir", runs,
                                             "--param", "change=raise the connection limit", "--param", "ticket=INC-42",
                                              "--param", "service=checkout", "--param", "environment=production"],
                                            stdin: "done\ndone\n", directory: dir)
        #expect(started.stdout.contains("(sign-off: 1 of sre or release-manager (emergency policy))"))
        let id = try #require(Fixtures.onlyRun(in: runs))
        #expect(try Fixtures.runsheet(["sign", id, "approve-the-emergency-change", "--as", "sam", "--role", "sre", "--runs-dir", runs], directory: dir).status == 0)
        let finished = try Fixtures.runsheet(["resume", id, "--as", "olly", "--runs-dir", runs],
                                             stdin: String(repeating: "done\n", count: 6), directory: dir)
        #expect(finished.status == 0, "\(finished.stdout)")
        let status = try Fixtures.runsheet(["status", "--runs-dir", runs], directory: dir)
        #expect(status.stdout.contains("1 run still owes the follow-up review"))
    }
}
