// The `data` of the events the change policy asks for (docs/JOURNAL.md, "Event types and their
// data"). The event's `actor` granted or reviewed.

/// `exception.granted`: leave to carry out the event's production step outside the change calendar.
public struct ExceptionGranted: Codable, Sendable, Equatable {
    public var role: String
    public var reason: String
    /// The window or freeze conflict when it was granted.
    public var conflict: String
    /// The step and the run's plan as granted (1.1): a later change to either ends the exception.
    public var stepHash: String?
    public var plan: String?

    public init(role: String, reason: String, conflict: String, stepHash: String? = nil, plan: String? = nil) {
        self.role = role
        self.reason = reason
        self.conflict = conflict
        self.stepHash = stepHash
        self.plan = plan
    }
}

/// `review.signed`: the follow-up review a class policy requires; may come after `run.ended`.
public struct ReviewSigned: Codable, Sendable, Equatable {
    public var role: String
    public var comment: String

    public init(role: String, comment: String) {
        self.role = role
        self.comment = comment
    }
}

/// `gate.waived` (format 1.1): the event's gate goes ahead without its sign-offs, on the word of
/// someone holding an exception role who neither started nor drove the run.
public struct GateWaived: Codable, Sendable, Equatable {
    public var role: String
    public var reason: String
    /// The gate's rule that was not met when it was waived, in words ("2 more of sre").
    public var unmet: String
    /// The hash of the gate step as waived (`StepHash`); a later edit makes the waiver stale.
    public var stepHash: String
    /// The run's plan as waived (`RunPlan`); after a `run.changed` the waiver no longer counts.
    public var plan: String?

    public init(role: String, reason: String, unmet: String, stepHash: String, plan: String? = nil) {
        self.role = role
        self.reason = reason
        self.unmet = unmet
        self.stepHash = stepHash
        self.plan = plan
    }
}
