import Foundation

/// The repository's policy as the floor: what a runbook's own `policy` may not lower, and how one
/// class policy asks less of a runbook's gates than another.
public enum PolicyFloor {
    /// One way a policy asks less of a gate than another.
    public enum Relaxation: Sendable, Equatable {
        /// The gate is not walked at all.
        case skipped(gate: String)
        /// A sign-off line of the gate needs fewer people.
        case fewer(gate: String, rule: SignOffRule, instead: Int)
        /// The reference requires signatures (`signatures: required`) and the candidate does not.
        case unsigned
        /// The reference requires a change record (`change-record: {required: true}`) or a form
        /// of it, and the candidate does not ask as much.
        case noChangeRecord
        /// The reference lets only some roles start a production run (`initiators`), and the
        /// candidate lets others start it too.
        case widerInitiators

        public var phrase: String {
            switch self {
            case .widerInitiators: "people outside its initiator roles could start it"
            case .unsigned: "signatures are not required"
            case .noChangeRecord: "a change record is not required, or not in the same form"
            case .skipped(let gate): "gate '\(gate)' is skipped"
            case .fewer(let gate, let rule, let instead): "gate '\(gate)' needs \(rule.count) of \(rule.roles.joined(separator: " or ")) instead of \(instead)"
            }
        }
    }

    /// One way a runbook's front matter would lower the floor: the front-matter key it is at
    /// (`normal.gates`, `allowed-classes`) and a sentence.
    public struct Weakening: Sendable, Equatable {
        public var key: String
        public var message: String
    }

    /// The ways `candidate` asks less of `runbook`'s gates than `reference`: each gate walked
    /// under `reference` that is skipped, or that needs fewer people on one of its sign-off lines.
    /// A gate is walked when its class policy applies it and, for a run, when `…Walks` says so
    /// (its `When` under that class).
    public static func relaxations(of candidate: ClassPolicy, against reference: ClassPolicy, in runbook: Runbook,
                                   candidateWalks: (Step) -> Bool = { _ in true },
                                   referenceWalks: (Step) -> Bool = { _ in true }) -> [Relaxation] {
        var found: [Relaxation] = []
        for gate in runbook.steps where gate.isGate && reference.applies(to: gate) && referenceWalks(gate) {
            guard candidate.applies(to: gate), candidateWalks(gate) else {
                found.append(.skipped(gate: gate.id))
                continue
            }
            for (wanted, given) in zip(reference.rules(for: gate), candidate.rules(for: gate)) where given.count < wanted.count {
                found.append(.fewer(gate: gate.id, rule: given, instead: wanted.count))
            }
        }
        if reference.requiresSignatures, !candidate.requiresSignatures { found.append(.unsigned) }
        let wanted = reference.changeRecord ?? ChangeRecordRule(), given = candidate.changeRecord ?? ChangeRecordRule()
        if (wanted.isRequired && !given.isRequired) || !Set(wanted.patterns).isSubset(of: Set(given.patterns)) { found.append(.noChangeRecord) }
        if ClassPolicy.widens(candidate.initiators, beyond: reference.initiators) { found.append(.widerInitiators) }
        return found
    }

    /// The ways a runbook's front-matter `policy` would lower `floor` (built-in overlaid by the
    /// repository's policy file): fewer gates or approvers for a class, a follow-up review dropped,
    /// given to other roles or given more time, or a permission only the repository may give.
    public static func weakenings(of own: Policy, below floor: Policy, in runbook: Runbook) -> [Weakening] {
        var found: [Weakening] = []
        if own.allowedClasses != nil {
            found.append(Weakening(key: "allowed-classes", message: "a runbook cannot say which classes runbooks may declare; only \(Policy.relativePath) can"))
        }
        if !own.criticality.isEmpty {
            found.append(Weakening(key: "criticality", message: "a runbook cannot say what changing an item of each criticality owes; only \(Policy.relativePath) can"))
        }
        if own.signaturesRequired == false, floor.signaturesRequired == true {
            found.append(Weakening(key: "signatures", message: "the front matter's policy says 'signatures: optional', but \(Policy.relativePath) requires signatures; a runbook may require them, never take them back"))
        }
        if own.changeRecord?.required == false, floor.changeRecord?.isRequired == true {
            found.append(Weakening(key: "change-record", message: "the front matter's policy says a change record is not required, but \(Policy.relativePath) requires one; a runbook may require one, never take the requirement back"))
        }
        // As written: the break-glass rule would hide what the runbook tries.
        let raised = floor.overlaid(by: own)
        for releaseClass in ReleaseClass.allCases {
            guard let written = own.classes[releaseClass] else { continue }
            let name = releaseClass.rawValue
            let base = floor[releaseClass], mine = raised[releaseClass]
            func add(_ setting: String, _ text: String) {
                found.append(Weakening(key: "\(name).\(setting)", message: "the front matter's \(name) policy \(text)"))
            }
            let relaxed = relaxations(of: mine, against: base, in: runbook)
            let skipped = relaxed.filter { if case .skipped = $0 { true } else { false } }
            let fewer = relaxed.filter { if case .fewer = $0 { true } else { false } }
            if !skipped.isEmpty {
                add("gates", "skips what the repository policy applies (\(skipped.map(\.phrase).joined(separator: "; "))); a runbook may add gates, never remove them")
            }
            if !fewer.isEmpty {
                add("approvers", "asks for fewer approvers than the repository policy (\(fewer.map(\.phrase).joined(separator: "; "))); a runbook may raise approver counts, never lower them")
            }
            if base.followUp != nil {
                let required = base.followUpRoles(in: runbook)
                let given = mine.followUpRoles(in: runbook)
                if mine.followUp == nil {
                    add("follow-up", "drops the follow-up review the repository policy requires")
                } else if base.followUp?.isEmpty == false, given.isEmpty || !Set(given).isSubset(of: Set(required)) {
                    add("follow-up", "gives the follow-up review to \(given.joined(separator: " or ")), where the repository policy names \(required.joined(separator: " or ")); a runbook may only narrow who reviews")
                }
                let allowed = base.followUpWithin ?? ClassPolicy.defaultFollowUpWithin
                if let within = mine.followUpWithin, within > allowed {
                    add("follow-up-within", "allows \(DurationText.format(within)) for the follow-up review, more than the repository policy's \(DurationText.format(allowed))")
                }
            }
            if written.signaturesRequired == false, base.requiresSignatures {
                add("signatures", "says 'signatures: optional', but the repository policy requires signatures for \(name) runs; a runbook may require them, never take them back")
            }
            if written.changeRecord?.required == false, base.changeRecord?.isRequired == true {
                add("change-record", "says a change record is not required, but the repository policy requires one for \(name) runs; a runbook may require one, never take the requirement back")
            }
            if written.initiators != nil, ClassPolicy.widens(written.initiators, beyond: base.initiators) {
                add("initiators", "lets \((written.initiators ?? []).joined(separator: " or ")) start runs, where the repository policy lets only \((base.initiators ?? []).joined(separator: " or ")); a runbook may narrow who starts a run, never widen it")
            }
            if written.downgrade != nil {
                add("downgrade", "permits a downgrade; only \(Policy.relativePath) can say who may run a runbook under a less strict class")
            }
        }
        return found
    }
}
