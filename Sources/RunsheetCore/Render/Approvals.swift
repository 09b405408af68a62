import Foundation

/// Sign-offs, rejections, waivers, calendar exceptions and the follow-up review of a run, one line each.
public enum Approvals {
    /// The lines, each indented by two spaces, names and text shown escaped (`ShownText`); `now` decides whether a follow-up review is overdue.
    public static func lines(_ state: RunState, now: Date) -> [String] {
        var lines: [String] = []
        for (step, records) in state.signatures.sorted(by: { $0.key < $1.key }) {
            for record in records {
                lines.append("  ✍ \(step.shown)  \(record.signer.shown) as \(record.role.shown)  \(record.time)" + (record.comment.map { "  \"\($0.shown)\"" } ?? "")
                             + (state.staleness(of: record.plan).map { "  (no longer counts: \($0))" } ?? ""))
            }
        }
        for (step, rejections) in state.rejections.sorted(by: { $0.key < $1.key }) {
            for rejection in rejections { lines.append("  ✗ \(step.shown)  rejected by \(rejection.signer.shown)  \(rejection.time)  (\(rejection.reason.shown))") }
        }
        for (step, waivers) in state.waivers.sorted(by: { $0.key < $1.key }) {
            for waiver in waivers { lines.append("  ⚠ \(step.shown)  gate WAIVED by \(waiver.actor.shown) as \(waiver.role.shown)  \(waiver.time)  (\(waiver.reason.shown); it needed \(waiver.unmet.shown))") }
        }
        for (step, grants) in state.exceptions.sorted(by: { $0.key < $1.key }) {
            for grant in grants { lines.append("  ⚑ \(step.shown)  calendar exception by \(grant.actor.shown) as \(grant.role.shown)  \(grant.time)  (\(grant.text.shown))") }
        }
        let followUp = FollowUp.of(state, now: now)
        if let phrase = followUp.phrase {
            lines.append("  " + (followUp.missing ? "⚠ " : "✍ ") + phrase.shown)
        }
        return lines
    }
}
