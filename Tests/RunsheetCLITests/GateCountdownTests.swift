import Foundation
import RunsheetCore
@testable import RunsheetCLI
import RunsheetTestSupport
import Testing

/// Issue 15, item 2: a waiting gate with a `Timeout` counts down, on its screen (100, 60 and 40
/// columns, and in tmux) and in a scripted `wait`; the gate then fails as before.
@Suite struct GateCountdownTests {
    static func repository(timeout: String) throws -> URL {
        let dir = try Fixtures.temporaryDirectory()
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        try "roles:\n  sre: [carol, dave]\n".write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        try """
            # Change

            - [ ] Prepare
            - [ ] Approve the change
              - Sign-off: 1 of sre
              - Timeout: \(timeout)
            - [ ] Deploy
            """.write(to: dir.appendingPathComponent("change.md"), atomically: true, encoding: .utf8)
        return dir
    }

    @Test func theGateScreenCountsDown() throws {
        let dir = try Self.repository(timeout: "12m")
        var transcript = ""
        for width in [100, 60, 40] {
            let runs = dir.appendingPathComponent("runs-\(width)")
            let terminal = ScriptedTerminal(width: width, [.press("d"), .idle, .press("q")])
            let result = try InProcess.walk(["run", dir.appendingPathComponent("change.md").path, "--runs-dir", runs.path, "--as", "alice"], on: terminal)
            #expect(result.status == 3, "\(result.stdout)\n\(result.stderr)")
            let gate = try #require(terminal.frames.first { $0.contains("Gate: sign-off by 1 of sre") })
            #expect(gate.contains("times out in 12m; then it fails"), "\(gate)")
            WalkThroughScreenTests.expectFits(terminal, paused: true)
            transcript += "──── \(width) columns ────\n" + FailedCheckTests.transcript(terminal, runs: runs) + "\n"
            let state = RunState.fold(try WalkThroughScreenTests.events(in: runs))
            #expect(state.record("approve-the-change").status == .active)
        }
        try Golden.check(transcript, against: "terminal/gate-countdown.txt")
    }

    @Test func countdownText() {
        #expect(Countdown.coarse(12 * 60) == "12m")
        #expect(Countdown.coarse(11 * 60 + 1) == "12m")
        #expect(Countdown.coarse(3600 + 5 * 60) == "1h05m")
        #expect(Countdown.coarse(7200) == "2h")
        #expect(Countdown.coarse(42) == "42s")
        #expect(Countdown.coarse(42, step: 10) == "50s")
        #expect(Countdown.clock(42) == "0:42" && Countdown.clock(3723) == "1:02:03")
    }

    /// A scripted `wait` prints the countdown as it goes, then the gate times out and fails.
    @Test func aScriptedWaitCountsDown() throws {
        let dir = try Self.repository(timeout: "4s")
        let runs = dir.appendingPathComponent("runs").path
        let result = try Fixtures.runsheet(["run", "change.md", "--runs-dir", runs, "--as", "alice"], stdin: "done\nwait\n", directory: dir)
        #expect(result.stdout.contains("times out in 4s") || result.stdout.contains("times out in 3s"), "\(result.stdout)")
        #expect(result.stdout.contains("✗ gate timed out"), "\(result.stdout)")
        let lines = result.stdout.split(separator: "\n").filter { $0.contains("times out in") }
        #expect(lines.count <= 2, "a few lines, not one a second: \(lines)")
        let id = try #require(Fixtures.onlyRun(in: runs))
        let events = try JournalFile.read(at: runs + "/" + id + "/journal.jsonl").events
        let failed = try #require(events.first { $0.type == .stepFailed })
        #expect(failed.step == "approve-the-change")
        #expect(failed.data["reason"]?.string?.contains("gate not approved within 4s") == true)
    }
}
