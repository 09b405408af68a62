import Foundation

/// What happened at a gate while the operator waited.
public enum GateProgress: Sendable, Equatable {
    case waiting
    case approved
    /// Let through without its sign-offs: by whom, and why.
    case waived(by: String, reason: String)
    /// Rejected: why, and by whom.
    case rejected(String, by: String)
    case timedOut
}

extension RunEngine {
    /// The status of the gate the run is on, or nil when the current step is no gate.
    public var currentGate: GateStatus? {
        guard let step = currentStep, step.isGate, !state.finished else { return nil }
        return GateStatus.evaluate(step: step, state: state, runbook: runbook, governance: governance)
    }

    /// The gate's rule under the run's class policy, in words.
    public func gateSummary(_ step: Step) -> String {
        let rules = classPolicy.rules(for: step)
        let text = SignOffRule.summary(rules)
        return rules == step.signOffs ? text : text + " (\(state.releaseClass.rawValue) policy)"
    }

    /// Replaces the state with the journal's as it is now, when others have appended to it.
    public func reload(_ current: RunState) {
        guard current.eventCount > state.eventCount else { return }
        state = current
    }

    /// Moves past the gate once its rule is met, follows On reject on a rejection, and fails
    /// it when its Timeout has passed. Returns what happened.
    @discardableResult
    public func settleGate(now: Date = Date()) throws -> GateProgress {
        guard let step = currentStep, step.isGate, let status = currentGate else { return .waiting }
        if let rejection = status.rejection {
            let target = rejectTarget[step.id] ?? nil
            try record(.stepFailed(StepFailed(reason: "rejected by \(rejection.signer): \(rejection.reason)", next: target)), step: step.id)
            if let target {
                try record(.branchTaken(BranchTaken(from: step.id, to: target, kind: "reject")), step: step.id)
                try arrive(at: target)
            } else {
                try record(.runEnded(RunEnded(outcome: .aborted, reason: "gate '\(step.id)' rejected by \(rejection.signer): \(rejection.reason)")))
            }
            return .rejected(rejection.reason, by: rejection.signer)
        }
        if status.satisfied {
            try complete()
            if status.missing.isEmpty { return .approved }
            return .waived(by: status.waiver?.actor ?? "?", reason: status.waiver?.reason ?? "")
        }
        if let limit = step.timeoutSeconds, let started = state.record(step.id).startedAt.flatMap(Timestamp.parse),
           now.timeIntervalSince(started) > Double(limit) {
            try fail(reason: "gate not approved within \(DurationText.format(limit)); still needs \(status.missing.joined(separator: " and "))")
            return .timedOut
        }
        return .waiting
    }
}

/// Building sign-off and rejection events, with the checks that keep the wrong person out.
public enum SignOffs {
    public enum Refusal: Error, Equatable, LocalizedError {
        /// A step without a Sign-off annotation, with the runbook's gates.
        case notAGate(String, gates: [String])
        /// `holders` names who holds each needed role, or is nil when there is no roles file.
        case noEligibleRole(signer: String, needed: [String], holders: [String: [String]]?)
        case separation(String)
        case alreadySigned(String)
        case finished
        case noRoleFor(signer: String, needed: [String], purpose: String, holders: [String: [String]]?)
        case notProduction(String)
        case noFollowUp(String)
        case reasonRequired(String)
        case nothingToWaive(String)
        /// `--role` names a role that may not do `purpose` ("sign gate 'approve'"); `accepted` are those that may.
        case roleNotAccepted(role: String, accepted: [String], purpose: String)
        /// `--role` names an accepted role the signer does not hold in the roles file. `held` is every
        /// role the signer holds there; `holders` who holds each accepted role.
        case roleNotHeld(signer: String, role: String, held: [String], accepted: [String], purpose: String, holders: [String: [String]])
        /// The same person recorded the follow-up review before, at `time`.
        case alreadyReviewed(String, time: String)
        /// The gate's rule is met by the signatures of `signers`: one more would count for nothing.
        case alreadyMet(gate: String, signers: [String])
        /// The gate was rejected, so a signature no longer counts.
        case rejected(gate: String, by: String)

