// The `data` of the events at a gate (docs/JOURNAL.md, "Event types and their data"). The
// event's `actor` is the signer and its `step` the gate.

/// `signoff.signed`: a gate approved by one person in one role.
public struct SignOffSigned: Codable, Sendable, Equatable {
    /// The role the signer used.
    public var role: String
    /// The hash of the step as signed (`StepHash`); a later edit makes the signature stale.
    public var stepHash: String
    /// SHA-256 of the runbook file signed.
    public var sha256: String
    public var comment: String?
    /// The run's plan as signed (`RunPlan`, 1.1): after a `run.changed` the signature no longer counts.
    public var plan: String?

    public init(role: String, stepHash: String, sha256: String, comment: String? = nil, plan: String? = nil) {
        self.role = role
        self.stepHash = stepHash
        self.sha256 = sha256
        self.comment = comment
        self.plan = plan
    }
}

/// `signoff.rejected`: a gate rejected.
public struct SignOffRejected: Codable, Sendable, Equatable {
    public var reason: String
    public var role: String

    public init(reason: String, role: String) {
        self.reason = reason
        self.role = role
    }
}
