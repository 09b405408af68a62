import Foundation

extension SignatureVerification {
    /// The first of `run.started` and the signed events of `state` stamped more than
    /// `clockTolerance` before `made`, the committer date of the commit `run.started` records:
    /// a backdated run still names the commit it started from (docs/JOURNAL.md, "Signatures in the journal").
    public static func stampedBeforeCommit(_ state: RunState, commit: String, made: Date) -> JournalProblem? {
        let earliest = made.addingTimeInterval(-clockTolerance)
        let checked = [(seq: 1, type: EventType.runStarted.rawValue, time: state.startedAt)]
            + state.signedEvents.map { (seq: $0.seq, type: $0.type.rawValue, time: $0.time) }
        guard let early = checked.first(where: { Timestamp.parseJournalFormat($0.time).map { $0 < earliest } ?? false }) else { return nil }
        return JournalProblem(kind: .badSignature, line: early.seq, seq: early.seq,
                              message: "event \(early.seq) (\(early.type)) is stamped \(early.time.shown), before commit \(String(commit.prefix(12))), which its run.started records, was made (\(made.formatted(.iso8601))), so its time is not true and the keys valid then cannot be known")
    }
}
