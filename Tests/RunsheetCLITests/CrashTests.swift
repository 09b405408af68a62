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
}
