import RunsheetCore

extension Status {
    /// `status RUN`'s lines about signatures: whether the run requires them, the acts that do not
    /// count because they are unsigned, and each seal.
    static func signingLines(_ state: RunState, unsignedRule: String? = nil) -> [String] {
        var lines: [String] = []
        if state.signaturesRequired {
            lines.append("signing  required: a sign-off, rejection, exception, waiver or review counts only when signed")
        }
        for act in state.unsignedActs {
            lines.append("unsigned event \(act.seq) (\(act.type.rawValue)\(act.step.map { " \($0.shown)" } ?? "") by \(act.actor.shown) at \(act.time.shown)) does not count: the run requires signatures")
        }
        if let unsignedRule {
            for record in UnsignedSignOffs.of(state) {
                lines.append("unsigned sign-off, event \(record.seq) by \(record.signer.shownName) as \(record.role.shown) at \(record.time.shown), does not count: \(unsignedRule) now")
            }
        }
        for seal in state.seals {
            lines.append("seal     \(seal.phrase)\(seal.signed ? "" : ", UNSIGNED")")
        }
        return lines
    }

    /// Why unsigned sign-offs of the run do not count under the policy as it is now; nil when they do.
    static func unsignedRule(_ state: RunState, directory: String) -> String? {
        guard let (policy, _) = Policy.load(forRunbook: RunSupport.runbookPath(of: state, runDirectory: directory)) else { return nil }
        return UnsignedSignOffs.rule(state, policy: policy)
    }
}
