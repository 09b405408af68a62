import Foundation

extension RunEngine {
    /// Seconds left before the current gate's `Timeout` fails it (`settleGate` uses the same
    /// clock: from the step's start); nil when the current step is not a waiting gate with one.
    public func gateTimeLeft(now: Date = Date()) -> TimeInterval? {
        guard let step = currentStep, step.isGate, currentGate != nil, let limit = step.timeoutSeconds,
              let started = state.record(step.id).startedAt.flatMap(Timestamp.parse) else { return nil }
        return max(0, Double(limit) - now.timeIntervalSince(started))
    }
}
