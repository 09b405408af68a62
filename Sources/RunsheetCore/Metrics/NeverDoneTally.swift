import Foundation

extension DeliveryMetrics {
    /// A completed run whose runbook could not be read or compiled: its never-done steps are not
    /// counted, and the metrics say so rather than guess.
    public struct NeverDoneNotCounted: Codable, Sendable, Equatable {
        public var run: String
        /// Why the runbook cannot be judged against: the sentence naming the file.
        public var problem: String

        /// "never-done steps of run R are not counted: PROBLEM", one line.
        public var text: String { "never-done steps of run \(run.shown) are not counted: \(problem)" }
    }

    /// Never-done steps (`RunState.neverDone`) over the completed runs in range, each judged
    /// against the runbook as its facts give it: per runbook and step, how many runs left the
    /// step never done out of how many started with it; and the runs that could not be judged.
    struct NeverDoneTally {
        struct Count {
            var runbook: String
            var step: String
            var estimate: Int?
            var never = 0
            var of = 0
        }

        /// By `stepKey`.
        var counts: [String: Count] = [:]
        var notCounted: [NeverDoneNotCounted] = []

        init(_ facts: [RunFacts]) {
            for fact in facts where fact.state.outcome == .completed {
                guard let runbook = fact.runbook else {
                    if let problem = fact.runbookProblem { notCounted.append(NeverDoneNotCounted(run: fact.state.runID, problem: problem)) }
                    continue
                }
                // A step the run did not start with (added to the runbook since) is not judged in it.
                for step in runbook.steps where fact.state.stepHashes[step.id] != nil {
                    let key = DeliveryMetrics.stepKey(fact.state.runbookID, step.id)
                    counts[key, default: Count(runbook: fact.state.runbookID, step: step.id, estimate: fact.estimates[step.id])].of += 1
                    if fact.state.isNeverDone(step, in: runbook) { counts[key]?.never += 1 }
                }
            }
            notCounted.sort { $0.run < $1.run }
        }
    }

    /// The key of a step's statistics: runbook and step id.
    static func stepKey(_ runbook: String, _ step: String) -> String { runbook + "\u{0}" + step }
}