        public var errorDescription: String? {
            switch self {
            case .notAGate(let id, let gates):
                "step '\(id)' is not a gate, so there is nothing to sign; mark it done in the run instead" +
                    (gates.isEmpty ? " (this runbook has no gates)" : ", or sign one of its gates: \(gates.joined(separator: ", "))")
            case .noEligibleRole(let signer, let needed, let holders):
                Self.noRole(signer: signer, needed: needed, what: "the roles this gate needs", holders: holders)
            case .separation(let message): message
            case .alreadySigned(let signer): "\(signer) has already signed this gate"
            case .finished: "the run has ended; there is nothing left to sign"
            case .noRoleFor(let signer, let needed, let purpose, let holders):
                Self.noRole(signer: signer, needed: needed, what: "the roles that may \(purpose)", holders: holders)
            case .notProduction(let id): "step '\(id)' is not a production change, so the change calendar does not apply to it and needs no exception"
            case .noFollowUp(let releaseClass): "this \(releaseClass) run needs no follow-up review; its class policy asks for none"
            case .reasonRequired(let what): what
            case .nothingToWaive(let why): why
            case .roleNotAccepted(let role, let accepted, let purpose):
                "the role \(role) may not \(purpose); the roles that may are \(accepted.joined(separator: ", ")): " +
                    "name one of them with --role, or leave --role out to use the first you hold"
            case .roleNotHeld(let signer, let role, let held, let accepted, let purpose, let holders):
                Self.notHeld(signer: signer, role: role, held: held, accepted: accepted, purpose: purpose, holders: holders)
            case .alreadyReviewed(let signer, let time):
                "\(signer) already recorded the follow-up review of this run (at \(time)); one person reviews a run once, so nothing was recorded"
            case .alreadyMet(let gate, let signers):
                "gate '\(gate)' already has the sign-offs its rule needs (from \(SignOffs.names(signers))), so nothing was recorded"
            case .rejected(let gate, let by):
                "gate '\(gate)' was rejected by \(by), so a signature no longer counts and nothing was recorded"
            }
        }

        /// The role asked for, the roles the signer holds, and what the act accepts.
        static func notHeld(signer: String, role: String, held: [String], accepted: [String], purpose: String, holders: [String: [String]]) -> String {
            let text = "\(signer) does not hold the role \(role) in \(RolesFile.relativePath)"
            let usable = accepted.filter { $0 != role && held.contains($0) }
            if let other = usable.first {
                return text + "; \(signer) holds \(usable.joined(separator: ", ")), which may also \(purpose): " +
                    "sign with --role \(other), or leave --role out"
            }
            let holds = held.isEmpty ? "no role there" : "\(held.joined(separator: ", ")), none of which may \(purpose)"
            let named = accepted.compactMap { name in holders[name].flatMap { $0.isEmpty ? nil : "\(name): \(SignOffs.names($0))" } }
            return text + "; \(signer) holds \(holds) (the roles that may are \(accepted.joined(separator: ", "))); " +
                (named.isEmpty ? "nobody holds them yet, so add the right person to that file" : "ask someone who does (\(named.joined(separator: "; ")))")
        }

        /// Who may act instead: the holders named in the roles file, or the --role to pass without one.
        static func noRole(signer: String, needed: [String], what: String, holders: [String: [String]]?) -> String {
            guard let holders else {
                return "there is no \(RolesFile.relativePath) saying which of \(what) (\(needed.joined(separator: ", "))) \(signer) holds; " +
                    "name one with --role, e.g. --role \(needed.first ?? "ROLE")"
            }
            let named = needed.compactMap { role in holders[role].flatMap { $0.isEmpty ? nil : "\(role): \(SignOffs.names($0))" } }
            return "\(signer) holds none of \(what) (\(needed.joined(separator: ", "))) in \(RolesFile.relativePath); " +
                (named.isEmpty ? "nobody holds them yet, so add the right person to that file" : "ask someone who does (\(named.joined(separator: "; ")))")
        }
    }

