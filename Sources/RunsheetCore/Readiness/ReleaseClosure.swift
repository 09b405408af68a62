import Foundation

/// A release closed with `runsheet release close`: who, when, the readiness decision then and
/// the SHA-256 of that readiness report, kept in the repository's `.runsheet/closures.jsonl`
/// (`GovernanceLog`); and, as readiness sees it now, the runs started after it and whether a
/// post-incident review (PIR) falls due.
public struct ReleaseClosure: Codable, Sendable, Equatable {
    public static let closed = "release.closed"
    public static let fileName = "closures.jsonl"

    public var release: String
    public var by: String
    public var at: String
    /// `GO` or `GO-WITH-EXCEPTIONS`: a NO-GO release is never closed.
    public var verdict: String
    /// SHA-256 of `runsheet readiness RELEASE --format json --at ASOF` as it was at the closure.
    public var reportSHA256: String
    public var asOf: String
    /// Why a PIR follow-up falls due (failures, rollbacks, exceptions); empty when none does.
    public var followUp: [String]
    /// The release file closed, relative to the repository's root, and its SHA-256 then: a
    /// closure counts only for that file with those bytes.
    public var file: String = ""
    public var fileSHA256: String = ""
    /// The repository it was closed in (`RepositoryIdentity`).
    public var repository: String?
    /// Runs of the release's runbooks started after the closure.
    public var laterRuns: [String] = []
    /// Why the closure does not count (unsigned where signatures are required, its author no
    /// longer allowed): shown, never taken as closed.
    public var notCounted: String?
    /// The PIR follow-up marked done (`runsheet release pir`), when one was by the time decided for.
    public var pir: ReleasePIR?

    public init(release: String, by: String, at: String, verdict: String, reportSHA256: String, asOf: String, followUp: [String]) {
        (self.release, self.by, self.at, self.verdict, self.reportSHA256, self.asOf, self.followUp) = (release, by, at, verdict, reportSHA256, asOf, followUp)
    }

    /// The record's data.
    public var data: [String: JSONValue] {
        ["release": .string(release), "verdict": .string(verdict), "report": .string(reportSHA256), "asOf": .string(asOf),
         "followUp": .array(followUp.map { .string($0) }), "file": .string(file), "fileSHA256": .string(fileSHA256)]
    }

    /// The closure a `release.closed` record holds; nil for another kind of record.
    public init?(_ record: GovernanceRecord) {
        guard record.type == Self.closed, let release = record.data["release"]?.string else { return nil }
        self.init(release: release, by: record.actor, at: record.time, verdict: record.data["verdict"]?.string ?? "",
                  reportSHA256: record.data["report"]?.string ?? "", asOf: record.data["asOf"]?.string ?? "",
                  followUp: record.data["followUp"]?.array?.compactMap(\.string) ?? [])
        (file, fileSHA256, repository) = (record.data["file"]?.string ?? "", record.data["fileSHA256"]?.string ?? "", record.repository)
    }

    /// Why a PIR follow-up falls due for a release decided as `report`: each exception, and each
    /// required run that failed, was rolled back or took a failure branch (`rolledBack`: run ids).
    public static func followUp(for report: ReadinessReport, rolledBack: [String]) -> [String] {
        var reasons: [String] = []
        if !report.exceptions.isEmpty {
            reasons.append("\(report.exceptions.count) exception\(report.exceptions.count == 1 ? "" : "s") (\(report.exceptions.map(\.item).joined(separator: ", ")))")
        }
        for item in report.items where item.kind == "required" {
            if let outcome = item.outcome, ["failed", "rolled-back", "aborted"].contains(outcome) {
                reasons.append("run \(item.run ?? "?") of \(item.title) \(outcome)")
            }
        }
        for run in rolledBack { reasons.append("run \(run) took a failure branch (rollback)") }
        return reasons
    }

    /// "closed by rita at 2026-12-04 18:40:01 UTC (GO then)".
    public var sentence: String {
        let when = Timestamp.parse(at).map { Timestamp.plain($0) + " UTC" } ?? at
        return "closed by \(by) at \(when) (\(verdict) then; report sha256 \(reportSHA256))"
    }
}

extension ReadinessReport.Finding {
    /// A finding from outside the runs: a halt, a governance log that does not verify.
    public static func governance(item: String, text: String, link: String, location: String, by: String? = nil) -> Self {
        Self(item: item, text: text, link: link, location: location, run: nil, by: by, role: nil)
    }
}
