// The `data` of a seal (docs/JOURNAL.md, "Seals").

/// `journal.sealed` (1.4): a person signs the journal's head as it stood, so an event up to it
/// that is changed, removed or added later shows, even when every hash after it was recomputed:
/// the seal's own data, which its signature covers, still names the old hash.
public struct JournalSealed: Codable, Sendable, Equatable {
    /// The hash of the last event before the seal, as sealed.
    public var head: String
    /// That event's seq.
    public var seq: Int

    public init(head: String, seq: Int) {
        self.head = head
        self.seq = seq
    }

    enum CodingKeys: String, CodingKey { case head, seq }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        // Read leniently like every payload: a seal missing its fields names nothing, and `verify` says so.
        head = try c.decodeIfPresent(String.self, forKey: .head) ?? ""
        seq = try c.decodeIfPresent(Int.self, forKey: .seq) ?? 0
    }
}
