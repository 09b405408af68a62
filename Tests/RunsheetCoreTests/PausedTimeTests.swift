import Foundation
import RunsheetCore
import Testing

/// Durations leave out the time a run stood paused or crashed between sessions: a step paused
/// overnight did not take twelve hours, and must not teach `update` a twelve-hour estimate.
@Suite struct PausedTimeTests {
    static let runbook = Compiler().compile(path: "deploy.md", bytes: Array("""
        # Deploy

        - [ ] Approve
          * Estimate: 5m
        - [ ] Switch traffic
          * Estimate: 1m

        """.utf8)).runbook

    /// Quit at 10:01 while approving, someone signs at 12:00, resume at 14:00; a crash while
    /// switching traffic at 14:01, resume at 16:00.
    static func events(ended: Bool = true) -> [RunEvent] {
        let (approve, traffic) = (runbook.steps[0].id, runbook.steps[1].id)
        var events: [RunEvent] = []
        func add(_ time: String, _ type: EventType, step: String? = nil, actor: String = "alice", _ data: [String: JSONValue] = [:]) {
            events.append(RunEvent(seq: events.count + 1, time: "2026-11-22T\(time).000Z", type: type, actor: actor, host: "h",
                                   via: "terminal", step: step, data: data))
        }
        add("10:00:00", .runStarted, ["runId": "r1", "runbookId": .string(runbook.id), "schema": .string(RunEvent.schema)])
        add("10:00:10", .stepStarted, step: approve)
        add("10:01:00", .runPaused, ["at": .string(approve)])
        add("12:00:00", .signOff, step: approve, actor: "bob", ["role": "release-manager"])
        add("14:00:00", .runResumed)
        add("14:00:30", .stepCompleted, step: approve, ["next": .string(traffic)])
        add("14:01:00", .stepStarted, step: traffic)
        add("16:00:00", .runResumed)
        add("16:00:20", .stepCompleted, step: traffic)
        if ended { add("16:00:30", .runEnded, ["outcome": "completed"]) }
        return events
    }

    @Test func stepsAndTheRunCountOnlyActiveTime() throws {
        let state = RunState.fold(Self.events())
        #expect(state.idle.map(\.from) == ["2026-11-22T10:01:00.000Z", "2026-11-22T14:01:00.000Z"])
        #expect(state.idle.map(\.to) == ["2026-11-22T14:00:00.000Z", "2026-11-22T16:00:00.000Z"])
        let approve = state.record(Self.runbook.steps[0].id), traffic = state.record(Self.runbook.steps[1].id)
        #expect(state.activeSeconds(from: approve.startedAt, to: approve.endedAt) == 50 + 30)
        #expect(state.activeSeconds(from: traffic.startedAt, to: traffic.endedAt) == 20)
        #expect(state.activeSeconds(from: state.startedAt, to: state.endedAt) == 60 + 60 + 30)

        let report = RunReport.make(events: Self.events(), runbook: Self.runbook, currentSHA256: "")
        #expect(report.run.durationSeconds == 150)
        #expect(report.run.pausedSeconds == 14_340 + 7_140)
        #expect(report.steps.map(\.durationSeconds) == [80, 20])
        let markdown = try ReportRenderer.render(report, format: .md)
        #expect(markdown.contains("| Duration | 2m30s (plus 5h58m paused) |"), "\(markdown)")
        #expect(!markdown.contains("⚠"), "no step is over its estimate")
    }

    @Test func aRunStillGoingCountsItsPausesUpToItsLastEvent() throws {
        let report = RunReport.make(events: Self.events(ended: false), runbook: Self.runbook, currentSHA256: "")
        #expect(report.run.durationSeconds == nil && report.run.pausedSeconds == 21_480)
        // Steps not reached yet are "open" while the run goes on ("not reached" once it ended).
        #expect(try ReportRenderer.render(report, format: .md).contains("**2 done, 0 skipped, 0 failed, 0 open** of 2 steps."))
        let ended = try ReportRenderer.render(RunReport.make(events: Self.events(), runbook: Self.runbook, currentSHA256: ""), format: .md)
        #expect(ended.contains("**2 done, 0 skipped, 0 failed, 0 not reached** of 2 steps."))
    }

    @Test func updateLearnsEstimatesFromActiveTime() {
        let source = Array("""
            # Deploy

            - [ ] Approve
              * Estimate: 5m
            - [ ] Switch traffic
              * Estimate: 1m

            """.utf8)
        let update = RunbookUpdate.propose(source: source, runbook: Self.runbook, runs: [RunState.fold(Self.events())])
        let text = String(decoding: update.edits.apply(to: source), as: UTF8.self)
        // 80 s and 20 s of work, rounded the way people estimate; not 4 h and 2 h.
        #expect(text.contains("- [ ] Approve\n  * Estimate: 1m\n") && text.contains("- [ ] Switch traffic\n  * Estimate: 20s\n"), "\(text)")
    }
}
