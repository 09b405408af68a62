import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Kill -9 at random points of a scripted run, resume each time: no acknowledged action is lost
/// and the journal always verifies.
@Suite struct CrashTests {
    final class Collector: @unchecked Sendable {
        private let lock = NSLock()
        private var data = Data()
        func append(_ chunk: Data) { lock.withLock { data.append(chunk) } }
        var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
    }

    @Test func sigkillNeverLosesAnAcknowledgedAction() throws {
        let dir = try Fixtures.temporaryDirectory()
        let runbook = dir.appendingPathComponent("long.md")
        let count = 40
        try ("# Long\n" + (1...count).map { "- [ ] step \($0)\n" }.joined()).write(to: runbook, atomically: true, encoding: .utf8)
        let runs = dir.appendingPathComponent("runs")
        var generator = SystemRandomNumberGenerator()
        var runID: String?
        var acknowledged = 0
        for round in 0..<12 {
            let process = Process()
            process.executableURL = Fixtures.binary
            if let runID {
                process.arguments = ["resume", runID, "--runs-dir", runs.path]
            } else {
                process.arguments = ["run", runbook.path, "--runs-dir", runs.path]
            }
            process.environment = ProcessInfo.processInfo.environment.merging(["NO_COLOR": "1"]) { $1 }
            let input = Pipe(), output = Pipe()
            process.standardInput = input
            process.standardOutput = output
            process.standardError = FileHandle(forWritingAtPath: "/dev/null")
            let collector = Collector()
            output.fileHandleForReading.readabilityHandler = { handle in collector.append(handle.availableData) }
            Fixtures.ignoreBrokenPipes()
            try process.run()
            // Every fourth round kills during start-up; the others wait until the walk-through is
            // ready, so a slow machine still kills in the middle of actions, not always at start.
            if round % 4 != 0 {
                let ready = Date().addingTimeInterval(20)
                while !collector.text.contains("▶") && Date() < ready { Thread.sleep(forTimeInterval: 0.01) }
            }
            let actions = Int.random(in: 1...6, using: &generator)
            for _ in 0..<actions {
                // The run may have ended (every step done) and the process with it.
                try? input.fileHandleForWriting.write(contentsOf: Data("done\n".utf8))
                Thread.sleep(forTimeInterval: Double(Int.random(in: 0...15, using: &generator)) / 1000)
            }
            Thread.sleep(forTimeInterval: Double(Int.random(in: 0...30, using: &generator)) / 1000)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            output.fileHandleForReading.readabilityHandler = nil
            let printed = collector.text
            // Each "▶ [n/…]" line is printed only after the action before it was written and fsync'd.
            let settled = printed.split(separator: "\n").compactMap { line -> Int? in
                guard line.hasPrefix("▶ ["), let slash = line.firstIndex(of: "/") else { return nil }
                return Int(line[line.index(line.startIndex, offsetBy: 3)..<slash])
            }.max() ?? 0
            acknowledged = max(acknowledged, settled)
            if runID == nil {
                runID = Fixtures.onlyRun(in: runs.path)
                #expect(runID != nil || acknowledged == 0)
            }
            guard let runID else { continue }
            let journal = runs.appendingPathComponent(runID + "/journal.jsonl").path
            let report = try JournalVerifier.verify(path: journal)
            #expect(report.problem == nil, "round \(round): \(String(describing: report.problem))")
            let state = RunState.fold(try JournalFile.read(at: journal).events)
            let done = state.steps.values.filter { $0.status == .done }.count
            #expect(done >= acknowledged, "round \(round): \(acknowledged) acknowledged, \(done) in the journal")
        }
        guard let runID else {
            Issue.record("no run was created")
            return
        }
        let journal = runs.appendingPathComponent(runID + "/journal.jsonl").path
        // The rounds may already have finished the run; otherwise finish it now.
        if !RunState.fold(try JournalFile.read(at: journal).events).finished {
            let finish = try Fixtures.runsheet(["resume", runID, "--runs-dir", runs.path], stdin: String(repeating: "done\n", count: count))
            #expect(finish.status == 0, "\(finish.stdout)\n\(finish.stderr)")
        }
        let state = RunState.fold(try JournalFile.read(at: journal).events)
        #expect(state.outcome == .completed)
        #expect(state.steps.values.filter { $0.status == .done }.count == count)
        #expect(try Fixtures.runsheet(["verify", runID, "--runs-dir", runs.path]).status == 0)
    }

