import Foundation

/// An event refused at append because it no longer applies to the run as its journal stands: one
/// sentence saying why. Nothing was written.
public struct AppendRefusal: Error, Equatable, LocalizedError {
    public var reason: String

    public init(_ reason: String) { self.reason = reason }

    public var errorDescription: String? { reason }
}

extension EventType {
    /// The events that may follow `run.ended`: they record what was said about a run after it, and
    /// never drive it. Release closures join this list when they
    /// exist (docs/JOURNAL.md, "One writer per run"). A seal after the end is what readiness asks for.
    public static let afterRunEnded: Set<EventType> = [.reviewSigned, .journalSealed, .notifyFailed]

    /// Events about the step the run is on: written for any other step, they would settle or run
    /// a step the run has left.
    public static let atCursor: Set<EventType> = [.stepCompleted, .stepSkipped, .stepFailed, .stepForced, .commandStarted, .commandFinished, .commandResolved]
}

extension RunState {
    /// Why `event` cannot follow the events folded into this state, or nil when it may: the check
    /// every append makes against the journal's head, under the journal's lock (`JournalFile.append`).
    /// Rules that need the runbook (a gate's rule already met) are the caller's (`SignOffs`).
    public func refusal(of event: RunEvent) -> AppendRefusal? {
        let what = event.type.rawValue
        if event.type == .runStarted {
            return eventCount == 0 ? nil : AppendRefusal("run \(runID) has already started; a journal holds one run.started, so nothing was written")
        }
        if let outcome, !EventType.afterRunEnded.contains(event.type) {
            let allowed = EventType.afterRunEnded.map(\.rawValue).sorted().joined(separator: ", ")
            return AppendRefusal("run \(runID) has already ended (\(outcome.rawValue)\(endedAt.map { " at \($0)" } ?? "")); " +
                                 "a \(what) event may not follow run.ended (only \(allowed) may), so nothing was written")
        }
        guard let step = event.step else {
            if event.type == .reviewSigned, let earlier = reviews.first(where: { PersonName.same($0.actor, event.actor) }) {
                return AppendRefusal("\(event.actor) already recorded the follow-up review of run \(runID) (at \(earlier.time)); one person reviews a run once, so nothing was written")
            }
            return nil
        }
        let record = self.record(step)
        let rejection = rejections[step]?.last
        if EventType.atCursor.contains(event.type), cursor != step {
            let now = cursor.map { "the run is on '\($0)'" } ?? "the run is at its end"
            if record.status.isSettled {
                return AppendRefusal("step '\(step)' was already \(record.status == .done ? "done" : record.status.rawValue)" +
                                     "\(record.actor.map { " by \($0)" } ?? "")\(record.endedAt.map { " at \($0)" } ?? "") and \(now); " +
                                     "the \(what) event no longer applies, so nothing was written")
            }
            return AppendRefusal("step '\(step)' is not the step run \(runID) is on (\(now)); the \(what) event no longer applies, so nothing was written")
        }
        switch event.type {
        case .stepCompleted, .stepForced:
            if let rejection {
                return AppendRefusal("gate '\(step)' was rejected by \(rejection.signer) at \(rejection.time) (\(rejection.reason)); it cannot be marked done, so nothing was written")
            }
        case .stepAdded:
            if steps[step] != nil { return AppendRefusal("run \(runID) already has a step '\(step)', so nothing was written") }
        case .signOff:
            if let rejection {
                return AppendRefusal("gate '\(step)' was rejected by \(rejection.signer) at \(rejection.time); a signature no longer counts, so nothing was written")
            }
            let stepHash = event.data["stepHash"]?.string ?? ""
            if let earlier = signatures[step]?.first(where: {
                PersonName.same($0.signer, event.actor) && covers(stepHash: $0.stepHash, plan: $0.plan, current: stepHash)
            }) {
                return AppendRefusal("\(event.actor) has already signed gate '\(step)' (signed by \(earlier.signer) at \(earlier.time)); one person signs a gate once, so nothing was written")
            }
        case .signOffRejected:
            if let rejection {
                return AppendRefusal("gate '\(step)' was already rejected by \(rejection.signer) at \(rejection.time), so nothing was written")
            }
            if record.status.isSettled {
                return AppendRefusal("gate '\(step)' is already \(record.status == .done ? "done" : record.status.rawValue)" +
                                     "\(record.endedAt.map { " (at \($0))" } ?? ""); a rejection can no longer stop it, so nothing was written")
            }
        case .gateWaived:
            if let rejection {
                return AppendRefusal("gate '\(step)' was rejected by \(rejection.signer) at \(rejection.time); it cannot be waived, so nothing was written")
            }
            if let earlier = waivers[step]?.first(where: { covers(stepHash: $0.stepHash, plan: $0.plan, current: event.data["stepHash"]?.string ?? "") }) {
                return AppendRefusal("gate '\(step)' is already waived (by \(earlier.actor) at \(earlier.time)), so nothing was written")
            }
        default:
            break
        }
        return nil
    }
}
