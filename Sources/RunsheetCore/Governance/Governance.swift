import Foundation
import Synchronization

/// Everything the repository says about who may do what, and when: the roles file, the class
/// policy in force and the change calendar.
public struct Governance: Sendable {
    public var roles: RolesFile?
    /// Built-in defaults overlaid by `.runsheet/policy.yaml`, then raised by the runbook's front matter.
    public var policy: Policy
    public var calendar: ChangeCalendar?
    /// `.runsheet/policy.yaml` alone: the only place a downgrade can be permitted.
    public var repositoryPolicy: Policy?
    /// `.runsheet/inventory.yaml`: the configuration items and their owners.
    public var inventory: Inventory?
    /// Every rule file read (roles, policy, calendar, inventory and the config file), by path from
    /// the runbook's folder, with the SHA-256 of the bytes that were parsed: what a run records as
    /// the rules it ran under.
    public var ruleFiles: [String: String] = [:]
    /// The repository's halts (`.runsheet/halts.jsonl`, Halts.swift), read again as they change.
    public var halts: HaltWatch?
    /// Halts from another source that stop the run as well: a run of the PostgreSQL store reads
    /// the store's halts (`halts`) and still obeys the repository's `.runsheet/halts.jsonl`.
    public var alsoHalts: HaltWatch?
    /// The halts of the stores the repository's config names (committed and in the working copy),
    /// for a run kept in a folder or on another PostgreSQL store (`ConfiguredStoreFloor`): they
    /// stop its production steps too.
    public var floorHalts: [HaltWatch] = []

    public init(roles: RolesFile? = nil, policy: Policy = .builtIn, calendar: ChangeCalendar? = nil, repositoryPolicy: Policy? = nil) {
        self.roles = roles
        self.policy = policy
        self.calendar = calendar
        self.repositoryPolicy = repositoryPolicy
    }

    /// Loads the files that apply to a runbook with `loader`; the diagnostics are their problems.
    public static func load(for runbook: Runbook, loader disk: Compiler.Loader = Compiler.disk) -> (Governance, [Diagnostic]) {
        var diagnostics: [Diagnostic] = []
        var governance = Governance()
        // Hashes the very bytes each file is parsed from; what the walk reads to find the
        // repository's root (`.git`, a Git folder's `HEAD`) is no rule.
        let reads = Mutex<[String: String]>([:])
        let loader: Compiler.Loader = { path in
            let bytes = try disk(path)
            let name = (path as NSString).lastPathComponent
            if name != ".git", name != "HEAD", !path.contains("/.git/") { reads.withLock { $0[path] = SHA256Hex.of(bytes) } }
            return bytes
        }
        if let (roles, problems) = RolesFile.load(forRunbook: runbook.path, loader: loader) {
            governance.roles = roles
            diagnostics += problems
        }
        var repository: Policy?
        if let (policy, problems) = Policy.load(forRunbook: runbook.path, loader: loader) {
            repository = policy
            diagnostics += problems
        }
        governance.repositoryPolicy = repository
        governance.policy = Policy.effective(for: runbook, repository: repository)
        if let (inventory, problems) = Inventory.load(forRunbook: runbook.path, loader: loader) {
            governance.inventory = inventory
            diagnostics += problems
        }
        let demands = ItemDemands.of(runbook, inventory: governance.inventory, rules: governance.policy.criticality)
        if !demands.isEmpty { governance.policy.demands = demands }
        if let (calendar, problems) = ChangeCalendar.load(for: runbook, loader: loader) {
            governance.calendar = calendar
            diagnostics += problems
        }
        // Read for its hash only: it names the store whose halts a run obeys, so it is a rule file the
        // run and every governance record name; its problems stop `run` and `resume` where it is used.
        _ = RepositoryConfig.load(forRunbook: runbook.path, loader: loader)
        let folder = (runbook.path as NSString).deletingLastPathComponent
        if let rules = GovernanceLog.ruleFolder(from: folder.isEmpty ? "." : folder) {
            governance.halts = governance.haltWatch(folder: rules, signersNear: runbook.path)
        }
        governance.ruleFiles = Dictionary(reads.withLock { $0 }.map { (PathText.relative($0.key, from: folder), $0.value) },
                                          uniquingKeysWith: { first, _ in first })
        return (governance, diagnostics)
    }

    /// Who may grant an exception to the change calendar.
    public var exceptionRoles: [String] { calendar?.exceptionRoles ?? ChangeCalendar.defaultExceptionRoles }

    /// Whether a waiver or calendar exception given by `person` as `role` counts under these rules:
    /// the role is an exception role, the roles file (when there is one) gives it to them, and they
    /// did not start the run. Checked whenever the grant is used, not only when it was given.
    public func mayGrant(as person: String, role: String, state: RunState) -> Bool {
        exceptionRoles.contains(role) && (roles.map { $0.holds(person, role) } ?? true) && !PersonName.same(person, state.startedBy)
    }

    /// The command that grants an exception for a blocked production step.
    public static func exceptionCommand(run: String, step: String) -> String {
        "runsheet sign \(run) \(step) --exception --reason \"...\""
    }

    /// Why `step` may not be carried out at `date` under the calendar, or nil when it may.
    public func calendarConflict(for step: Step, in runbook: Runbook, state: RunState, at date: Date) -> String? {
        guard step.production || runbook.production, let calendar else { return nil }
        // An exception counts for the step and plan it was granted for.
        let current = StepHash.of(step)
        if state.exceptions[step.id]?.contains(where: {
            state.covers(stepHash: $0.stepHash, plan: $0.plan, current: current) && mayGrant(as: $0.actor, role: $0.role, state: state)
        }) == true {
            return nil
        }
        return calendar.conflict(at: date)
    }
}

/// Whether a run still owes the follow-up review its class requires.
public enum FollowUp: Sendable, Equatable {
    case notRequired
    case done(by: String, at: String)
    case due(String)
    case overdue(String)

    /// With `roles`, a review counts only when its author holds, in that roles file as it is now,
    /// the follow-up role it was given as (a role granted for one `sign` and taken back does not).
    public static func of(_ state: RunState, now: Date = Date(), roles: RolesFile? = nil) -> FollowUp {
        guard let requirement = state.followUp else { return .notRequired }
        if let review = state.reviews.first(where: { review in
            roles.map { requirement.roles.contains(review.role) && $0.holds(review.actor, review.role) } ?? true
        }) {
            return .done(by: review.actor, at: review.time)
        }
        let start = Timestamp.parse(state.startedAt) ?? now
        let due = start.addingTimeInterval(Double(requirement.within))
        let text = Timestamp.format(due)
        return now > due ? .overdue(text) : .due(text)
    }

    /// A phrase for status lines: "follow-up review overdue since …".
    public var phrase: String? {
        switch self {
        case .notRequired: nil
        case .done(let by, let at): "follow-up review by \(by) at \(at)"
        case .due(let date): "follow-up review missing (due \(date))"
        case .overdue(let date): "follow-up review OVERDUE since \(date)"
        }
    }

    public var missing: Bool {
        switch self {
        case .due, .overdue: true
        default: false
        }
    }
}