    /// Up to three names, then how many more.
    static func names(_ people: [String]) -> String {
        people.prefix(3).joined(separator: ", ") + (people.count > 3 ? " and \(people.count - 3) more" : "")
    }

    /// Who holds each of `needed` in the roles file, or nil when there is none.
    static func holders(of needed: [String], in roles: RolesFile?) -> [String: [String]]? {
        roles.map { file in Dictionary(needed.map { ($0, file.members[$0] ?? []) }, uniquingKeysWith: { a, _ in a }) }
    }

    /// "a release-manager or cab (rita, carl)": the roles, and who else holds them when the roles file says.
    static func someone(of needed: [String], besides signer: String, roles: RolesFile?) -> String {
        var others: [String] = []
        for role in needed {
            for person in roles?.members[role] ?? [] where !PersonName.same(person, signer) && !others.contains(person) {
                others.append(person)
            }
        }
        return "a \(needed.joined(separator: " or "))" + (others.isEmpty ? "" : " (\(names(others)))")
    }

    /// The hint after a separation refusal: who else holds the role, and the command they run.
    static func askAnother(_ role: String, besides signer: String, roles: RolesFile?, run: String, step: String) -> String {
        let others = (roles?.members[role] ?? []).filter { !PersonName.same($0, signer) }
        return "ask another \(role)" + (others.isEmpty ? "" : " (\(names(others)))") + " to sign it with 'runsheet sign \(run) \(step)'"
    }

    /// The role a signer signs with: the one asked for, else the first role they hold that the gate needs.
    /// `act` is what they do to the gate ("sign", "reject").
    /// `rules`: the gate's lines under the run's policy (an item owner's line included), when known.
    public static func role(for signer: String, step: Step, requested: String?, roles: RolesFile?, act: String = "sign",
                            rules: [SignOffRule]? = nil) throws -> String {
        var needed: [String] = []
        for role in (rules ?? step.signOffs).flatMap(\.roles) where !needed.contains(role) { needed.append(role) }
        return try role(for: signer, among: needed, requested: requested, roles: roles, purpose: "\(act) gate '\(step.id)'",
                        refusal: .noEligibleRole(signer: signer, needed: needed, holders: holders(of: needed, in: roles)))
    }

    /// A `signoff.signed` event, after refusing signers the gate's separation rules exclude. With
    /// `governance`, a gate whose rule is already met, or that was rejected, takes no more signatures.
    public static func signature(
        state: RunState, runbook: Runbook, step: Step, signer: Actor, role requested: String?, comment: String?,
        runbookSHA256: String, roles: RolesFile?, governance: Governance? = nil
    ) throws -> RunEvent {
        guard !state.finished else { throw Refusal.finished }
        guard step.isGate else { throw Refusal.notAGate(step.id, gates: runbook.steps.filter(\.isGate).map(\.id)) }
        let role = try role(for: signer.name, step: step, requested: requested, roles: roles,
                            rules: governance.map { $0.policy[state.releaseClass].rules(for: step) })
        let another = askAnother(role, besides: signer.name, roles: roles, run: state.runID, step: step.id)
        if step.separation.contains(.starter), PersonName.same(signer.name, state.startedBy) {
            throw Refusal.separation("\(signer.name) started this run, and gate '\(step.id)' may not be approved by the person who started it; \(another)")
        }
        if step.separation.contains(.executor), GateStatus.executors(before: step, state: state, runbook: runbook).contains(PersonName.canonical(signer.name)) {
            throw Refusal.separation("\(signer.name) carried out steps that gate '\(step.id)' approves, so may not sign it; \(another)")
        }
        let stepHash = StepHash.of(step)
        if state.signatures[step.id]?.contains(where: {
            PersonName.same($0.signer, signer.name) && state.covers(stepHash: $0.stepHash, plan: $0.plan, current: stepHash)
        }) == true {
            throw Refusal.alreadySigned(signer.name)
        }
        if let governance {
            let status = GateStatus.evaluate(step: step, state: state, runbook: runbook, governance: governance)
            if let rejection = status.rejection { throw Refusal.rejected(gate: step.id, by: rejection.signer) }
            let counted = status.signatures.filter { $0.problem == nil }.map(\.signer)
            if status.missing.isEmpty, !counted.isEmpty { throw Refusal.alreadyMet(gate: step.id, signers: counted) }
        }
        let signed = SignOffSigned(role: role, stepHash: stepHash, sha256: runbookSHA256,
                                   comment: comment.flatMap { $0.isEmpty ? nil : $0 }, plan: state.plan)
        return try RunEvent(by: signer, step: step.id, .signOff(signed))
    }

