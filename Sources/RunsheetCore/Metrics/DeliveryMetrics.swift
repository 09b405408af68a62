import Foundation

/// Delivery metrics across runs, in the spirit of DORA's, computed per service and environment
/// (never mixed), plus step statistics. Definitions and formulas are in docs/METRICS.md; the
/// JSON form is `runsheet.metrics/1`.
public struct DeliveryMetrics: Codable, Sendable, Equatable {
    public static let schema = "runsheet.metrics/1"

    /// One measure: a rate (`value`) or a distribution (`median`, `p90`), over `n` observations.
    public struct Measure: Codable, Sendable, Equatable {
        public var name: String
        /// `per week`, `seconds` or `percent`.
        public var unit: String
        public var n: Int
        public var value: Double?
        public var median: Int?
        public var p90: Int?
    }

    public struct WeekCount: Codable, Sendable, Equatable {
        /// Monday of the ISO week, `2026-11-16`.
        public var week: String
        public var deployments: Int
        public var failed: Int
    }

    public struct Group: Codable, Sendable, Equatable {
        public var service: String
        public var environment: String
        public var deployments: Int
        public var measures: [Measure]
        public var weeks: [WeekCount]
    }

    public struct StepStat: Codable, Sendable, Equatable {
        public var runbook: String
        public var step: String
        public var n: Int
        public var median: Int?
        public var p90: Int?
        public var estimate: Int?
        public var failed: Int
        public var skipped: Int
        /// Completed runs that left the step never done (`RunState.neverDone`), out of
        /// `neverDoneOf`: the completed runs that started with it and could be judged.
        public var neverDone: Int
        public var neverDoneOf: Int
    }

    /// One run as metrics see it: its state, and the time of the change it shipped, if known.
    public struct RunFacts: Sendable {
        public var state: RunState
        public var commitTime: Date?
        /// Step estimates of the runbook, for the step table.
        public var estimates: [String: Int]
        /// The runbook as it is now, which never-done steps are judged against; when nil,
        /// `runbookProblem` says why it could not be read or compiled.
        public var runbook: Runbook?
        public var runbookProblem: String?

        public init(state: RunState, commitTime: Date? = nil, estimates: [String: Int] = [:], runbook: Runbook? = nil, runbookProblem: String? = nil) {
            self.state = state
            self.commitTime = commitTime
            self.estimates = estimates
            self.runbook = runbook
            self.runbookProblem = runbookProblem
        }
    }

    public var schema = DeliveryMetrics.schema
    public var since: String?
    public var until: String
    public var service: String?
    /// `metrics --change REF`: only the runs that carry out this change record; nil for all.
    public var change: String?
    public var runs: Int
    public var groups: [Group]
    public var steps: [StepStat]
    public var mostFailed: [StepStat]
    public var mostSkipped: [StepStat]
    /// The ten steps completed runs left never done most often.
    public var mostNeverDone: [StepStat]
    /// Completed runs in range whose never-done steps are not counted: their runbook could not
    /// be read or compiled.
    public var neverDoneNotCounted: [NeverDoneNotCounted]
    /// How long production was halted in the window (`runsheet halt`); nil in a repository that
    /// never halted. Set by the caller, which reads the repository's halts file.
    public var halted: Halted?

    /// Production halted in the window: overlapping halts counted once, or why it cannot be told.
    public struct Halted: Codable, Sendable, Equatable {
        public var seconds: Int?
        /// Halts that overlap the window (stopping `service`, when metrics are for one).
        public var halts: Int?
        /// Why the time cannot be counted (a halts file that does not verify); then no figures.
        public var problem: String?

        public init(seconds: Int? = nil, halts: Int? = nil, problem: String? = nil) {
            self.seconds = seconds
            self.halts = halts
            self.problem = problem
        }
    }

    /// A deployment is a finished run that started at least one production step. An aborted run
    /// is one only when a production step acted (done, failed, or a command ran).
    public static func isDeployment(_ state: RunState) -> Bool {
        guard let outcome = state.outcome else { return false }
        if outcome == .aborted { return state.productionSteps.contains { touched(state.record($0)) } }
        return state.productionSteps.contains { state.record($0).startedAt != nil }
    }

