import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Issue 13, "Done when": kill -9 a run at random points, while commands with a side effect run
/// and while another process signs, resuming each time. After each kill and resume: nothing
/// acknowledged is lost, nothing is duplicated, every started command has finished in the journal
/// or is shown as "may have run", the journal verifies, and the killed command's process group is
/// gone (its side effect never happens after the kill).
@Suite struct IntentCrashTests {
    static let steps = 24

    static func kind(_ n: Int) -> String { ["manual", "command", "gate"][n % 3] }

    static func runbook(marker: String) -> String {
        "---\nroles: [sre]\n---\n\n# Crash\n\n" + (1...steps).map { n in
            switch kind(n) {
            case "command": "- [ ] command \(n)\n\n  ```bash run\n  sleep 0.3; echo command-\(n) >> '\(marker)'\n  ```\n"
            case "gate": "- [ ] gate \(n)\n  - Sign-off: 1 of sre\n"
            default: "- [ ] manual \(n)\n"
            }
        }.joined()
    }

    @Test func sigkillAtRandomPointsKeepsTheRecordWholeAndEndsTheCommand() throws {
        let dir = try Fixtures.temporaryDirectory()
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        try "roles:\n  operator: [alice]\n  sre: [bob]\n".write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        let marker = dir.appendingPathComponent("marker")
        try Self.runbook(marker: marker.path).write(to: dir.appendingPathComponent("crash.md"), atomically: true, encoding: .utf8)
        let runs = dir.appendingPathComponent("runs")
        var generator = SystemRandomNumberGenerator()
        func pause(upTo milliseconds: Int) {
            Thread.sleep(forTimeInterval: Double(Int.random(in: 0...milliseconds, using: &generator)) / 1000)
        }
        func markerLines() -> [String] {
            ((try? String(contentsOf: marker, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
        var runID: String?
        var visited: [String] = []
        var kills = 0, killedInCommands = 0, killedWhileSigning = 0, shownMayHaveRun = 0
        var acknowledgedSettled = 0
        var acknowledgedSignatures: Set<String> = []
        var acknowledgedPasses: Set<String> = []
        let clock = Date()
        for round in 0..<40 {
            guard kills < 22 || (killedInCommands < 5 || killedWhileSigning < 3) else { break }
            guard Date().timeIntervalSince(clock) < 50 else { break }
            var before = RunState()
            if let runID {
                before = RunState.fold(try JournalFile.read(at: runs.path + "/\(runID)/journal.jsonl").events)
                if before.finished { break }
            }
            let walk = try RunningRunsheet(runID.map { ["resume", $0, "--runs-dir", runs.path, "--as", "alice"] }
                                           ?? ["run", "crash.md", "--runs-dir", runs.path, "--as", "alice"], directory: dir)
            #expect(walk.waitFor("▶"), "round \(round): \(walk.printed)\n\(walk.errors)")
            if runID == nil { runID = Fixtures.onlyRun(in: runs.path) }
            let id = try #require(runID)
            // A command the last session left unfinished is shown, with its start time, before anything runs.
            for (_, unfinished) in before.unfinishedCommands {
                #expect(walk.waitFor("may have run: started at \(unfinished.startedAt), no result recorded", seconds: 5),
                        "round \(round): \(walk.printed)")
                shownMayHaveRun += 1
            }
            let current = walk.printed.split(separator: "\n").last { $0.hasPrefix("▶ [") }.map(String.init) ?? ""
            let step = current.split(separator: " ").dropFirst(2).first.map(String.init) ?? ""
            visited.append(step)
            var signer: Process?
            var inCommand = false
            switch step.split(separator: "-").first {
            case "command":
                walk.send("run")
                inCommand = walk.waitFor("┌ command", seconds: 10)
                // The command takes about 0.35 s: about half the kills come while it runs.
                pause(upTo: 700)
            case "gate":
                if before.signatures[step]?.isEmpty ?? true {
                    let sign = Process()
                    sign.executableURL = Fixtures.binary
                    sign.arguments = ["sign", id, step, "--as", "bob", "--runs-dir", runs.path]
                    sign.currentDirectoryURL = dir
                    sign.standardOutput = FileHandle.nullDevice
                    sign.standardError = FileHandle.nullDevice
                    try sign.run()
                    signer = sign
                }
                walk.send("wait")
                pause(upTo: 250)
            default:
                walk.send("done")
                pause(upTo: 60)
            }
            let linesAtKill = markerLines()
            let printed = walk.kill()
            kills += 1
            if let signer {
                signer.waitUntilExit()
                killedWhileSigning += 1
                if signer.terminationStatus == 0 { acknowledgedSignatures.insert(step) }
            }
            if inCommand {
                killedInCommands += 1
                // The command slept 0.3 s before its side effect: had its group outlived the session, it would write now.
                Thread.sleep(forTimeInterval: 0.45)
                let after = markerLines()
                #expect(after.count <= linesAtKill.count + 1, "round \(round): the killed command went on: \(after)")
                // At most the echo that was already under way when the kill came.
                if after.count > linesAtKill.count {
                    Thread.sleep(forTimeInterval: 0.3)
                    #expect(markerLines() == after, "round \(round)")
                }
            }
            for line in printed.split(separator: "\n") where line.hasPrefix("▶ [") {
                if let slash = line.firstIndex(of: "/"), let n = Int(line[line.index(line.startIndex, offsetBy: 3)..<slash]) {
                    acknowledgedSettled = max(acknowledgedSettled, n)
                }
            }
            if printed.contains("✓ commands passed") { acknowledgedPasses.insert(step) }

            // The record after the kill.
            let journal = runs.path + "/\(id)/journal.jsonl"
            let report = try JournalVerifier.verify(path: journal)
            #expect(report.problem == nil, "round \(round): \(String(describing: report.problem))")
            let events = try JournalFile.read(at: journal).events
            let state = RunState.fold(events)
            #expect(state.settledCount >= acknowledgedSettled, "round \(round): \(acknowledgedSettled) acknowledged, \(state.settledCount) settled")
            for gate in acknowledgedSignatures { #expect(state.signatures[gate]?.isEmpty == false, "round \(round): \(gate)") }
            for passed in acknowledgedPasses {
                #expect(state.record(passed).commands.contains { $0.passed }, "round \(round): \(passed)")
            }
            // Nothing twice: a step is settled once, a signer signs a gate once, the run ends once.
            var settles: [String: Int] = [:]
            for event in events where [.stepCompleted, .stepSkipped, .stepFailed, .stepForced].contains(event.type) {
                settles[event.step ?? "", default: 0] += 1
            }
            #expect(settles.values.allSatisfy { $0 == 1 }, "round \(round): \(settles)")
            #expect(state.signatures.values.allSatisfy { $0.count <= 1 }, "round \(round)")
            #expect(events.filter { $0.type == .runEnded }.count <= 1)
            // Every side effect has its start in the journal, and every recorded pass its side effect.
            for n in (1...Self.steps) where Self.kind(n) == "command" {
                let lines = markerLines().filter { $0 == "command-\(n)" }.count
                let started = events.filter { $0.type == .commandStarted && $0.step == "command-\(n)" }.count
                let passed = state.record("command-\(n)").commands.filter(\.passed).count
                #expect(passed <= lines && lines <= started, "round \(round): command-\(n): \(passed) passed, \(lines) effects, \(started) started")
            }
        }
        #expect(kills >= 20, "\(kills) kills")
        #expect(killedInCommands >= 3, "\(killedInCommands) kills during a command")
        #expect(killedWhileSigning >= 2, "\(killedWhileSigning) kills while signing: \(visited)")
        let id = try #require(runID)
        #expect(try Fixtures.runsheet(["verify", id, "--runs-dir", runs.path]).status == 0)
        _ = shownMayHaveRun
    }
}
