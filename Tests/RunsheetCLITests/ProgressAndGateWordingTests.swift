import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Issue 15, item 7: the progress bar counts the steps on the run's path (a completed run ends at
/// N/N), the gate screen says once what a gate still needs, and a rejection says who rejected.
@Suite struct ProgressAndGateWordingTests {
    static let demo = WalkThroughScreenTests.demo

    /// run-demo has five steps; its rollback step is a branch never taken on a good run.
    @Test func aCompletedRunEndsAtNOfN() throws {
        let runs = try Fixtures.temporaryDirectory()
        let terminal = ScriptedTerminal(width: 90, [.press("d"), .press("r"), .press("y"), .press(" "), .press("r"), .press("y"), .press(" ")])
        let result = try InProcess.walk(["run", Self.demo, "--runs-dir", runs.path, "--as", "bob"], on: terminal)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        #expect(try #require(terminal.frames.first).contains("] 0/4  elapsed"))
        #expect(terminal.lastFrame.contains("] 4/4  elapsed") && terminal.lastFrame.contains("completed"), "\(terminal.lastFrame)")
        #expect(!terminal.output.contains("/5"))
        #expect(RunState.fold(try WalkThroughScreenTests.events(in: runs)).outcome == .completed)
    }

    /// A rolled-back run counts the rollback it took and not the steps after the failure.
    @Test func aRolledBackRunCountsTheBranchItTook() throws {
        let runs = try Fixtures.temporaryDirectory()
        let result = try InProcess.runsheet(["run", Self.demo, "--runs-dir", runs.path, "--as", "bob", "--param", "target=fail"],
                                            stdin: "done\nrun\nrun\ndone\n")
        #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("▶ [0/4] read-the-notes"), "\(result.stdout)")
        #expect(result.stdout.contains("→ On failure: Rollback: Roll back the service"), "\(result.stdout)")
        #expect(result.stdout.contains("▶ [3/4] roll-back-the-service"), "\(result.stdout)")
        let state = RunState.fold(try WalkThroughScreenTests.events(in: runs))
        #expect(state.outcome == .rolledBack)
        #expect(state.record("only-in-emergencies").status == .pending)
    }

    /// The gate screen states the rule once ("sign-off by 2 of sre") and what is still needed
    /// once, with the same numbers everywhere; a rejection names who rejected. At 100, 60 and 40 columns.
    @Test(arguments: [100, 60, 40]) func gateScreenSaysOnceWhatItNeedsAndWhoRejected(width: Int) throws {
        let dir = try TerminalTests.gateRepository()
        let runs = dir.appendingPathComponent("runs")
        @Sendable func run(_ arguments: [String]) {
            let id = Fixtures.onlyRun(in: runs.path) ?? "?"
            let result = try? Fixtures.runsheet([arguments[0], id] + arguments.dropFirst() + ["--runs-dir", runs.path], directory: dir)
            #expect(result?.status == 0, "\(result?.stderr ?? "")")
        }
        let terminal = ScriptedTerminal(width: width, [
            .press("d"), .idle,
            .act { run(["sign", "approve-the-change", "--as", "carol"]) }, .idle,
            .press("d"),
            .act { run(["reject", "approve-the-change", "--as", "dave", "--reason", "error budget spent"]) }, .idle,
        ])
        let result = try InProcess.walk(["run", dir.appendingPathComponent("change.md").path, "--runs-dir", runs.path, "--as", "alice"], on: terminal)
        #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
        try Golden.check(FailedCheckTests.transcript(terminal, runs: runs), against: "terminal/gate-wording-\(width).txt")
        FailedCheckTests.expectFits(terminal)
        let frames = terminal.frames
        #expect(frames.contains { $0.split(separator: "\n").joined(separator: " ").contains("Gate: sign-off by 2 of sre and 1 of release-manager") })
        for frame in frames {
            #expect(!frame.contains("Gate: needs"))
            let numbers = Set(frame.matches(of: /(\d+) more of sre/).map { String($0.output.1) })
            #expect(numbers.count <= 1, "one frame says two different things about what the gate needs:\n\(frame)")
        }
        let last = terminal.lastFrame.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        #expect(last.contains("aborted: gate 'approve-the-change' rejected by dave: error budget spent"), "\(terminal.lastFrame)")
        let state = RunState.fold(try WalkThroughScreenTests.events(in: runs))
        #expect(state.outcome == .aborted)
        #expect(state.rejections["approve-the-change"]?.first?.signer == "dave")
        let status = try Fixtures.runsheet(["status", state.runID, "--runs-dir", runs.path])
        #expect(status.stdout.contains("rejected by dave: error budget spent"), "\(status.stdout)")
    }

    /// A rejection the run follows to its `On reject` branch says who rejected, on the screen.
    @Test func theRejectBranchScreenSaysWhoRejected() throws {
        let dir = try TerminalTests.gateRepository()
        try """
            # Change

            - [ ] Approve the change
              - Sign-off: sre
              - On reject: [Undo](#undo)
            - [ ] Deploy

            ## Undo

            - [ ] Put the old config back
            """.write(to: dir.appendingPathComponent("change.md"), atomically: true, encoding: .utf8)
        let runs = dir.appendingPathComponent("runs")
        let terminal = ScriptedTerminal(width: 60, [
            .idle,
            .act {
                let id = Fixtures.onlyRun(in: runs.path) ?? "?"
                let result = try? Fixtures.runsheet(["reject", id, "approve-the-change", "--as", "carol", "--reason", "not this week", "--runs-dir", runs.path], directory: dir)
                #expect(result?.status == 0, "\(result?.stderr ?? "")")
            },
            .idle, .press("q"),
        ])
        let result = try InProcess.walk(["run", dir.appendingPathComponent("change.md").path, "--runs-dir", runs.path, "--as", "alice"], on: terminal)
        #expect(result.status == 3, "\(result.stdout)\n\(result.stderr)")
        #expect(terminal.frames.contains { $0.contains("▶ Put the old config back") && $0.contains("Gate rejected by carol: not this week") },
                "\(terminal.frames.last ?? "")")
        let state = RunState.fold(try WalkThroughScreenTests.events(in: runs))
        #expect(state.record("approve-the-change").reason == "rejected by carol: not this week")
        #expect(state.cursor == "put-the-old-config-back")
    }

    /// In a script, `wait` at a gate says who rejected it.
    @Test func scriptedWaitSaysWhoRejected() throws {
        let dir = try TerminalTests.gateRepository()
        let runs = dir.appendingPathComponent("runs")
        let first = try Fixtures.runsheet(["run", "change.md", "--runs-dir", runs.path, "--as", "alice"], stdin: "done\n", directory: dir)
        #expect(first.status == 3, "\(first.stdout)\n\(first.stderr)")
        let id = try #require(Fixtures.onlyRun(in: runs.path))
        let rejected = try Fixtures.runsheet(["reject", id, "approve-the-change", "--as", "erin", "--reason", "not today", "--runs-dir", runs.path], directory: dir)
        #expect(rejected.status == 0, "\(rejected.stderr)")
        let waited = try Fixtures.runsheet(["resume", id, "--runs-dir", runs.path, "--as", "alice"], stdin: "wait\n", directory: dir)
        #expect(waited.status == 1, "\(waited.stdout)\n\(waited.stderr)")
        #expect(waited.stdout.contains("✗ gate rejected by erin: not today"), "\(waited.stdout)")
        #expect(waited.stdout.contains("aborted: gate 'approve-the-change' rejected by erin: not today"), "\(waited.stdout)")
    }
}
