import Foundation

/// What a notification target gets, as JSON (docs/FORMAT.md, "Notifications"): the kind, the run,
/// the step, who and when, the outcome or reason, and the journal event it is about. Secret
/// parameter values are masked in every string before it is encoded.
public struct Notification: Codable, Sendable, Equatable {
    /// `<run id>/<seq>/<kind>`: the same for every attempt and every target, so a receiver can
    /// drop a notification it already has.
    public var id: String
    public var kind: NotificationKind
    public var run: String
    public var runbook: String
    public var title: String
    public var releaseClass: String
    public var service: String?
    public var environment: String?
    public var step: String?
    public var stepTitle: String?
    /// Who drives the session that sent it.
    public var actor: String
    /// When it was sent: UTC, as the journal writes times.
    public var time: String
    /// `run.ended`: `completed`, `failed`, `rolled-back` or `aborted`.
    public var outcome: String?
    /// Why: a failure's or an end's reason, what a gate still needs, the calendar's conflict.
    public var reason: String?
    /// The journal event it is about (the journal's head for `calendar.blocked`): its seq and hash.
    public var seq: Int
    public var hash: String

    enum CodingKeys: String, CodingKey {
        case id, kind, run, runbook, title, releaseClass = "class", service, environment, step, stepTitle, actor, time, outcome, reason, seq, hash
    }

    /// Every string with each secret value masked, as command output is.
    func masked(_ secrets: [String]) -> Notification {
        guard !secrets.isEmpty else { return self }
        func mask(_ text: String) -> String { ShellQuoting.mask(text, secrets: secrets) }
        var copy = self
        (copy.run, copy.runbook, copy.title, copy.actor) = (mask(run), mask(runbook), mask(title), mask(actor))
        (copy.service, copy.environment, copy.step, copy.stepTitle) = (service.map(mask), environment.map(mask), step.map(mask), stepTitle.map(mask))
        (copy.outcome, copy.reason, copy.releaseClass) = (outcome.map(mask), reason.map(mask), mask(releaseClass))
        copy.id = mask(id)
        return copy
    }

    /// The body sent: JSON with sorted keys and no whitespace, the bytes the HMAC covers.
    public func body() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}

extension RunState {
    /// A notification that could not be delivered (`notify.failed`), as status and reports show it.
    public struct NotificationFailure: Sendable, Equatable {
        public var target: String
        public var kind: String
        public var attempts: Int
        public var reason: String
        public var step: String?
        public var time: String
        public var seq: Int

        init(_ failed: NotifyFailed, step: String?, time: String, seq: Int) {
            (target, kind, attempts, reason) = (failed.target, failed.kind, failed.attempts, failed.reason)
            (self.step, self.time, self.seq) = (step, time, seq)
        }

        /// One line: `step.failed to chat failed after 3 attempts: no answer within 5s (at T)`.
        public var summary: String {
            "notification \(kind) to \(target) failed after \(attempts) attempt\(attempts == 1 ? "" : "s"): \(reason) (at \(time))".shown
        }
    }
}

extension RunReport {
    /// A notification that could not be delivered, as reports show it.
    public struct NotificationNotice: Codable, Sendable, Equatable {
        public var kind: String
        public var target: String
        public var attempts: Int
        public var reason: String
        public var time: String
        public var step: String?

        init(_ failure: RunState.NotificationFailure) {
            (kind, target, attempts, reason, time, step) = (failure.kind, failure.target, failure.attempts, failure.reason, failure.time, failure.step)
        }
    }
}
