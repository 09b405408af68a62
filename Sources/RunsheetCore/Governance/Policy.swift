import Foundation

/// What one release class changes about a runbook's gates.
///
/// ```yaml
/// policy:
///   standard: {gates: none}
///   major: {approvers: 2}
///   emergency:
///     approvers: 1
///     follow-up: release-manager or cab
///     follow-up-within: 2d
/// ```
public struct ClassPolicy: Sendable, Equatable {
    /// Which gates apply: nil for all, else the ids listed (empty for none).
    public var gates: [String]?
    /// Replaces the count of every `Sign-off` line.
    public var approvers: Int?
    /// Roles whose members may record the follow-up review; an empty list means the roles of the
    /// runbook's gates. nil when the class needs no follow-up.
    public var followUp: [String]?
    /// How long the follow-up review may take, in seconds.
    public var followUpWithin: Int?
    /// True when this layer says `follow-up: none`: overlaid, it removes a lower layer's follow-up
    /// (which `PolicyFloor` forbids below the repository's, and which never happens to emergency).
    public var noFollowUp: Bool
    /// Who may run a runbook of this class under a less strict one (`run --class`); read only
    /// from the repository's policy file.
    public var downgrade: Downgrade?
    /// `signatures: required` (true) or `optional` (false); nil when this layer does not say.
    /// Overlaid, a requirement is never taken back (`overlaid(by:)`).
    public var signaturesRequired: Bool?
    /// `change-record`: whether a production run must name its change record, and its form.
    public var changeRecord: ChangeRecordRule?
    /// `initiators`: the roles whose members may start or resume a run with production steps;
    /// nil when any person the roles file names may. Overlaid, only narrowed (`Initiators.swift`).
    public var initiators: [String]?
    /// What the configuration items the run changes add to its gates (`ItemDemands`); set from
    /// the policy's `criticality` and the inventory for one runbook, never written in a policy.
    public var demands: ItemDemands?

    /// Whether every act of a person in a run of this class must carry their SSH signature.
    public var requiresSignatures: Bool { signaturesRequired == true }

    /// `downgrade: {to: [standard], roles: [release-manager]}`: a member of one of `roles` may
    /// start a run of this class as one of `to`.
    public struct Downgrade: Sendable, Equatable {
        public var to: [ReleaseClass]
        public var roles: [String]

        public init(to: [ReleaseClass], roles: [String]) {
            self.to = to
            self.roles = roles
        }
    }

    public init(gates: [String]? = nil, approvers: Int? = nil, followUp: [String]? = nil, followUpWithin: Int? = nil,
                noFollowUp: Bool = false, downgrade: Downgrade? = nil, signaturesRequired: Bool? = nil,
                changeRecord: ChangeRecordRule? = nil, initiators: [String]? = nil) {
        self.initiators = initiators
        self.signaturesRequired = signaturesRequired
        self.changeRecord = changeRecord
        self.gates = gates
        self.approvers = approvers
        self.followUp = followUp
        self.followUpWithin = followUpWithin
        self.noFollowUp = noFollowUp
        self.downgrade = downgrade
    }

    /// Settings of `other` win where it has them.
    func overlaid(by other: ClassPolicy) -> ClassPolicy {
        ClassPolicy(gates: other.gates ?? gates, approvers: other.approvers ?? approvers,
                    followUp: other.noFollowUp ? nil : other.followUp ?? followUp,
                    followUpWithin: other.followUpWithin ?? followUpWithin,
                    noFollowUp: other.noFollowUp || (other.followUp == nil && noFollowUp),
                    downgrade: other.downgrade ?? downgrade,
                    signaturesRequired: Self.stricter(signaturesRequired, other.signaturesRequired),
                    changeRecord: ChangeRecordRule.merged(changeRecord, other.changeRecord),
                    initiators: Self.narrowed(initiators, other.initiators))
    }

    /// A later layer's `signatures` wins, except that `optional` never takes back `required`.
    static func stricter(_ lower: Bool?, _ upper: Bool?) -> Bool? {
        lower == true || upper == true ? true : upper ?? lower
    }

    /// Whether the gate applies under this class.
    public func applies(to step: Step) -> Bool {
        guard step.isGate, let gates else { return true }
        return gates.contains(step.id)
    }

    /// The gate's sign-off rules with this class's approver count.
    public func rules(for step: Step) -> [SignOffRule] {
        let rules = approvers.map { approvers in step.signOffs.map { SignOffRule(count: approvers, roles: $0.roles) } } ?? step.signOffs
        return demands?.raise(rules) ?? rules
    }

    /// The roles that may sign the follow-up review of a run of `runbook`.
    public func followUpRoles(in runbook: Runbook) -> [String] {
        guard let followUp else { return [] }
        if !followUp.isEmpty { return followUp }
        var roles: [String] = []
        for role in runbook.steps.flatMap({ $0.signOffs.flatMap(\.roles) }) where !roles.contains(role) { roles.append(role) }
        return roles
    }

    /// Seconds the follow-up review may take when the policy does not say.
    public static let defaultFollowUpWithin = 5 * 86400
}

/// Class policies: built-in defaults, overlaid by the repository's policy file, then by the runbook.
public struct Policy: Sendable, Equatable {
    public static let relativePath = ".runsheet/policy.yaml"

