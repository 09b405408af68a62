import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Fail closed: a command that reads or writes runs and does not work on a PostgreSQL store
/// refuses, exit 6, before doing anything, when one is chosen (RUNSHEET_STORE or config.yaml's
/// `store:`), without connecting to it; `--store folder` overrides. Through the binary.
@Suite struct StoreRouteTests {
    /// A store no test may reach: a non-routable address, and a long connect timeout, so that a
    /// command that tried to connect would take 30 seconds or fail with another sentence.
    static let unreachable = "postgresql://carol@10.255.255.1:5432/runsheet?sslmode=disable&connect_timeout=30"

    /// A repository with the demo runbook and one finished run in runs/.
    func repository() throws -> (dir: URL, id: String) {
        let dir = try Fixtures.temporaryDirectory("store-route")
        let runbook = Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/runbooks/run-demo.md")
        try FileManager.default.copyItem(at: runbook, to: dir.appendingPathComponent("run-demo.md"))
        let started = try RepositoryRuns.runsheet(["run", "run-demo.md", "--as", "alice@example.com"], in: dir, stdin: "done\nrun\nnote all good\nrun\n")
        #expect(started.status == 0, "\(started.stdout)\(started.stderr)")
        return (dir, try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path)))
    }

    /// Each command that works on runs and not on the store, with arguments it would act on
    /// (`status`, `verify`, `audit`, `report`, `render`, `readiness`, `metrics`, `sign`, `reject`, `seal`, `run`, `resume`, `update`, `halt` and `release close` work on it: StoreReadTests, StoreManyRunsTests, StoreSignTests, StoreRunTests).
    static func commands(_ id: String) -> [(name: String, arguments: [String])] {
        [("unlock", ["unlock", "checkout", "production", "--as", "alice@example.com", "--reason", "stuck"])]
    }

    func run(_ arguments: [String], in dir: URL, environment: [String: String]) throws -> (ProcessResult, TimeInterval) {
        let start = Date()
        // `halt` works on the repository's .runsheet/, never on a runs folder.
        let result = try Fixtures.runsheet(arguments + (arguments.first == "halt" ? [] : ["--runs-dir", "runs"]), environment: environment.merging(["NO_COLOR": "1"]) { $1 }, directory: dir)
        return (result, Date().timeIntervalSince(start))
    }

    func expectRefused(_ name: String, _ result: ProcessResult, elapsed: TimeInterval, source: String) {
        let sentence = name == "unlock"
            ? "runsheet: runsheet unlock has nothing to release on the PostgreSQL store \(Self.unreachable) (chosen by \(source)): " +
              "there a lock is held only by the session that drives its run and ends with it, so it did nothing; give --store folder to release a lock of the run folders\n"
            : "runsheet: runsheet \(name) does not work on the PostgreSQL store \(Self.unreachable) (chosen by \(source)) yet, so it did nothing; " +
              "give --store folder to use the run folders, or copy the run into one first with 'runsheet store pull RUN'\n"
        #expect(result.status == 6 && result.stderr == sentence && result.stdout.isEmpty, "\(name): \(result.status) \(result.stdout)\(result.stderr)")
        #expect(elapsed < 15, "\(name) refused without trying to connect (\(elapsed) s)")
    }

    @Test func everyRunCommandRefusesAStoreChosenByTheEnvironmentAndTouchesNothing() throws {
        let (dir, id) = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let journal = dir.appendingPathComponent("runs/\(id)/journal.jsonl")
        let before = try Data(contentsOf: journal)
        for (name, arguments) in Self.commands(id) {
            let (result, elapsed) = try run(arguments, in: dir, environment: ["RUNSHEET_STORE": Self.unreachable])
            expectRefused(name, result, elapsed: elapsed, source: "RUNSHEET_STORE")
        }
        #expect(try Data(contentsOf: journal) == before, "nothing was written")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("runs").path) == [id], "no run was started")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent(".runsheet/halts.jsonl").path), "no halt was recorded")
        // --store folder overrides the environment: the run folders are used as before.
        let (status, _) = try run(["status", id, "--store", "folder"], in: dir, environment: ["RUNSHEET_STORE": Self.unreachable])
        #expect(status.status == 0 && status.stdout.contains("run      \(id)"), "\(status.stdout)\(status.stderr)")
        let (flagged, elapsed) = try run(["unlock", "checkout", "production", "--as", "alice@example.com", "--reason", "stuck", "--store", Self.unreachable], in: dir, environment: [:])
        #expect(flagged.status == 6 && flagged.stderr.contains("(chosen by --store)"), "\(flagged.stderr)")
        #expect(elapsed < 15)
    }

    @Test func everyRunCommandRefusesAStoreNamedInTheConfigFile() throws {
        let (dir, id) = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        let config = dir.appendingPathComponent(".runsheet/config.yaml")
        try "store: \(Self.unreachable)\n".write(to: config, atomically: true, encoding: .utf8)
        for (name, arguments) in Self.commands(id) {
            let (result, elapsed) = try run(arguments, in: dir, environment: [:])
            expectRefused(name, result, elapsed: elapsed, source: ".runsheet/config.yaml")
        }
        let (overridden, _) = try run(["status", id], in: dir, environment: ["RUNSHEET_STORE": "folder"])
        #expect(overridden.status == 0, "RUNSHEET_STORE=folder overrides the config file: \(overridden.stderr)")
        // A config file that cannot be parsed may name a store: the command stops (exit 2), naming the file.
        try "store: [\n".write(to: config, atomically: true, encoding: .utf8)
        let (broken, _) = try run(["status", id], in: dir, environment: [:])
        #expect(broken.status == 2 && broken.stderr.contains(".runsheet/config.yaml:"), "\(broken.status) \(broken.stderr)")
        try "store: folder\n".write(to: config, atomically: true, encoding: .utf8)
        let (folder, _) = try run(["status", id], in: dir, environment: [:])
        #expect(folder.status == 0, "\(folder.stderr)")
    }

    @Test func anExportedJournalNamedByItsPathIsVerifiedWhateverTheStore() throws {
        let (dir, id) = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (result, _) = try run(["verify", "runs/\(id)/journal.jsonl"], in: dir, environment: ["RUNSHEET_STORE": Self.unreachable])
        #expect(result.status == 0 && result.stdout.contains(": intact"), "\(result.stdout)\(result.stderr)")
        let (sign, _) = try run(["sign", "runs/\(id)", "say-hello", "--as", "bob@example.com"], in: dir, environment: ["RUNSHEET_STORE": Self.unreachable])
        #expect(sign.status == 6, "a command that writes refuses even a folder named by its path: \(sign.stderr)")
    }
}