    public static func rejection(state: RunState, runbook: Runbook, step: Step, signer: Actor, role requested: String? = nil,
                                 reason: String, roles: RolesFile?) throws -> RunEvent {
        guard !state.finished else { throw Refusal.finished }
        guard step.isGate else { throw Refusal.notAGate(step.id, gates: runbook.steps.filter(\.isGate).map(\.id)) }
        let role = try role(for: signer.name, step: step, requested: requested, roles: roles, act: "reject")
        return try RunEvent(by: signer, step: step.id, .signOffRejected(SignOffRejected(reason: reason, role: role)))
    }

    /// The role a person acts in from a list: the one asked for, else the first they hold. `purpose`
    /// says what the roles in `needed` may do, for the refusal of a `requested` role; `refusal` is
    /// thrown when nothing was asked for and the signer holds none of them.
    static func role(for signer: String, among needed: [String], requested: String?, roles: RolesFile?, purpose: String,
                     refusal: Refusal) throws -> String {
        if needed.isEmpty { return requested ?? "reviewer" }
        if let requested {
            guard needed.contains(requested) else { throw Refusal.roleNotAccepted(role: requested, accepted: needed, purpose: purpose) }
            if let roles, !roles.holds(signer, requested) {
                throw Refusal.roleNotHeld(signer: signer, role: requested, held: roles.roles(of: signer), accepted: needed, purpose: purpose,
                                          holders: holders(of: needed, in: roles) ?? [:])
            }
            return requested
        }
        if let roles, let held = needed.first(where: { roles.holds(signer, $0) }) { return held }
        if roles == nil, needed.count == 1 { return needed[0] }
        throw refusal
    }

    /// An `exception.granted` event: leave to carry out a production step outside the change
    /// calendar. The person who started the run may not grant it.
    public static func exception(
        state: RunState, runbook: Runbook, step: Step, signer: Actor, role requested: String?, reason: String,
        governance: Governance, now: Date = Date()
    ) throws -> RunEvent {
        guard !state.finished else { throw Refusal.finished }
        guard step.production || runbook.production else { throw Refusal.notProduction(step.id) }
        guard !reason.isBlank else { throw Refusal.reasonRequired("an exception needs --reason saying why the change cannot wait") }
        let needed = governance.exceptionRoles
        if PersonName.same(signer.name, state.startedBy) {
            throw Refusal.separation("\(signer.name) started this run and may not grant its own exception; ask \(someone(of: needed, besides: signer.name, roles: governance.roles)) " +
                                     "to grant it with '\(Governance.exceptionCommand(run: state.runID, step: step.id))'")
        }
        // One exception serves two ends: a step outside the change calendar, and a step that may
        // start while the store's halts cannot be read. Worded for the calendar only when it conflicts.
        let calendarConflict = governance.calendar?.conflict(at: now)
        let purpose = calendarConflict != nil ? "grant a calendar exception" : "grant an exception to start a production step"
        let role = try role(for: signer.name, among: needed, requested: requested, roles: governance.roles, purpose: purpose,
                            refusal: .noRoleFor(signer: signer.name, needed: needed, purpose: purpose, holders: holders(of: needed, in: governance.roles)))
        let conflict = calendarConflict ?? "no change-calendar conflict when it was granted; it lets the step start while the halts of the repository's store cannot be read"
        return try RunEvent(by: signer, step: step.id, .exceptionGranted(ExceptionGranted(role: role, reason: reason.trimmed, conflict: conflict,
                                                                                     stepHash: StepHash.of(step), plan: state.plan)))
    }

