import Foundation

/// Where a gate stands: which signatures count, what is still needed, and why others do not count.
public struct GateStatus: Sendable, Equatable {
    public struct Signature: Sendable, Equatable {
        public var signer: String
        public var role: String
        public var time: String
        /// Why this signature does not count, or nil when it does.
        public var problem: String?
    }

    public var signatures: [Signature]
    /// One phrase per unmet rule: "1 more of sre or dba".
    public var missing: [String]
    public var rejection: (signer: String, reason: String)?
    /// The waiver that lets the gate through without its sign-offs, if one was recorded for the
    /// step as it is now.
    public var waiver: RunState.Waiver?

    /// The rule is met, or the gate was waived, and nobody rejected it.
    public var satisfied: Bool { (missing.isEmpty || waiver != nil) && rejection == nil }

    public static func == (lhs: GateStatus, rhs: GateStatus) -> Bool {
        lhs.signatures == rhs.signatures && lhs.missing == rhs.missing && lhs.rejection?.signer == rhs.rejection?.signer
            && lhs.waiver == rhs.waiver
    }

    /// Evaluates a gate against the run's record, with the approver counts of the run's class.
    /// Without a roles file the role a signer names is taken as given.
    public static func evaluate(step: Step, state: RunState, runbook: Runbook, governance: Governance) -> GateStatus {
        let roles = governance.roles
        let currentHash = StepHash.of(step)
        let executors = GateStatus.executors(before: step, state: state, runbook: runbook)
        var signatures: [Signature] = []
        var counted: [(signer: String, role: String)] = []
        var keysCounted: [String: String] = [:]  // one key is one person: it counts once
        for record in state.signatures[step.id] ?? [] {
            var problem: String?
            if let rule = UnsignedSignOffs.rule(state, governance), !record.signed {
                problem = UnsignedSignOffs.problem(record, rule: rule)
            } else if record.stepHash != currentHash {
                problem = "the step changed after it was signed"
            } else if let stale = state.staleness(of: record.plan) {
                problem = stale
            } else if let roles, !roles.holds(record.signer, record.role) {
                problem = "\(record.signer) does not hold the role \(record.role) in \(RolesFile.relativePath)"
            } else if step.separation.contains(.starter), PersonName.same(record.signer, state.startedBy) {
                problem = "\(record.signer) started the run and may not approve it"
            } else if step.separation.contains(.executor), executors.contains(PersonName.canonical(record.signer)) {
                problem = "\(record.signer) carried out steps this gate approves"
            } else if counted.contains(where: { PersonName.same($0.signer, record.signer) && $0.role == record.role }) {
                problem = "\(record.signer) already signed as \(record.role)"
            } else if let key = SharedKeys.fingerprint(of: record, in: state), let first = keysCounted[key] {
                problem = SharedKeys.problem(record, key: key, first: first)
            }
            if problem == nil {
                counted.append((record.signer, record.role))
                if let key = SharedKeys.fingerprint(of: record, in: state) { keysCounted[key] = record.signer }
            }
            signatures.append(Signature(signer: record.signer, role: record.role, time: record.time, problem: problem))
        }
        var missing: [String] = []
        for rule in governance.policy[state.releaseClass].rules(for: step) {
            let people = Set(counted.filter { rule.roles.contains($0.role) }.map { PersonName.canonical($0.signer) })
            if people.count < rule.count {
                missing.append("\(rule.count - people.count) more of \(rule.roles.joined(separator: " or "))")
            }
        }
        let rejection = state.rejections[step.id]?.last.map { ($0.signer, $0.reason) }
        // A waiver counts for the step and plan it waived, only while its author has not driven the
        // run, and only under the rules as they are now: an exception role its author holds in the
        // roles file (a role granted for one `sign` and taken back does not count).
        let waiver = state.waivers[step.id]?.last {
            state.covers(stepHash: $0.stepHash, plan: $0.plan, current: currentHash) && !state.drove($0.actor)
                && governance.mayGrant(as: $0.actor, role: $0.role, state: state)
        }
        return GateStatus(signatures: signatures, missing: missing, rejection: rejection, waiver: waiver)
    }

    /// People who completed a step between the previous gate and this one, by canonical name.
    public static func executors(before gate: Step, state: RunState, runbook: Runbook) -> Set<String> {
        guard let index = runbook.steps.firstIndex(where: { $0.id == gate.id }) else { return [] }
        var people = Set<String>()
        var i = index - 1
        var range: Set<String> = [gate.id]
        while i >= 0, !runbook.steps[i].isGate {
            range.insert(runbook.steps[i].id)
            let record = state.record(runbook.steps[i].id)
            if record.status == .done, let actor = record.actor { people.insert(PersonName.canonical(actor)) }
            i -= 1
        }
        // Steps the operator added (`add`) while on a step of that stretch, or on the gate itself.
        for added in state.addedSteps where added.before.map(range.contains) == true {
            if let actor = state.record(added.id).actor { people.insert(PersonName.canonical(actor)) }
        }
        return people
    }
}
