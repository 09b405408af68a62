import Foundation
import RunsheetCore

/// Drives `JournalFile` and `JournalVerifier` for scripts/bench-journal. Prints `key=value` lines.
///
///     runsheet-bench generate PATH COUNT        a journal of COUNT events, written in one go
///     runsheet-bench replay PATH [REPS]         JournalFile.read, median and best of REPS
///     runsheet-bench verify PATH                JournalVerifier.verify once
///     runsheet-bench fold PATH [REPS]           JournalFile.state and JournalFile.verifiedState, medians of REPS
///     runsheet-bench append PATH COUNT [ACTOR]  COUNT durable appends (creates PATH if missing)
///     runsheet-bench notes PATH COUNT ACTOR     COUNT durable notes: a writer beside another (a
///                                              second appender of steps would drive the run and be refused)
///     runsheet-bench history DIR RUNS STEPS      RUNS deployment runs of STEPS steps each (deterministic)
///     runsheet-bench lockruns DIR RUNS STEPS OPEN  the same, each run.started with its environment
///                                              lock; the last OPEN runs still open, holding theirs
///     runsheet-bench lockscan DIR REPS           LockFolder.holders (the scan `run` does before it
///                                              starts) against listing DIR's runs, medians of REPS
///     runsheet-bench storeappend URL RUN COUNT ROUNDS
///                                              durable appends to a run of the PostgreSQL store, as
///                                              `sign` makes them, against BEGIN/INSERT/COMMIT of the same
///                                              rows into a plain table, ROUNDS rounds of COUNT (StoreAppends.swift)
///     runsheet-bench signed PATH COUNT SIGNED PRINCIPAL [KEY]
///                                              `generate`'s journal with SIGNED sign-offs by PRINCIPAL,
///                                              signed by `ssh-keygen -Y sign` with KEY (unsigned without)
@main
struct JournalBench {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        do {
            switch (arguments.first, arguments.count) {
            case ("generate", 3): try generate(path: arguments[1], count: try number(arguments[2]))
            case ("replay", 2), ("replay", 3): try replay(path: arguments[1], reps: arguments.count == 3 ? try number(arguments[2]) : 5)
            case ("verify", 2): try verify(path: arguments[1])
            case ("fold", 2), ("fold", 3): try fold(path: arguments[1], reps: arguments.count == 3 ? try number(arguments[2]) : 5)
            case ("signed", 5), ("signed", 6):
                try SignedJournal.write(path: arguments[1], count: try number(arguments[2]), signed: try number(arguments[3]),
                                        principal: arguments[4], key: arguments.count == 6 ? arguments[5] : nil)
            case ("history", 4): try RunHistory.write(to: arguments[1], runs: try number(arguments[2]), steps: try number(arguments[3]))
            case ("lockruns", 5):
                try RunHistory.write(to: arguments[1], runs: try number(arguments[2]), steps: try number(arguments[3]), locks: true,
                                     open: Int(arguments[4]) ?? 0)
            case ("lockscan", 3): try LockScan.time(directory: arguments[1], reps: try number(arguments[2]))
            case ("storeappend", 5):
                try StoreAppends.run(url: arguments[1], runID: arguments[2], count: try number(arguments[3]), rounds: try number(arguments[4]))
            case ("append", 3), ("append", 4):
                try append(path: arguments[1], count: try number(arguments[2]), actor: arguments.count == 4 ? arguments[3] : "bench")
            case ("notes", 4):
                try append(path: arguments[1], count: try number(arguments[2]), actor: arguments[3], notesOnly: true)
            default:
                FileHandle.standardError.write(Data("usage: runsheet-bench generate|replay|verify|fold|append PATH [COUNT|REPS] [ACTOR], notes PATH COUNT ACTOR, signed PATH COUNT SIGNED PRINCIPAL [KEY], history DIR RUNS STEPS, lockruns DIR RUNS STEPS OPEN, lockscan DIR REPS, or storeappend URL RUN COUNT ROUNDS\n".utf8))
                exit(2)
            }
        } catch {
            FileHandle.standardError.write(Data("runsheet-bench: \(error.localizedDescription)\n".utf8))
            exit(1)
        }
    }

    struct UsageError: LocalizedError {
        var errorDescription: String?
    }

    static func number(_ text: String) throws -> Int {
        guard let value = Int(text), value > 0 else { throw UsageError(errorDescription: "\(text) is not a positive number") }
        return value
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// The `run.started` of a journal at `path`: its run id is the name of the journal's folder,
    /// as runsheet requires of a run folder (a folder named for another run is a copy).
    static func started(path: String) -> RunEvent {
        RunEvent(seq: 0, time: Timestamp.now(), type: .runStarted, actor: "bench", host: "bench-host", via: "script",
                 data: ["schema": .string(RunEvent.schema), "runId": .string(runID(path)), "runbook": "runbooks/deploy.md", "title": "Deploy"])
    }

    static func runID(_ path: String) -> String {
        let folder = ((path as NSString).deletingLastPathComponent as NSString).lastPathComponent
        return folder.isEmpty || folder == "." || folder == "/" ? "bench" : folder
    }

    /// The event mix of a long run: each step starts, runs a command, and completes; some get notes.
    static func event(_ index: Int, actor: String) -> RunEvent {
        let step = "drain-node-\(index / 4)"
        let base = RunEvent(seq: 0, time: Timestamp.now(), type: .note, actor: actor, host: "bench-host", via: "terminal", step: step)
        var event = base
        switch index % 4 {
        case 0:
            event.type = .stepStarted
        case 1:
            event.type = .commandFinished
            event.data = ["index": 0, "attempt": 1, "command": .string("kubectl drain node-\(index / 4) --ignore-daemonsets --timeout=5m"),
                          "exit": 0, "timedOut": false, "interrupted": false, "durationMs": .int(index % 9_000),
                          "outputBytes": .int(index % 70_000), "outputSha256": .string(SHA256Hex.of("\(index)")),
                          "outputFile": .string("output/\(step)-1.log")]
        case 2:
            event.type = .stepCompleted
            event.data = ["next": .string("drain-node-\(index / 4 + 1)")]
        default:
            event.step = nil
            event.data = ["text": .string("\(actor) #\(index): node drained, pods rescheduled")]
        }
        return event
    }

    static func generate(path: String, count: Int) throws {
        var previous = try JournalFile.create(at: path, first: started(path: path))
        var text = Data()
        for index in 1..<count {
            previous = try event(index, actor: "bench").sealed(seq: index + 1, after: previous.hash)
            text.append(try previous.canonicalJSON())
            text.append(0x0A)
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: text)
        try handle.synchronize()
        try handle.close()
        print("events=\(count)")
    }

    static func replay(path: String, reps: Int) throws {
        var times: [Double] = []
        var count = 0
        for _ in 0..<reps {
            let clock = ContinuousClock()
            let start = clock.now
            count = try JournalFile.read(at: path, repair: false).events.count
            times.append(seconds(clock.now - start))
        }
        times.sort()
        print("events=\(count) median=\(times[times.count / 2]) best=\(times[0])")
    }

    /// The fold `status RUN` does, without and with the hash chain checked in the same pass.
    static func fold(path: String, reps: Int) throws {
        var plain: [Double] = [], verified: [Double] = []
        var intact = true
        for _ in 0..<reps {
            let clock = ContinuousClock()
            var start = clock.now
            _ = try JournalFile.state(at: path, repair: false)
            plain.append(seconds(clock.now - start))
            start = clock.now
            intact = try JournalFile.verifiedState(at: path, repair: false).problem == nil && intact
            verified.append(seconds(clock.now - start))
        }
        plain.sort()
        verified.sort()
        print("intact=\(intact) plain=\(plain[plain.count / 2]) verified=\(verified[verified.count / 2])")
    }

    static func verify(path: String) throws {
        let clock = ContinuousClock()
        let start = clock.now
        let report = try JournalVerifier.verify(path: path)
        print("events=\(report.eventCount) intact=\(report.isIntact) seconds=\(seconds(clock.now - start))")
    }

    static func append(path: String, count: Int, actor: String, notesOnly: Bool = false) throws {
        if !FileManager.default.fileExists(atPath: path) { try JournalFile.create(at: path, first: started(path: path)) }
        let file = try JournalFile(path: path)
        let events = (0..<count).map { event(notesOnly ? 4 * $0 + 3 : $0, actor: actor) }  // built outside the timing, like the C baseline's lines; from the first step.started
        let clock = ContinuousClock()
        let start = clock.now
        for event in events { try file.append(event) }
        let elapsed = seconds(clock.now - start)
        print("appends=\(count) seconds=\(elapsed) perSecond=\(Double(count) / elapsed)")
    }
}
