import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// A run kept in a folder (`--store folder`, RUNSHEET_STORE=folder) in a repository whose
/// `.runsheet/config.yaml` names a PostgreSQL store obeys the store's halts: one flag does not
/// bypass the team's halt. Found by the adversary (the folder run read only `.runsheet/halts.jsonl`).
@Suite(.serialized) struct StoreHaltsFloorTests {
    /// Each paused run keeps its environment lock, so each run has a runs folder of its own (`runs`).
    func folderRun(_ s: StoreRunTests.Setup, _ arguments: [String], stdin: String, variable: Bool = false, runs: String) throws -> ProcessResult {
        var environment = s.a.environment
        if variable { environment["RUNSHEET_STORE"] = "folder" }
        return try Fixtures.runsheet(arguments + (variable ? [] : ["--store", "folder"]) + ["--runs-dir", runs], stdin: stdin, environment: environment, directory: s.a.dir)
    }

    func events(_ s: StoreRunTests.Setup, run id: String, runs: String) throws -> [RunEvent] {
        try JournalFile.read(at: s.a.dir.appendingPathComponent("\(runs)/\(id)/journal.jsonl").path).events
    }

    func only(_ s: StoreRunTests.Setup, runs: String) throws -> String {
        try #require(Fixtures.onlyRun(in: s.a.dir.appendingPathComponent(runs).path))
    }

    @Test func aFolderRunObeysTheHaltsOfTheRepositorysStoreAndStopsWhenTheyCannotBeRead() throws {
        let server = try PostgresServer.own()
        defer { server.remove() }
        let s = try StoreRunTests().setup(on: server)
        try "store: \(s.a.url)\n".write(to: s.a.dir.appendingPathComponent(".runsheet/config.yaml"), atomically: true, encoding: .utf8)
        let halted = try Fixtures.runsheet(["halt", "--reason", "INC-9 payments down", "--as", "carol@example.com", "--store", s.c.url],
                                           environment: s.c.environment, directory: s.a.dir)
        #expect(halted.status == 0, "\(halted.stdout)\(halted.stderr)")
        #expect(!FileManager.default.fileExists(atPath: s.a.dir.appendingPathComponent(".runsheet/halts.jsonl").path), "the halt is on the store only")

        // --store folder and RUNSHEET_STORE=folder both stop at the production step, naming the store's halt.
        for variable in [false, true] {
            let folder = "runs-\(variable)"
            let run = try folderRun(s, ["run", "change.md", "--as", "alice@example.com"], stdin: "done\ndone\n", variable: variable, runs: folder)
            #expect(run.status == 3 && run.stdout.contains("production is halted by carol@example.com") && run.stdout.contains("INC-9 payments down"),
                    "\(variable): \(run.status) \(run.stdout)\(run.stderr)")
            let id = try only(s, runs: folder)
            #expect(!(try events(s, run: id, runs: folder)).contains { $0.type == .stepCompleted && $0.step == "switch-traffic" }, "the halted step was never done")
        }

        // The store stopped: a production step does not start, with one sentence saying why and what to do.
        let lifted = try Fixtures.runsheet(["halt", "--lift", "--as", "carol@example.com", "--store", s.c.url], environment: s.c.environment, directory: s.a.dir)
        #expect(lifted.status == 0, "\(lifted.stderr)")
        try server.stop(immediate: false)
        let down = try folderRun(s, ["run", "change.md", "--as", "alice@example.com"], stdin: "done\ndone\n", runs: "runs-down")
        #expect(down.status == 3, "\(down.status) \(down.stdout)\(down.stderr)")
        #expect(down.stdout.contains("production steps do not start: the halts of the store") && down.stdout.contains("could not be read")
                && down.stdout.contains("rollback steps still run"), "\(down.stdout)")
        let paused = try only(s, runs: "runs-down")
        #expect(!(try events(s, run: paused, runs: "runs-down")).contains { $0.type == .stepCompleted && $0.step == "switch-traffic" })

        // Rollback steps still run while the store cannot be read.
        let rollback = try folderRun(s, ["run", "change.md", "--as", "alice@example.com"], stdin: "done\nfail the switch broke\ndone\n", runs: "runs-rollback")
        #expect(rollback.status == 1, "\(rollback.stdout)\(rollback.stderr)")
        let rolled = try events(s, run: try only(s, runs: "runs-rollback"), runs: "runs-rollback")
        #expect(rolled.contains { $0.type == .stepCompleted && $0.step == "restore-traffic" } && rolled.last?.data["outcome"]?.string == "rolled-back", "\(rollback.stdout)")

        // An exception role's exception for the step lets it go, and the journal says it started so.
        let alone = try folderRun(s, ["sign", paused, "switch-traffic", "--exception", "--reason", "INC-9 fix cannot wait", "--as", "alice@example.com"], stdin: "", runs: "runs-down")
        #expect(alone.status == 1, "the starter grants no exception of their own: \(alone.stderr)")
        let granted = try folderRun(s, ["sign", paused, "switch-traffic", "--exception", "--reason", "INC-9 fix cannot wait", "--as", "carol@example.com"], stdin: "", runs: "runs-down")
        #expect(granted.status == 0, "\(granted.stdout)\(granted.stderr)")
        let resumed = try folderRun(s, ["resume", paused, "--as", "alice@example.com"], stdin: "done\ndone\n", runs: "runs-down")
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        let notes = try events(s, run: paused, runs: "runs-down").filter { $0.type == .note && $0.step == "switch-traffic" }.compactMap { $0.data["text"]?.string }
        #expect(notes.contains { $0.hasPrefix("started under the exception granted by carol@example.com") && $0.contains("could not be read") }, "\(notes)")
    }
}
