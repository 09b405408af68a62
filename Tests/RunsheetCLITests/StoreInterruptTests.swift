import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// A command reading a run of the PostgreSQL store lays it out in a private temporary folder
/// (`StoreRunView`); stopped by SIGINT, SIGTERM or SIGHUP while the folder is there, it removes
/// it and still ends by that signal. The real binary is held with the folder present (its output
/// goes to a pipe nobody reads, so it blocks writing) and sent the signal.
@Suite(.serialized) struct StoreInterruptTests {
    /// A run of `count` notes, in a new runs folder, pushed to a new store.
    func pushedLongRun(count: Int) throws -> (runs: URL, id: String, url: String, environment: [String: String]) {
        let team = try PostgresStoreTests().team()
        let runs = try Fixtures.temporaryDirectory("store-interrupt-runs")
        let id = "long-run"
        try FileManager.default.createDirectory(at: runs.appendingPathComponent(id), withIntermediateDirectories: true)
        let path = runs.appendingPathComponent("\(id)/journal.jsonl").path
        let started = RunEvent(seq: 0, time: Timestamp.now(), type: .runStarted, actor: "alice", host: "test-host", via: "script",
                               data: ["schema": .string(RunEvent.schema), "runId": .string(id), "runbook": "runbooks/deploy.md", "title": "Deploy"])
        var previous = try JournalFile.create(at: path, first: started)
        var text = Data()
        for index in 1..<count {
            let note = RunEvent(seq: 0, time: Timestamp.now(), type: .note, actor: "alice", host: "test-host", via: "terminal",
                                data: ["text": .string("note \(index): a line long enough that the audit trail fills a pipe quickly")])
            previous = try note.sealed(seq: index + 1, after: previous.hash)
            text.append(try previous.canonicalJSON())
            text.append(0x0A)
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: text)
        try handle.close()
        let url = team.store.url(user: team.alice.user)
        let environment = team.store.environment(password: team.alice.password)
        let pushed = try Fixtures.runsheet(["store", "push", id, "--runs-dir", runs.path, "--store", url], environment: environment)
        #expect(pushed.status == 0, "\(pushed.stdout)\(pushed.stderr)")
        return (runs, id, url, environment)
    }

    /// Leftover layouts in `scratch`.
    func layouts(in scratch: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: scratch.path)) ?? []).filter { $0.hasPrefix("runsheet-store-run-") }
    }

    @Test(arguments: [SIGTERM, SIGINT, SIGHUP])
    func aSignalWhileAStoreRunIsLaidOutRemovesItsFolder(signal: Int32) throws {
        let run = try pushedLongRun(count: 3000)
        defer { try? FileManager.default.removeItem(at: run.runs) }
        let scratch = try Fixtures.temporaryDirectory("store-interrupt-tmp")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let process = Process()
        process.executableURL = Fixtures.binary
        process.arguments = ["audit", run.id, "--store", run.url]
        process.environment = ProcessInfo.processInfo.environment.merging(run.environment.merging(["TMPDIR": scratch.path, "NO_COLOR": "1"]) { $1 }) { $1 }
        // Standard output is never read: the audit trail (about 400 KB) fills the pipe, and the command waits there, its folder laid out.
        let output = Pipe(), errors = Pipe()
        (process.standardOutput, process.standardError) = (output, errors)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while layouts(in: scratch).isEmpty && process.isRunning && Date() < deadline { usleep(5_000) }
        #expect(!layouts(in: scratch).isEmpty && process.isRunning, "the command never laid out the run")
        usleep(200_000)  // until it blocks writing; the folder is there all along
        #expect(process.isRunning)
        kill(process.processIdentifier, signal)
        let stop = Date().addingTimeInterval(30)
        while process.isRunning && Date() < stop { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == signal,
                "ended by \(process.terminationReason == .uncaughtSignal ? "signal" : "exit") \(process.terminationStatus), not by signal \(signal)")
        #expect(layouts(in: scratch).isEmpty, "left behind: \(layouts(in: scratch))")
        try? output.fileHandleForReading.close()
    }
}
