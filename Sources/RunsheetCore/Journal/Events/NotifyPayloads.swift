// The `data` of a notification's failure (docs/JOURNAL.md, `notify.failed`).

/// `notify.failed` (1.5): a notification could not be delivered within its bound; the run went on.
/// `step` is the step the notification was about, when there was one.
public struct NotifyFailed: Codable, Sendable, Equatable {
    /// The target as `config.yaml` names it (its `name`, else the URL without user, query and fragment, else the command).
    public var target: String
    /// The notification's kind (`gate.waiting`, `step.failed`, ...).
    public var kind: String
    /// How many attempts were made.
    public var attempts: Int
    /// Why the last attempt failed, in words (secrets masked).
    public var reason: String
    /// The seq of the event the notification was about (the journal's head for `calendar.blocked`).
    public var seq: Int?

    public init(target: String, kind: String, attempts: Int, reason: String, seq: Int? = nil) {
        self.target = target
        self.kind = kind
        self.attempts = attempts
        self.reason = reason
        self.seq = seq
    }

    enum CodingKeys: String, CodingKey { case target, kind, attempts, reason, seq }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        // Lenient, as every payload: a missing field reads as empty.
        target = (try? c.decodeIfPresent(String.self, forKey: .target)) ?? ""
        kind = (try? c.decodeIfPresent(String.self, forKey: .kind)) ?? ""
        attempts = (try? c.decodeIfPresent(Int.self, forKey: .attempts)) ?? 0
        reason = (try? c.decodeIfPresent(String.self, forKey: .reason)) ?? ""
        seq = try? c.decodeIfPresent(Int.self, forKey: .seq)
    }
}