    /// A step that acted: done, failed, or with a command run. Arriving at a step starts it, so an
    /// abort on the screen of a production step has not changed production.
    static func touched(_ record: RunState.StepRecord) -> Bool {
        record.status == .done || record.status == .failed || !record.commands.isEmpty
    }

    /// A failed deployment ended failed, rolled back, or aborted once production had been touched.
    public static func isFailedDeployment(_ state: RunState) -> Bool {
        guard isDeployment(state) else { return false }
        return state.outcome == .failed || state.outcome == .rolledBack || state.outcome == .aborted
    }

    public static func compute(_ facts: [RunFacts], since: Date?, until: Date, service: String? = nil, change: String? = nil) -> DeliveryMetrics {
        let inRange = facts.filter { fact in
            guard let started = Timestamp.parse(fact.state.startedAt) else { return false }
            return (since.map { started >= $0 } ?? true) && started <= until
                && (service.map { fact.state.service == $0 } ?? true)
                && (change.map { fact.state.changeRecord == $0 } ?? true)
        }
        // Groups: service and environment, never mixed.
        var grouped: [String: [RunFacts]] = [:]
        for fact in inRange where isDeployment(fact.state) {
            grouped[groupKey(fact.state), default: []].append(fact)
        }
        let groups = grouped.keys.sorted().map { key -> Group in
            let runs = grouped[key, default: []].sorted { $0.state.startedAt < $1.state.startedAt }
            return group(runs, since: since, until: until)
        }
        // Steps: every run in range, by runbook and step.
        var stats: [String: (runbook: String, step: String, durations: [Int], failed: Int, skipped: Int, estimate: Int?)] = [:]
        var order: [String] = []
        for fact in inRange {
            for (id, record) in fact.state.steps.sorted(by: { $0.key < $1.key }) {
                let key = stepKey(fact.state.runbookID, id)
                if stats[key] == nil {
                    stats[key] = (fact.state.runbookID, id, [], 0, 0, fact.estimates[id])
                    order.append(key)
                }
                switch record.status {
                case .done:
                    if let seconds = fact.state.secondsSpent(on: id) { stats[key]!.durations.append(seconds) }
                case .failed: stats[key]!.failed += 1
                case .skipped where !record.automatic: stats[key]!.skipped += 1
                default: break
                }
            }
        }
        // Never done: a step jumped over was never started, so it may have no record in any run.
        let tally = NeverDoneTally(inRange)
        for (key, count) in tally.counts where count.never > 0 && stats[key] == nil {
            stats[key] = (count.runbook, count.step, [], 0, 0, count.estimate)
            order.append(key)
        }
        let steps = order.sorted().compactMap { key in stats[key].map { (key, $0) } }.map { key, entry in
            StepStat(runbook: entry.runbook, step: entry.step, n: entry.durations.count, median: median(entry.durations),
                     p90: percentile90(entry.durations), estimate: entry.estimate, failed: entry.failed, skipped: entry.skipped,
                     neverDone: tally.counts[key]?.never ?? 0, neverDoneOf: tally.counts[key]?.of ?? 0)
        }
        let mostFailed = steps.filter { $0.failed > 0 }.sorted { ($0.failed, $1.runbook, $1.step) > ($1.failed, $0.runbook, $0.step) }.prefix(10)
        let mostSkipped = steps.filter { $0.skipped > 0 }.sorted { ($0.skipped, $1.runbook, $1.step) > ($1.skipped, $0.runbook, $0.step) }.prefix(10)
        let mostNeverDone = steps.filter { $0.neverDone > 0 }.sorted { ($0.neverDone, $1.runbook, $1.step) > ($1.neverDone, $0.runbook, $0.step) }.prefix(10)
        return DeliveryMetrics(since: since.map(Timestamp.format), until: Timestamp.format(until), service: service, change: change, runs: inRange.count,
                               groups: groups, steps: steps, mostFailed: Array(mostFailed), mostSkipped: Array(mostSkipped),
                               mostNeverDone: Array(mostNeverDone), neverDoneNotCounted: tally.notCounted)
    }

    static func groupKey(_ state: RunState) -> String {
        (state.service ?? "unknown") + "\u{0}" + (state.environment ?? "unknown")
    }