    /// A `gate.waived` event: the gate goes ahead without its sign-offs. Only someone holding an
    /// exception role who neither started nor drove the run may waive it (the freeze-exception
    /// rule), and only a gate that applies to the run and whose rule is not met.
    public static func waiver(
        state: RunState, runbook: Runbook, step: Step, signer: Actor, role requested: String?, reason: String,
        governance: Governance
    ) throws -> RunEvent {
        guard !state.finished else { throw Refusal.finished }
        guard step.isGate else { throw Refusal.notAGate(step.id, gates: runbook.steps.filter(\.isGate).map(\.id)) }
        guard governance.policy[state.releaseClass].applies(to: step) else { throw Refusal.nothingToWaive("the \(state.releaseClass.rawValue) class policy does not apply gate '\(step.id)', so it needs no waiver") }
        guard !reason.isBlank else { throw Refusal.reasonRequired("a waiver needs --reason saying why the gate may go ahead without its sign-offs") }
        guard state.format >= JournalFormat(major: 1, minor: 1) else {
            throw Refusal.nothingToWaive("this run's journal is \(state.format), started by an older runsheet, which cannot record a waiver; sign the gate, or start a new run")
        }
        let needed = governance.exceptionRoles
        let command = "runsheet sign \(state.runID) \(step.id) --waive --reason \"...\""
        if PersonName.same(signer.name, state.startedBy) {
            throw Refusal.separation("\(signer.name) started this run and may not waive its gate; ask \(someone(of: needed, besides: signer.name, roles: governance.roles)) to waive it with '\(command)'")
        }
        if state.drove(signer.name) {
            throw Refusal.separation("\(signer.name) drove this run and may not waive its gate; ask \(someone(of: needed, besides: signer.name, roles: governance.roles)) who did not to waive it with '\(command)'")
        }
        let purpose = "waive a gate"
        let role = try role(for: signer.name, among: needed, requested: requested, roles: governance.roles, purpose: purpose,
                            refusal: .noRoleFor(signer: signer.name, needed: needed, purpose: purpose, holders: holders(of: needed, in: governance.roles)))
        let status = GateStatus.evaluate(step: step, state: state, runbook: runbook, governance: governance)
        if status.waiver != nil { throw Refusal.nothingToWaive("gate '\(step.id)' is already waived (by \(status.waiver!.actor))") }
        if status.missing.isEmpty { throw Refusal.nothingToWaive("gate '\(step.id)' has the sign-offs its rule needs; there is nothing to waive") }
        return try RunEvent(by: signer, step: step.id, .gateWaived(GateWaived(
            role: role, reason: reason.trimmed, unmet: status.missing.joined(separator: " and "), stepHash: StepHash.of(step), plan: state.plan)))
    }

    /// A `review.signed` event: the follow-up review the run's class requires, recorded at any time,
    /// also after the run ended. The person who started the run may not review it.
    public static func review(state: RunState, signer: Actor, role requested: String?, comment: String, roles: RolesFile?) throws -> RunEvent {
        guard let followUp = state.followUp else { throw Refusal.noFollowUp(state.releaseClass.rawValue) }
        guard !comment.isBlank else {
            throw Refusal.reasonRequired("a follow-up review needs --comment with its findings or a link to them")
        }
        if PersonName.same(signer.name, state.startedBy) {
            throw Refusal.separation("\(signer.name) started this run and may not review it; ask \(someone(of: followUp.roles, besides: signer.name, roles: roles)) " +
                                     "to record it with 'runsheet sign \(state.runID) --follow-up --comment \"...\"'")
        }
        if let earlier = state.reviews.first(where: { PersonName.same($0.actor, signer.name) }) {
            throw Refusal.alreadyReviewed(signer.name, time: earlier.time)
        }
        let purpose = "sign the follow-up review"
        let role = try role(for: signer.name, among: followUp.roles, requested: requested, roles: roles, purpose: purpose,
                            refusal: .noRoleFor(signer: signer.name, needed: followUp.roles, purpose: purpose, holders: holders(of: followUp.roles, in: roles)))
        return try RunEvent(by: signer, .reviewSigned(ReviewSigned(role: role, comment: comment.trimmed)))
    }
}
