// The `data` of the events about a run as a whole (docs/JOURNAL.md, "Event types and their data").

/// `run.started`: the first event of every journal.
public struct RunStarted: Codable, Sendable, Equatable, FieldsDecodable {
    /// The follow-up review a class policy requires: who may sign it, and within how many seconds.
    public struct FollowUpReview: Codable, Sendable, Equatable {
        public var roles: [String]
        public var within: Int

        public init(roles: [String], within: Int) {
            self.roles = roles
            self.within = within
        }
    }

    /// The repository policy's permission a run used to go under a less strict class than its
    /// runbook declares: the classes and roles as the policy names them, and the role the starter holds.
    public struct Downgrade: Codable, Sendable, Equatable {
        public var to: [String]
        public var roles: [String]
        public var role: String

        public init(to: [String], roles: [String], role: String) {
            self.to = to
            self.roles = roles
            self.role = role
        }
    }

    /// The journal's format, `runsheet.journal/1` (see `JournalFormat`).
    public var schema: String
    public var runId: String
    /// The runbook's path.
    public var runbook: String
    public var runbookId: String
    public var title: String
    /// SHA-256 of the runbook file.
    public var sha256: String
    public var gitCommit: String?
    /// Parameter values, secrets masked.
    public var params: [String: String]
    public var releaseClass: ReleaseClass
    /// What each step's approval covers, hashed (`StepHash`).
    public var stepHashes: [String: String]
    public var runsheetVersion: String
    /// The runbook's `start`, when it names one.
    public var start: String?
    public var followUp: FollowUpReview?
    /// What delivery metrics group by: a parameter of that name, else the front matter's.
    public var service: String?
    public var environment: String?
    /// Ids of the production steps; absent when there are none.
    public var production: [String]?
    /// The hash of what a signature approves (`RunPlan`), its included files' SHA-256 by path,
    /// and the secret parameters' scrypt digests (1.1; absent in older runs).
    public var plan: String?
    public var includes: [String: String]?
    public var secrets: [String: String]?
    /// The class the runbook declares, when the run goes under another (`run --class`).
    public var declaredClass: ReleaseClass?
    /// The permission that let the run go under a less strict class than `declaredClass`.
    public var downgrade: Downgrade?
    /// The rule files that applied (roles, policy, calendars), by path from the runbook's folder,
    /// with the SHA-256 of the bytes runsheet read: the rules the run started under.
    public var rules: [String: String]?
    /// 1.3: the environment lock the run took at its start (`EnvironmentLock`); absent when it
    /// took none (no production steps, or a run from before locks).
    public var lock: LockClaim?
    /// 1.4: `required` when the policy required signatures for the run's class at its start:
    /// from then on an unsigned act of a person does not count, and the journal fails `verify`.
    /// Absent when they were not required (docs/JOURNAL.md, "Signatures").
    public var signatures: String?
    /// The change record the run carries out (`run --change`), as given; absent when none was.
    /// A reader that does not know it shows less, and decides nothing differently: no new minor.
    public var change: String?

    enum CodingKeys: String, CodingKey {
        case schema, runId, runbook, runbookId, title, sha256, gitCommit, params
        case releaseClass = "class"
        case stepHashes, runsheetVersion, start, followUp, service, environment, production, declaredClass, downgrade, plan, includes, secrets, rules, lock, signatures, change
    }

    public init(schema: String = JournalFormat.written, runId: String, runbook: String, runbookId: String, title: String,
                sha256: String, gitCommit: String? = nil, params: [String: String] = [:], releaseClass: ReleaseClass = .normal,
                stepHashes: [String: String] = [:], runsheetVersion: String, start: String? = nil, followUp: FollowUpReview? = nil,
                service: String? = nil, environment: String? = nil, production: [String]? = nil,
                declaredClass: ReleaseClass? = nil, downgrade: Downgrade? = nil) {
        self.schema = schema
        self.runId = runId
        self.runbook = runbook
        self.runbookId = runbookId
        self.title = title
        self.sha256 = sha256
        self.gitCommit = gitCommit
        self.params = params
        self.releaseClass = releaseClass
        self.stepHashes = stepHashes
        self.runsheetVersion = runsheetVersion
        self.start = start
        self.followUp = followUp
        self.service = service
        self.environment = environment
        self.production = production
        self.declaredClass = declaredClass
        self.downgrade = downgrade
    }

    init(fields c: some PayloadFields<CodingKeys>) throws {
        self.init(schema: try c.decode(String.self, forKey: .schema), runId: try c.decode(String.self, forKey: .runId),
                  runbook: try c.decode(String.self, forKey: .runbook), runbookId: try c.decode(String.self, forKey: .runbookId),
                  title: try c.decode(String.self, forKey: .title), sha256: try c.decode(String.self, forKey: .sha256),
                  gitCommit: try c.decodeIfPresent(String.self, forKey: .gitCommit),
                  params: try c.decode([String: String].self, forKey: .params),
                  // A class this runsheet does not know is read as the default one.
                  releaseClass: try c.decodeIfPresent(ReleaseClass.self, forKey: .releaseClass) ?? .normal,
                  stepHashes: try c.decode([String: String].self, forKey: .stepHashes),
                  runsheetVersion: try c.decode(String.self, forKey: .runsheetVersion),
                  start: try c.decodeIfPresent(String.self, forKey: .start),
                  followUp: try c.decodeIfPresent(FollowUpReview.self, forKey: .followUp),
                  service: try c.decodeIfPresent(String.self, forKey: .service),
                  environment: try c.decodeIfPresent(String.self, forKey: .environment),
                  production: try c.decodeIfPresent([String].self, forKey: .production),
                  // Informational: a class this runsheet does not know is left out.
                  declaredClass: try c.decodeIfPresent(String.self, forKey: .declaredClass).flatMap(ReleaseClass.init(rawValue:)),
                  downgrade: try c.decodeIfPresent(Downgrade.self, forKey: .downgrade))
        plan = try c.decodeIfPresent(String.self, forKey: .plan)
        includes = try c.decodeIfPresent([String: String].self, forKey: .includes)
        secrets = try c.decodeIfPresent([String: String].self, forKey: .secrets)
        rules = try c.decodeIfPresent([String: String].self, forKey: .rules)
        lock = try c.decodeIfPresent(LockClaim.self, forKey: .lock)
        signatures = try c.decodeIfPresent(String.self, forKey: .signatures)
        change = try c.decodeIfPresent(String.self, forKey: .change)
    }
}

