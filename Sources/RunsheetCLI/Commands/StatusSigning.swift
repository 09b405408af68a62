import RunsheetCore

extension Status {
    /// `status RUN`'s lines about signatures: whether the run requires them, the acts that do not
    /// count because they are unsigned, and each seal.
    static func signingLines(_ state: RunState) -> [String] {
        var lines: [String] = []
        if state.signaturesRequired {
            lines.append("signing  required: a sign-off, rejection, exception, waiver or review counts only when signed")
        }
        for act in state.unsignedActs {
            lines.append("unsigned event \(act.seq) (\(act.type.rawValue)\(act.step.map { " \($0.shown)" } ?? "") by \(act.actor.shown) at \(act.time.shown)) does not count: the run requires signatures")
        }
        for seal in state.seals {
            lines.append("seal     \(seal.phrase)\(seal.signed ? "" : ", UNSIGNED")")
        }
        return lines
    }
}