    public var classes: [ReleaseClass: ClassPolicy]
    /// The classes runbooks may declare (`allowed-classes`); nil for all. Read only from the
    /// repository's policy file.
    public var allowedClasses: [ReleaseClass]?
    /// The top level's `signatures: required` (true) or `optional` (false): for every class.
    public var signaturesRequired: Bool?
    /// The top level's `change-record`: for every class.
    public var changeRecord: ChangeRecordRule?
    /// Where the policy file wrote each class's initiator roles, for `check`'s positions.
    public var initiatorMarks = InitiatorMarks()
    /// The top level's `criticality`: what a run changing an item of each level owes. Read only
    /// from the repository's policy file.
    public var criticality: [Inventory.Criticality: CriticalityRule] = [:]
    /// Set by `Governance.load` for one runbook: what its items add to every class's gates.
    public var demands: ItemDemands?

    public init(classes: [ReleaseClass: ClassPolicy] = [:], allowedClasses: [ReleaseClass]? = nil, signaturesRequired: Bool? = nil,
                changeRecord: ChangeRecordRule? = nil) {
        self.changeRecord = changeRecord
        self.classes = classes
        self.allowedClasses = allowedClasses
        self.signaturesRequired = signaturesRequired
    }

    /// The break-glass path: an emergency gate needs one approver now and a follow-up review
    /// within five days by someone holding one of the runbook's gate roles.
    public static let builtIn = Policy(classes: [.emergency: ClassPolicy(approvers: 1, followUp: [], followUpWithin: ClassPolicy.defaultFollowUpWithin)])

    public func overlaid(by other: Policy) -> Policy {
        var merged = classes
        for (name, policy) in other.classes { merged[name] = (merged[name] ?? ClassPolicy()).overlaid(by: policy) }
        var policy = Policy(classes: merged, allowedClasses: other.allowedClasses ?? allowedClasses,
                            signaturesRequired: ClassPolicy.stricter(signaturesRequired, other.signaturesRequired),
                            changeRecord: ChangeRecordRule.merged(changeRecord, other.changeRecord))
        policy.initiatorMarks = other.initiatorMarks.isEmpty ? initiatorMarks : other.initiatorMarks
        policy.criticality = criticality.merging(other.criticality) { lower, upper in
            CriticalityRule(approvers: max(lower.approvers, upper.approvers), ownerSignOff: lower.ownerSignOff || upper.ownerSignOff)
        }
        policy.demands = other.demands ?? demands
        return policy
    }

    /// A class's policy, with the top level's `signatures: required` when it says so.
    public subscript(releaseClass: ReleaseClass) -> ClassPolicy {
        var policy = classes[releaseClass] ?? ClassPolicy()
        if signaturesRequired == true { policy.signaturesRequired = true }
        policy.changeRecord = ChangeRecordRule.merged(changeRecord, policy.changeRecord)
        if let demands, !demands.isEmpty { policy.demands = demands }
        return policy
    }

    /// The floor every runbook stands on: built-in, then `.runsheet/policy.yaml`.
    public static func floor(repository: Policy?) -> Policy {
        builtIn.overlaid(by: repository ?? Policy()).keepingBreakGlass()
    }

    /// The policy in force for a runbook: the floor, then its front matter. `check` refuses front
    /// matter that would lower the floor (`PolicyFloor`), so a runbook that compiles only raises it.
    public static func effective(for runbook: Runbook, repository: Policy?) -> Policy {
        floor(repository: repository).overlaid(by: runbook.policy).keepingBreakGlass()
    }

    /// Emergency is only ever the break-glass path: whatever a layer says, all its gates apply
    /// and it owes a follow-up review.
    func keepingBreakGlass() -> Policy {
        var policy = self
        var emergency = self[.emergency]
        emergency.gates = nil
        if emergency.followUp == nil { emergency.followUp = [] }
        emergency.noFollowUp = false
        policy.classes[.emergency] = emergency
        return policy
    }

    /// The repository's `.runsheet/policy.yaml` for a runbook, if there is one, read with `loader`;
    /// one that cannot be read or decoded is an error diagnostic.
    public static func load(forRunbook path: String, loader: Compiler.Loader = Compiler.disk) -> (Policy, [Diagnostic])? {
        RepositoryFile.load(relativePath, forRunbook: path, code: .policyFile, what: "policy file", loader: loader,
                            parse: parse, unusable: { _ in Policy() })
    }

    /// Problems that need the compiled runbook: gates that do not exist, roles never declared.
    func check(against runbook: Runbook, declaredRoles: Set<String>, report: (String) -> Void) {
        for releaseClass in ReleaseClass.allCases {
            guard let classPolicy = classes[releaseClass] else { continue }
            for id in classPolicy.gates ?? [] where runbook.step(id)?.isGate != true {
                report("the \(releaseClass.rawValue) policy names gate '\(id)', but no gate step has that id")
            }
            for role in classPolicy.followUp ?? [] where !declaredRoles.isEmpty && !declaredRoles.contains(role) {
                report("the \(releaseClass.rawValue) policy's follow-up role '\(role)' is not declared in 'roles' or the roles file")
            }
            for role in classPolicy.downgrade?.roles ?? [] where !declaredRoles.isEmpty && !declaredRoles.contains(role) {
                report("the \(releaseClass.rawValue) policy's downgrade role '\(role)' is not declared in 'roles' or the roles file")
            }
        }
    }
}
