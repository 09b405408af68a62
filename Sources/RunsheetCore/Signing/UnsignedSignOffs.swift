import Foundation

/// Sign-offs recorded without an SSH signature in a run whose journal did not require signatures
/// (its `run.started` had no `signatures`), judged under the repository's policy as it is now: when
/// that policy requires signatures for the run's class, they do not count (docs/JOURNAL.md,
/// "Required signatures and seals"). Otherwise moving the policy file aside for the length of a run
/// would let typed names approve a gate that only keys may approve.
public enum UnsignedSignOffs {
    /// Why unsigned sign-offs of `state` do not count under `governance`; nil when they do.
    public static func rule(_ state: RunState, _ governance: Governance) -> String? {
        rule(state, policy: governance.policy)
    }

    public static func rule(_ state: RunState, policy: Policy) -> String? {
        guard policy[state.releaseClass].requiresSignatures else { return nil }
        return "\(Policy.relativePath) requires signatures for a \(state.releaseClass.rawValue) run"
    }

    /// The sentence for one unsigned sign-off that does not count.
    public static func problem(_ record: RunState.SignatureRecord, rule: String) -> String {
        "the sign-off by \(record.signer) (event \(record.seq)) is not signed, and \(rule)"
    }

    /// Every sign-off of the run that carries no SSH signature, in journal order.
    public static func of(_ state: RunState) -> [RunState.SignatureRecord] {
        state.signatures.values.flatMap { $0 }.filter { !$0.signed }.sorted { $0.seq < $1.seq }
    }

    /// "event 7 by alice@example.com on approve, event 8 by bob@example.com on approve".
    public static func list(_ records: [RunState.SignatureRecord], in state: RunState) -> String {
        records.map { record in
            let step = state.signatures.first { $0.value.contains(record) }?.key
            return "event \(record.seq) by \(record.signer.shown)" + (step.map { " on \($0.shown)" } ?? "")
        }.joined(separator: ", ")
    }
}

extension RunReport {
    /// Marks each unsigned sign-off as not counting, with `rule` (from `UnsignedSignOffs.rule`).
    public mutating func markUnsignedSignOffs(_ rule: String) {
        for step in steps.indices {
            for entry in steps[step].signOffs.indices where steps[step].signOffs[entry].signature?.signed != true {
                var status = steps[step].signOffs[entry].signature ?? SignatureStatus(signed: false)
                status.doesNotCount = rule
                steps[step].signOffs[entry].signature = status
            }
        }
    }
}
