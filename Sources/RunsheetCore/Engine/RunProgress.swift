import Foundation

extension RunEngine {
    /// Steps settled against the steps on the run's path: those it settled, and those it would
    /// still walk by success edges from where it stands (and, once it ended failed or aborted, from
    /// where it stopped). Branch steps never taken are not counted, so a completed run ends at N/N.
    func pathProgress() -> (settled: Int, total: Int) {
        var onPath: Set<String> = []
        var settled = 0
        var starts: [String] = state.cursor.map { [$0] } ?? []
        for step in runbook.steps {
            let record = state.record(step.id)
            if record.status.isSettled {
                settled += 1
                onPath.insert(step.id)
                if record.status == .failed, state.outcome == .failed || state.outcome == .aborted, let next = successor[step.id] ?? nil {
                    starts.append(next)
                }
            } else if record.status == .active {
                starts.append(step.id)
            }
        }
        var seen: Set<String> = []
        for start in starts {
            var next: String? = start
            while let id = next, stepIndex[id] != nil, seen.insert(id).inserted {
                onPath.insert(id)
                next = successor[id] ?? nil
            }
        }
        return (settled, onPath.count)
    }
}
