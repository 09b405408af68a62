// The `data` of the events the change policy asks for (docs/JOURNAL.md, "Event types and their
// data"). The event's `actor` granted or reviewed.

/// `exception.granted`: leave to carry out the event's production step outside the change calendar.
public struct ExceptionGranted: Codable, Sendable, Equatable {
    public var role: String
    public var reason: String
    /// The window or freeze conflict when it was granted.
    public var conflict: String

    public init(role: String, reason: String, conflict: String) {
        self.role = role
        self.reason = reason
        self.conflict = conflict
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
