import Foundation

/// A release's PIR follow-up marked done with `runsheet release pir`: who, when, where the review
/// is (a link or a line of text), and the hash of the closure record it completes. Kept beside
/// the closures in `.runsheet/closures.jsonl` as a `release.pir` record (`GovernanceLog`).
public struct ReleasePIR: Codable, Sendable, Equatable {
    public static let done = "release.pir"

    public var release: String
    public var by: String
    public var at: String
    /// Where the review is: a URL or a line of text.
    public var link: String
    /// The `hash` of the `release.closed` record whose follow-up this is.
    public var closure: String
    /// Why the record does not count (unsigned where signatures are required, its author not
    /// allowed): shown, never taken as done.
    public var notCounted: String?

    public init(release: String, by: String, at: String, link: String, closure: String) {
        (self.release, self.by, self.at, self.link, self.closure) = (release, by, at, link, closure)
    }

    /// The record's data.
    public var data: [String: JSONValue] {
        ["release": .string(release), "link": .string(link), "closure": .string(closure)]
    }

    /// The PIR a `release.pir` record holds; nil for another kind of record.
    public init?(_ record: GovernanceRecord) {
        guard record.type == Self.done, let release = record.data["release"]?.string else { return nil }
        self.init(release: release, by: record.actor, at: record.time, link: record.data["link"]?.string ?? "",
                  closure: record.data["closure"]?.string ?? "")
    }

    /// "done by rita at 2026-12-05 10:00:00 UTC: https://wiki.example.com/pir/42".
    public var sentence: String {
        let when = Timestamp.parse(at).map { Timestamp.plain($0) + " UTC" } ?? at
        return "done by \(by) at \(when): \(link)"
    }
}