    static func group(_ runs: [RunFacts], since: Date?, until: Date) -> Group {
        let states = runs.map(\.state)
        let failed = states.filter(isFailedDeployment)
        let starts = states.compactMap { Timestamp.parse($0.startedAt) }
        // Deployment frequency: deployments per week over the period (from --since, else the first deployment).
        let from = since ?? starts.first ?? until
        let weeks = max(until.timeIntervalSince(from) / (7 * 86400), 1.0 / 7)
        let gaps = zip(starts.dropFirst(), starts).map { Int($0.timeIntervalSince($1).rounded()) }
        var measures = [
            Measure(name: "deployment frequency", unit: "per week", n: states.count, value: round2(Double(states.count) / weeks)),
            Measure(name: "time between deployments", unit: "seconds", n: gaps.count, median: median(gaps), p90: percentile90(gaps)),
        ]
        // Change lead time: from the change's commit to the end of the deployment that shipped it.
        let leads = runs.compactMap { fact -> Int? in
            guard let commit = fact.commitTime, fact.state.outcome == .completed, let end = fact.state.endedAt.flatMap(Timestamp.parse) else { return nil }
            return max(0, Int(end.timeIntervalSince(commit).rounded()))
        }
        measures.append(Measure(name: "change lead time", unit: "seconds", n: leads.count, median: median(leads), p90: percentile90(leads)))
        // Change fail rate: deployments that failed, were rolled back or aborted, over all deployments.
        measures.append(Measure(name: "change fail rate", unit: "percent", n: states.count, value: round2(100 * Double(failed.count) / Double(max(1, states.count)))))
        // Failed deployment recovery time: from the first failed step to the end of the rollback
        // (a rolled-back run), or to the end of the next completed deployment (a failed or aborted
        // run; an aborted run with no failed step failed when it was aborted).
        var recoveries: [Int] = []
        for (index, state) in states.enumerated() where isFailedDeployment(state) {
            let failedAt = state.steps.values.filter { $0.status == .failed }.compactMap { $0.endedAt.flatMap(Timestamp.parse) }.min()
                ?? state.endedAt.flatMap(Timestamp.parse)
            guard let failedAt else { continue }
            let restored: Date?
            if state.outcome == .rolledBack {
                restored = state.endedAt.flatMap(Timestamp.parse)
            } else {
                restored = states[(index + 1)...].first { $0.outcome == .completed }?.endedAt.flatMap(Timestamp.parse)
            }
            if let restored { recoveries.append(max(0, Int(restored.timeIntervalSince(failedAt).rounded()))) }
        }
        measures.append(Measure(name: "failed deployment recovery time", unit: "seconds", n: recoveries.count, median: median(recoveries), p90: percentile90(recoveries)))
        // Deployment rework rate: unplanned deployments (emergency class) over all deployments.
        let rework = states.filter { $0.releaseClass == .emergency }.count
        measures.append(Measure(name: "deployment rework rate", unit: "percent", n: states.count, value: round2(100 * Double(rework) / Double(max(1, states.count)))))
        // Deployments per ISO week, for the chart.
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var perWeek: [String: (Int, Int)] = [:]
        for (state, start) in zip(states, states.map { Timestamp.parse($0.startedAt) }) {
            guard let start, let monday = calendar.dateInterval(of: .weekOfYear, for: start)?.start else { continue }
            let key = String(Timestamp.format(monday).prefix(10))
            let bad = isFailedDeployment(state) ? 1 : 0
            perWeek[key] = ((perWeek[key]?.0 ?? 0) + 1, (perWeek[key]?.1 ?? 0) + bad)
        }
        return Group(service: states.first?.service ?? "unknown", environment: states.first?.environment ?? "unknown", deployments: states.count,
                     measures: measures, weeks: perWeek.keys.sorted().map { WeekCount(week: $0, deployments: perWeek[$0]!.0, failed: perWeek[$0]!.1) })
    }

    /// The middle value; for an even count, the mean of the two middle values, rounded.
    public static func median(_ values: [Int]) -> Int? { RunbookUpdate.median(values) }

    /// The nearest-rank 90th percentile: the value at rank ⌈0.9·n⌉ of the sorted values.
    public static func percentile90(_ values: [Int]) -> Int? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let rank = Int((0.9 * Double(sorted.count)).rounded(.up))
        return sorted[max(0, rank - 1)]
    }

    public static func round2(_ value: Double) -> Double { (value * 100).rounded() / 100 }

    public func json() -> String { ReportJSON.pretty(self) }
}