/// `run.changed` (1.1): what a signature approves changed during the run: a parameter at resume,
/// the runbook's text, an included file. Signatures on the earlier plan no longer count.
public struct RunChanged: Codable, Sendable, Equatable {
    /// The new plan's hash (`RunPlan`).
    public var plan: String
    /// One phrase per change: "parameter version: 1.0 → 6.6.6", "the runbook changed".
    public var reasons: [String]
    /// SHA-256 of the runbook file now.
    public var sha256: String
    /// Parameter values now (secrets masked), included files' SHA-256 and secret digests now.
    public var params: [String: String]
    public var includes: [String: String]
    public var secrets: [String: String]
    /// Steps whose approval hash changed (`StepHash`), by id.
    public var steps: [String]

    public init(plan: String, reasons: [String], sha256: String, params: [String: String], includes: [String: String],
                secrets: [String: String], steps: [String]) {
        self.plan = plan
        self.reasons = reasons
        self.sha256 = sha256
        self.params = params
        self.includes = includes
        self.secrets = secrets
        self.steps = steps
    }
}

/// `run.resumed`: a new session of the run, with what changed in the runbook since it started.
public struct RunResumed: Codable, Sendable, Equatable, FieldsDecodable {
    /// Where the run goes on when the step it was on is gone from the runbook.
    public enum Cursor: Sendable, Equatable {
        case step(String)
        /// No step is left to do: written as `null`.
        case end
    }

    /// SHA-256 of the runbook now.
    public var sha256: String
    public var changes: RunbookChanges?
    /// The step hashes of the runbook now; written with `changes`.
    public var stepHashes: [String: String]?
    /// Absent when the run goes on where it was.
    public var cursor: Cursor?
    /// The rule files that apply now, as in `run.started`; written only when they differ from the
    /// ones the run last recorded, so the journal says from which event on other rules applied.
    public var rules: [String: String]?
    /// `required` when the policy now requires signatures and the run had not recorded it: the
    /// stricter rule applies from this event on (docs/JOURNAL.md, "Signatures").
    public var signatures: String?

    enum CodingKeys: String, CodingKey { case sha256, changes, stepHashes, cursor, rules, signatures }

    public init(sha256: String, changes: RunbookChanges? = nil, stepHashes: [String: String]? = nil, cursor: Cursor? = nil) {
        self.sha256 = sha256
        self.changes = changes
        self.stepHashes = stepHashes
        self.cursor = cursor
    }

    init(fields c: some PayloadFields<CodingKeys>) throws {
        sha256 = try c.decode(String.self, forKey: .sha256)
        changes = try c.decodeIfPresent(RunbookChanges.self, forKey: .changes)
        stepHashes = try c.decodeIfPresent([String: String].self, forKey: .stepHashes)
        // Present means moved, even when it is not a step id: the fold has always read it so.
        if c.contains(.cursor) { cursor = try c.decodeIfPresent(String.self, forKey: .cursor).map(Cursor.step) ?? .end }
        rules = try c.decodeIfPresent([String: String].self, forKey: .rules)
        signatures = try c.decodeIfPresent(String.self, forKey: .signatures)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(sha256, forKey: .sha256)
        try c.encodeIfPresent(changes, forKey: .changes)
        try c.encodeIfPresent(stepHashes, forKey: .stepHashes)
        switch cursor {
        case .step(let id)?: try c.encode(id, forKey: .cursor)
        case .end?: try c.encodeNil(forKey: .cursor)
        case nil: break
        }
        try c.encodeIfPresent(rules, forKey: .rules)
        try c.encodeIfPresent(signatures, forKey: .signatures)
    }
}

/// `run.paused`: the operator left; the run can be resumed.
public struct RunPaused: Codable, Sendable, Equatable {
    /// The step the run was on; written as `null` at the end.
    public var at: String?

    enum CodingKeys: String, CodingKey { case at }

    public init(at: String?) { self.at = at }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(at, forKey: .at)
    }
}

/// `run.ended`: how the run ended, and why when it did not complete.
public struct RunEnded: Codable, Sendable, Equatable, FieldsDecodable {
    public var outcome: RunState.Outcome
    public var reason: String?

    enum CodingKeys: String, CodingKey { case outcome, reason }

    public init(outcome: RunState.Outcome, reason: String? = nil) {
        self.outcome = outcome
        self.reason = reason
    }

    init(fields c: some PayloadFields<CodingKeys>) throws {
        // An outcome this runsheet does not know counts as an abort, the outcome that claims least.
        outcome = try c.decodeIfPresent(RunState.Outcome.self, forKey: .outcome) ?? .aborted
        reason = try c.decodeIfPresent(String.self, forKey: .reason)
    }
}
