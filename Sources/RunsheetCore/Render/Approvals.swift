import Foundation

/// Sign-offs, rejections, waivers, calendar exceptions and the follow-up review of a run, one line each.
public enum Approvals {
    /// The lines, each indented by two spaces; `now` decides whether a follow-up review is overdue.
    public static func lines(_ state: RunState, now: Date) -> [String] {
        var lines: [String] = []
        for (step, records) in state.signatures.sorted(by: { $0.key < $1.key }) {
            for record in records {
                lines.append("  ✍ \(step)  \(record.signer) as \(record.role)  \(record.time)" + (record.comment.map { "  \"\($0)\"" } ?? "")
                             + (state.staleness(of: record.plan).map { "  (no longer counts: \($0))" } ?? ""))
            }
        }
        for (step, rejections) in state.rejections.sorted(by: { $0.key < $1.key }) {
            for rejection in rejections { lines.append("  ✗ \(step)  rejected by \(rejection.signer)  \(rejection.time)  (\(rejection.reason))") }
        }
        for (step, waivers) in state.waivers.sorted(by: { $0.key < $1.key }) {
            for waiver in waivers { lines.append("  ⚠ \(step)  gate WAIVED by \(waiver.actor) as \(waiver.role)  \(waiver.time)  (\(waiver.reason); it needed \(waiver.unmet))") }
        }
        for (step, grants) in state.exceptions.sorted(by: { $0.key < $1.key }) {
            for grant in grants { lines.append("  ⚑ \(step)  calendar exception by \(grant.actor) as \(grant.role)  \(grant.time)  (\(grant.text))") }
        }
        let followUp = FollowUp.of(state, now: now)
        if let phrase = followUp.phrase {
            lines.append("  " + (followUp.missing ? "⚠ " : "✍ ") + phrase)
        }
        return lines
    }
}
