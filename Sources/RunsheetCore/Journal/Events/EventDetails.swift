extension EventPayload {
    /// The fields `runsheet audit` shows after an event, as `key=value`, in this key order:
    /// reason, text, role, comment, outcome, to, exit, command. Text is cut at its first line break,
    /// and its other control characters show escaped (`ShownText`).
    public var auditDetails: [String] {
        func text(_ key: String, _ value: String?) -> String? {
            value.map { "\(key)=\(($0.split(separator: "\n").first.map(String.init) ?? "").shown)" }
        }
        let details: [String?]
        switch self {
        case .runStarted, .runResumed, .runPaused, .stepStarted, .stepCompleted, .stepAdded:
            details = []
        case .runEnded(let ended):
            details = [text("reason", ended.reason), text("outcome", ended.outcome.rawValue)]
        case .stepSkipped(let skipped):
            details = [text("reason", skipped.reason)]
        case .stepFailed(let failed):
            details = [text("reason", failed.reason)]
        case .commandFinished(let finished):
            details = [finished.exit.map { "exit=\($0)" }, text("command", finished.command)]
        case .note(let note):
            details = [text("text", note.text)]
        case .branchTaken(let taken):
            details = [text("to", taken.to)]
        case .cursorMoved(let moved):
            details = [text("reason", moved.reason), text("to", moved.to)]
        case .signOff(let signed):
            details = [text("role", signed.role), text("comment", signed.comment)]
        case .signOffRejected(let rejected):
            details = [text("reason", rejected.reason), text("role", rejected.role)]
        case .exceptionGranted(let granted):
            details = [text("reason", granted.reason), text("role", granted.role)]
        case .reviewSigned(let review):
            details = [text("role", review.role), text("comment", review.comment)]
        case .stepForced(let forced):
            details = [text("reason", forced.reason), "exit=" + StepForced.exitCodes(forced.overrode)]
        case .runChanged(let changed):
            details = [text("reason", changed.reasons.joined(separator: "; "))]
        case .commandStarted(let started):
            details = [text("command", started.command)]
        case .commandResolved(let resolved):
            details = [text("decision", resolved.decision)]
        case .lockTaken(let taken):
            details = [text("lock", "\(taken.lock.service) / \(taken.lock.environment)")]
        case .lockReleased(let released):
            details = [text("reason", released.reason), text("role", released.role), text("lock", "\(released.lock.service) / \(released.lock.environment)"),
                       // The rule files it was decided under, each as path@ the first 12 digits of its SHA-256.
                       released.rules.map { rules in text("rules", rules.isEmpty ? "none" : rules.sorted { $0.key < $1.key }.map { "\($0.key)@\($0.value.prefix(12))" }.joined(separator: ",")) } ?? nil]
        case .gateWaived(let waived):
            details = [text("reason", waived.reason), text("role", waived.role)]
        case .journalSealed(let sealed):
            details = ["seq=\(sealed.seq)", text("head", sealed.head)]
        case .notifyFailed(let failed):
            details = [text("reason", failed.reason), text("kind", failed.kind), text("target", failed.target), "attempts=\(failed.attempts)"]
        }
        return details.compactMap { $0 }
    }
}
