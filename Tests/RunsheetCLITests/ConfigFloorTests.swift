import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// `.runsheet/config.yaml` is a rule file: the stores it names, as committed at HEAD and as in the
/// working copy, are the floor of the halts a run obeys wherever it is kept; one that cannot be
/// read, decoded or parsed stops production steps (fail closed, TRUST.md rule 7); and its hash is
/// recorded with the other rule files'. Through the real binary.
@Suite struct ConfigFloorTests {
    let rules = CommittedRulesTests()
    let floor = CommittedFloorTests()

    /// A config file committed broken (a Latin-1 byte, bad YAML, a folder), the working copy freed
    /// of it: a run kept with `--store folder` runs its non-production step, refuses the production
    /// step with one sentence naming the file (exit 3), and still carries out a rollback.
    @Test(arguments: ["latin1", "yaml", "folder"])
    func aConfigCommittedBrokenStopsProductionSteps(_ how: String) throws {
        let dir = try rules.repository()
        let config = dir.appendingPathComponent(".runsheet/config.yaml")
        let store = "postgresql://olly@127.0.0.1:1/team?sslmode=disable"
        switch how {
        case "latin1": try Data(Array("st".utf8) + [0xE9] + Array("re: \(store)\n".utf8)).write(to: config)
        case "yaml": try "store: \(store)\nnotify: [\n".write(to: config, atomically: true, encoding: .utf8)
        default:
            try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
            try "store: \(store)\n".write(to: config.appendingPathComponent("store.yaml"), atomically: true, encoding: .utf8)
        }
        try rules.git(dir, ["add", "-A"])
        try rules.git(dir, ["commit", "-qm", "a broken config"])
        // Gone from the working copy (uncommitted): only the committed file says which store's halts apply.
        try FileManager.default.removeItem(at: config)
        let result = try floor.run(dir, store: true)
        let named = how == "folder" ? "committed as a folder" : how == "yaml" ? "not valid YAML" : "not UTF-8"
        #expect(result.status == 3 && result.stdout.contains("production steps do not start: .runsheet/config.yaml:")
                && result.stdout.contains("as committed at HEAD") && result.stdout.contains(named)
                && result.stdout.contains("rollback steps still run"), "\(result.status) \(result.stdout)\(result.stderr)")
        // The screen does not promise that waiting lifts it: a config fixed on disk counts from the next resume.
        #expect(result.stdout.contains("'wait' waits until the halts can be read or an exception is granted for this step; a fixed config file counts from the next resume")
                && !result.stdout.contains("'wait' waits until it is lifted"), "\(result.stdout)")
        let events = try JournalFile.read(at: dir.appendingPathComponent("runs/\(try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path)))/journal.jsonl").path).events
        #expect(events.contains { $0.type == .stepCompleted && $0.step == "prepare" }, "a step that changes no production runs")
        #expect(!events.contains { $0.type == .stepCompleted && $0.step == "switch-traffic" }, "\(result.stdout)")
        // Rollback steps still run.
        let rollback = try floor.run(dir, runs: "runs-rollback", store: true, answers: "done\nfail the switch broke\ndone\n")
        #expect(rollback.status == 1, "\(rollback.stdout)\(rollback.stderr)")
        let rolled = try JournalFile.read(at: dir.appendingPathComponent("runs-rollback/\(try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs-rollback").path)))/journal.jsonl").path).events
        #expect(rolled.contains { $0.type == .stepCompleted && $0.step == "restore-traffic" } && rolled.last?.data["outcome"]?.string == "rolled-back", "\(rollback.stdout)")
    }

    /// A working-copy config that cannot be read or decoded (mode 000, a folder, a Latin-1 byte)
    /// stops the run before anything is written, whichever store is chosen (exit 2, naming the file).
    @Test(arguments: ["unreadable", "folder", "latin1"])
    func aBrokenWorkingCopyConfigStopsTheRun(_ how: String) throws {
        let dir = try rules.repository()
        let config = dir.appendingPathComponent(".runsheet/config.yaml")
        switch how {
        case "unreadable":
            try "store: folder\n".write(to: config, atomically: true, encoding: .utf8)
            chmod(config.path, 0)
        case "folder": try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        default: try Data(Array("store: folder\n# caf".utf8) + [0xE9, 0x0A]).write(to: config)
        }
        defer { chmod(config.path, 0o644) }
        // Root reads a file of mode 000 anyway: nothing to show there.
        if how == "unreadable", getuid() == 0 { return }
        let result = try floor.run(dir, store: true)
        #expect(result.status == 2 && result.stderr.contains(".runsheet/config.yaml") && !FileManager.default.fileExists(atPath: dir.appendingPathComponent("runs").path),
                "\(result.status) \(result.stdout)\(result.stderr)")
    }

    /// The config file is a rule file: its SHA-256 is among the rules a run records at its start
    /// and a halt records in `data.rules`. A journal that started before it was recorded still
    /// verifies, and its run goes on.
    @Test func theConfigFileIsRecordedWithTheRuleFiles() throws {
        let dir = try rules.repository()
        // A run started before the config file existed (as by an older runsheet): no config.yaml in its rules.
        let paused = try floor.run(dir, answers: "done\n")
        #expect(paused.status == 3, "\(paused.stdout)\(paused.stderr)")
        let id = try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))
        let config = dir.appendingPathComponent(".runsheet/config.yaml")
        try "store: folder\n".write(to: config, atomically: true, encoding: .utf8)
        try rules.git(dir, ["add", "-A"])
        try rules.git(dir, ["commit", "-qm", "config"])
        let sha = SHA256Hex.of(Array(try Data(contentsOf: config)))
        #expect(try Fixtures.runsheet(["verify", id, "--runs-dir", "runs"], directory: dir).status == 0)
        let resumed = try Fixtures.runsheet(["resume", id, "--as", "olly", "--runs-dir", "runs"], stdin: "done\ndone\n", directory: dir)
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        #expect(try Fixtures.runsheet(["verify", id, "--runs-dir", "runs"], directory: dir).status == 0)
        // A new run records it at its start.
        #expect(try floor.run(dir, runs: "runs-new", answers: "done\ndone\ndone\n").status == 0)
        let started = try JournalFile.read(at: dir.appendingPathComponent("runs-new/\(try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs-new").path)))/journal.jsonl").path).events[0]
        guard case .runStarted(let payload)? = try? started.payload() else { Issue.record("no run.started"); return }
        #expect(payload.rules?[".runsheet/config.yaml"] == sha, "\(payload.rules ?? [:])")
        // A halt records it in data.rules, by its path from the Git root.
        #expect(try floor.halted(dir).status == 0)
        let halt = try #require(try GovernanceLog(path: floor.halts(dir), name: "halts").read().first)
        guard case .object(let recorded)? = halt.data["rules"] else { Issue.record("no rules: \(halt.data)"); return }
        #expect(recorded[".runsheet/config.yaml"] == .string(sha), "\(recorded)")
    }
}
