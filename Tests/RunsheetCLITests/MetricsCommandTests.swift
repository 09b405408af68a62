import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// `runsheet metrics` on a recorded history (made by `runsheet-bench history Tests/Fixtures/metrics/runs 24 6`):
/// every format against its expected file, groups never mixed, filters, and bad dates.
@Suite struct MetricsCommandTests {
    static let fixture = Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/metrics")
    static let window = ["--runs-dir", "runs", "--since", "2026-09-21", "--until", "2026-09-28"]

    @Test(arguments: ["md", "html", "json", "csv"])
    func everyFormatMatchesItsExpectedFile(format: String) throws {
        let result = try Fixtures.runsheet(["metrics", "--format", format] + Self.window, directory: Self.fixture)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty)
        try Golden.check(result.stdout, against: "reports/metrics.\(format)")
        #expect(try Fixtures.runsheet(["metrics", "--format", format] + Self.window, directory: Self.fixture).stdout == result.stdout)
    }

    @Test func groupsFiltersAndCharts() throws {
        let json = try Fixtures.runsheet(["metrics", "--format", "json"] + Self.window, directory: Self.fixture)
        let metrics = try JSONDecoder().decode(DeliveryMetrics.self, from: Data(json.stdout.utf8))
        #expect(metrics.schema == "runsheet.metrics/1")
        #expect(metrics.groups.map { "\($0.service)/\($0.environment)" } == ["checkout/production", "checkout/staging", "search/production", "search/staging"])
        // Every deployment lands in exactly one group; aborted runs are not deployments.
        let states = try FileManager.default.contentsOfDirectory(atPath: Self.fixture.appendingPathComponent("runs").path).map { id in
            RunState.fold(try JournalFile.read(at: Self.fixture.appendingPathComponent("runs/\(id)/journal.jsonl").path).events)
        }
        let deployments = states.filter(DeliveryMetrics.isDeployment)
        #expect(metrics.groups.map(\.deployments).reduce(0, +) == deployments.count)
        #expect(states.contains { $0.outcome == .aborted } || deployments.count == states.count)
        let checkout = try #require(metrics.groups.first)
        let failRate = try #require(checkout.measures.first { $0.name == "change fail rate" })
        let checkoutRuns = deployments.filter { $0.service == "checkout" && $0.environment == "production" }
        let failedRuns = checkoutRuns.filter { $0.outcome == .failed || $0.outcome == .rolledBack }
        #expect(failRate.n == checkoutRuns.count)
        #expect(failRate.value == DeliveryMetrics.round2(100 * Double(failedRuns.count) / Double(checkoutRuns.count)))

        let search = try Fixtures.runsheet(["metrics", "--service", "search", "--format", "json"] + Self.window, directory: Self.fixture)
        let filtered = try JSONDecoder().decode(DeliveryMetrics.self, from: Data(search.stdout.utf8))
        #expect(filtered.groups.allSatisfy { $0.service == "search" } && !filtered.groups.isEmpty)

        let markdown = try Fixtures.runsheet(["metrics"] + Self.window, directory: Self.fixture).stdout
        #expect(markdown.components(separatedBy: "```mermaid\nxychart-beta").count - 1 == metrics.groups.count)
        let html = try Fixtures.runsheet(["metrics", "--format", "html"] + Self.window, directory: Self.fixture).stdout
        #expect(html.components(separatedBy: "<svg ").count - 1 == metrics.groups.count)
        #expect(!html.contains("<script") && !html.contains("https://"))

        let bad = try Fixtures.runsheet(["metrics", "--since", "last week"], directory: Self.fixture)
        #expect(bad.status == 2 && bad.stderr == "runsheet: --since 'last week' is not a date; write it as YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)\n")
    }

    @Test func definitionsOnHandBuiltRuns() throws {
        var clock = Date(timeIntervalSince1970: 1_800_000_000)
        func run(_ id: String, service: String = "api", environment: String = "prod", outcome: String, class releaseClass: String = "normal",
                 failAfter: Int? = nil, commitAgo: Int? = nil, acted: Bool = true) -> DeliveryMetrics.RunFacts {
            var events: [RunEvent] = []
            func add(_ type: EventType, step: String? = nil, _ data: [String: JSONValue] = [:]) {
                events.append(RunEvent(seq: events.count + 1, time: Timestamp.format(clock), type: type, actor: "a", host: "h", via: "script", step: step, data: data))
            }
            add(.runStarted, ["runId": .string(id), "runbookId": "deploy", "class": .string(releaseClass), "service": .string(service),
                              "environment": .string(environment), "production": .array([.string("ship")])])
            let start = clock
            add(.stepStarted, step: "ship")
            clock += 600
            if let failAfter {
                clock += Double(failAfter - 600)
                add(.stepFailed, step: "ship", ["reason": "boom"])
                clock += 300
            } else if acted {
                add(.stepCompleted, step: "ship")
            }
            add(.runEnded, ["outcome": .string(outcome)])
            clock += 86400
            return .init(state: RunState.fold(events), commitTime: commitAgo.map { start.addingTimeInterval(-Double($0)) }, estimates: ["ship": 300])
        }
        let facts = [
            run("1", outcome: "completed", commitAgo: 3600),
            run("2", outcome: "rolled-back", failAfter: 600),
            run("3", outcome: "failed", failAfter: 600),
            run("4", outcome: "completed", class: "emergency", commitAgo: 7200),
            run("5", outcome: "aborted", acted: false),
            run("6", environment: "staging", outcome: "completed"),
        ]
        let metrics = DeliveryMetrics.compute(facts, since: nil, until: clock)
        #expect(metrics.groups.map(\.environment) == ["prod", "staging"])
        let prod = try #require(metrics.groups.first)
        #expect(prod.deployments == 4, "the run aborted before its production step acted is not a deployment")
        func measure(_ name: String) -> DeliveryMetrics.Measure? { prod.measures.first { $0.name == name } }
        #expect(measure("change fail rate")?.value == 50)
        #expect(measure("deployment rework rate")?.value == 25)
        #expect(measure("change lead time").map { ($0.n, $0.median, $0.p90) } ?? (0, nil, nil) == (2, 6000, 7800), "commit to end: 3600 + 600 and 7200 + 600 seconds")
        // Run 2 rolled back 300 s after its failure; run 3 failed and run 4 (a day later) restored service.
        let recovery = try #require(measure("failed deployment recovery time"))
        #expect(recovery.n == 2 && recovery.p90 == 86400 + 900 - 600 + 600 && recovery.median == (300 + 87300 + 1) / 2)
        #expect(measure("time between deployments")?.median == 87300)
        #expect(DeliveryMetrics.percentile90([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) == 9 && DeliveryMetrics.percentile90([5]) == 5)
        let ship = try #require(metrics.steps.first { $0.step == "ship" })
        // Durations of done steps: runs 1, 4 and 6 (run 5 never finished its step).
        #expect(ship.n == 3 && ship.failed == 2 && ship.median == 600 && ship.estimate == 300)
    }
}