    /// Kill -9 while commands run, notes are written, steps are skipped and done, resuming each
    /// time. What the walk-through prints after an action is on disk is the acknowledgement: the
    /// next step's "▶ [settled/total]" line (done, skip, run), "noted", and "✓ commands passed".
    @Test func sigkillDuringCommandsAndNotesNeverLosesAnAcknowledgedAction() throws {
        let dir = try Fixtures.temporaryDirectory()
        let runbook = dir.appendingPathComponent("mixed.md")
        let count = 40
        // Odd steps are done by hand; even ones run a command that takes long enough to be killed in.
        try ("# Mixed\n\n" + (1...count).map { n in
            n.isMultiple(of: 2) ? "- [ ] command \(n)\n\n  ```bash run\n  sleep 0.05; echo hi \(n)\n  ```\n" : "- [ ] manual \(n)\n"
        }.joined()).write(to: runbook, atomically: true, encoding: .utf8)
        let runs = dir.appendingPathComponent("runs")
        var generator = SystemRandomNumberGenerator()
        func pause(upTo milliseconds: Int) {
            Thread.sleep(forTimeInterval: Double(Int.random(in: 0...milliseconds, using: &generator)) / 1000)
        }
        var runID: String?
        var settled = 0, passedCommands = 0, killedInCommands = 0
        var acknowledgedNotes: [String] = [], sentNotes: [String] = []
        for round in 0..<14 {
            if let runID, RunState.fold(try JournalFile.read(at: runs.path + "/\(runID)/journal.jsonl").events).finished { break }
            let walk = try RunningRunsheet(runID.map { ["resume", $0, "--runs-dir", runs.path] } ?? ["run", runbook.path, "--runs-dir", runs.path])
            var notes: [String] = []
            func actAtRandom() {
                for index in 0..<Int.random(in: 1...6, using: &generator) {
                    switch Int.random(in: 0..<4, using: &generator) {
                    case 0: walk.send("done")
                    case 1: walk.send("run")
                    case 2:
                        notes.append("round \(round) note \(index)")
                        walk.send("note " + notes.last!)
                    default: walk.send("skip not needed, round \(round)")
                    }
                    pause(upTo: 15)
                }
                pause(upTo: 30)
            }
            // Every fifth round is killed during start-up, amid whatever actions it was sent.
            if round % 5 == 0 {
                actAtRandom()
            } else {
                #expect(walk.waitFor("▶"), "round \(round): \(walk.printed)\n\(walk.errors)")
                if round % 3 == 0 {
                    actAtRandom()
                } else {
                    // Get to a command step and run its command (it takes 50 ms).
                    if Self.announced(walk.printed).last?.step.hasPrefix("manual") == true {
                        walk.send("done")
                        walk.waitFor("▶", count: 2)
                    }
                    walk.send("run")
                    if round % 3 == 1 {
                        if walk.waitFor("┌ command") { killedInCommands += 1 }
                        pause(upTo: 40)
                    } else {
                        // Let it pass, then kill amid the notes, skips and dones that follow.
                        #expect(walk.waitFor("✓ commands passed"), "round \(round): \(walk.printed)")
                        notes.append("round \(round) after the command")
                        walk.send("note " + notes.last!)
                        actAtRandom()
                    }
                }
            }
            let printed = walk.kill()
            let lines = printed.split(separator: "\n").map(String.init)
            settled = max(settled, Self.announced(printed).map(\.settled).max() ?? 0)
            // Notes are acted on in the order sent, so the first k notes sent got the k "noted" lines.
            acknowledgedNotes += notes.prefix(lines.filter { $0 == "  noted" }.count)
            sentNotes += notes
            passedCommands += lines.filter { $0 == "  ✓ commands passed" }.count
            if runID == nil {
                runID = Fixtures.onlyRun(in: runs.path)
                #expect(runID != nil || settled == 0)
            }
            guard let runID else { continue }
            let journal = runs.appendingPathComponent(runID + "/journal.jsonl").path
            let report = try JournalVerifier.verify(path: journal)
            #expect(report.problem == nil, "round \(round): \(String(describing: report.problem))")
            let events = try JournalFile.read(at: journal, repair: false).events
            let state = RunState.fold(events)
            let noted = events.filter { $0.type == .note }.compactMap { $0.data["text"]?.string }
            #expect(state.steps.values.filter(\.status.isSettled).count >= settled, "round \(round): \(settled) steps acknowledged")
            #expect(Set(acknowledgedNotes).isSubset(of: noted), "round \(round): acknowledged \(acknowledgedNotes), journal \(noted)")
            #expect(Set(noted).isSubset(of: sentNotes) && Set(noted).count == noted.count, "notes are recorded once each: \(noted)")
            let passed = events.filter { $0.type == .commandFinished && $0.data["passed"]?.bool == true }.count
            #expect(passed >= passedCommands, "round \(round): \(passedCommands) commands acknowledged, \(passed) in the journal")
        }
        #expect(killedInCommands > 0 && passedCommands > 0, "rounds killed in a command: \(killedInCommands), commands passed: \(passedCommands)")
        let id = try #require(runID, "no run was created")
        let journal = runs.appendingPathComponent(id + "/journal.jsonl").path
        if !RunState.fold(try JournalFile.read(at: journal).events).finished {
            // A command the last kill cut short may have run: deciding to run it again is a person's call, made here.
            let finish = try Fixtures.runsheet(["resume", id, "--runs-dir", runs.path], stdin: "run\n" + String(repeating: "done\n", count: count))
            #expect(finish.status == 0, "\(finish.stdout)\n\(finish.stderr)")
        }
        let contents = try JournalFile.read(at: journal, repair: false)
        #expect(contents.tornLine == nil)
        let state = RunState.fold(contents.events)
        #expect(state.outcome == .completed)
        #expect(state.steps.values.filter(\.status.isSettled).count == count)
        #expect(Set(acknowledgedNotes).isSubset(of: contents.events.compactMap { $0.type == .note ? $0.data["text"]?.string : nil }))
        #expect(try Fixtures.runsheet(["verify", id, "--runs-dir", runs.path]).status == 0)
    }

    /// The "▶ [settled/total] id · title" lines a walk-through printed, in order.
    static func announced(_ printed: String) -> [(settled: Int, step: String)] {
        printed.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("▶ ["), let slash = line.firstIndex(of: "/"), let close = line.firstIndex(of: "]"),
                  let settled = Int(line[line.index(line.startIndex, offsetBy: 3)..<slash]) else { return nil }
            let rest = line[line.index(after: close)...].trimmingCharacters(in: .whitespaces)
            return (settled, String(rest.prefix { $0 != " " }))
        }
    }
}
