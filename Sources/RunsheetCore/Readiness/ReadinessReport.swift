import Foundation

/// The go/no-go decision for a release, computed from the runs of the runbooks it requires, never
/// typed in. Any blocking reason makes it NO-GO; otherwise any exception (a waiver, a forced
/// step, a skip, a step that failed and was continued past, an emergency run) makes it GO with
/// exceptions; otherwise GO. Its JSON form is `runsheet.readiness/1`.
public struct ReadinessReport: Codable, Sendable, Equatable {
    public static let schema = "runsheet.readiness/1"

    public enum Decision: String, Codable, Sendable {
        case go = "GO"
        case noGo = "NO-GO"
        case goWithExceptions = "GO-WITH-EXCEPTIONS"
    }

    /// A blocking reason or an exception: what, about which item, where to look, who.
    public struct Finding: Codable, Sendable, Equatable {
        public var item: String
        public var text: String
        /// A link to the item (the runbook, at the step's section), relative to the release file.
        public var link: String
        /// `path:line` of the release entry, of the runbook step, or of a journal's first bad line.
        public var location: String
        public var run: String?
        public var by: String?
        public var role: String?
    }

    /// A signature that counts on one of the run's gates, or the waiver that let the gate through.
    public struct Approver: Codable, Sendable, Equatable {
        public var gate: String
        public var by: String
        public var role: String
        public var at: String
        /// True for a waiver (`gate.waived`): the gate went ahead without its sign-offs.
        public var waived: Bool
        /// The waiver's reason, or the signer's comment.
        public var text: String?
        /// The key that signed it (`SHA256:…`, as `ssh-keygen -l` prints it); absent when it carries
        /// no SSH signature. A run whose signatures do not all verify is not used at all.
        public var key: String?
    }

    /// A `journal.sealed` of the run used: who signed which head, when.
    public struct SealRecord: Codable, Sendable, Equatable {
        public var by: String
        public var at: String
        /// The seq and hash of the event sealed.
        public var seq: Int
        public var head: String
        public var signed: Bool
    }

    /// A `run.changed`: the plan signatures approve changed during the run.
    public struct PlanChange: Codable, Sendable, Equatable {
        public var at: String
        public var by: String
        public var reasons: [String]
    }

    public struct Item: Codable, Sendable, Equatable {
        /// `required` or `rollback`.
        public var kind: String
        public var title: String
        public var link: String
        public var runbookId: String?
        /// The run the decision is taken from, as its journal stood at `asOf`.
        public var run: String?
        public var outcome: String?
        public var startedAt: String?
        public var endedAt: String?
        /// The class the run ran under.
        public var runClass: String?
        /// The run's class against the release's: `meets`, `below` (blocks) or `break-glass`
        /// (an emergency run, an exception); nil for rollback items and when either is unknown.
        public var classCheck: String?
        /// How many events of the run's journal were counted, and the hash of the last one:
        /// `runsheet verify RUN --contains HASH` checks the journal still holds it.
        public var eventCount: Int?
        public var headHash: String?
        public var approvers: [Approver] = []
        public var changes: [PlanChange] = []
        /// The run's seals; nil when it has none.
        public var seals: [SealRecord]?
        /// ready, exceptions or blocked.
        public var status: String
        /// The change record the run used carries out (`run --change`); absent when it names none.
        public var change: String?
    }

    public struct ReleaseInfo: Codable, Sendable, Equatable {
        public var id: String
        public var title: String
        public var path: String
        public var owner: String?
        public var releaseClass: String?
        public var target: String?

        enum CodingKeys: String, CodingKey {
            case id, title, path, owner, target
            case releaseClass = "class"
        }
    }

    /// What is known about one linked runbook.
    public struct Evidence: Sendable {
        public var item: Release.Item
        public var rollback: Bool
        public var runbook: Runbook?
        /// Why the runbook could not be used (missing, errors), if so.
        public var problem: String?
        /// The runs of this runbook (`RunRecord.belongs(to:)`), in any order, those whose
        /// journals do not verify included.
        public var runs: [RunRecord]
        public var calendar: ChangeCalendar?
        /// The roles and class policy that say which signatures count.
        public var governance: Governance

        public init(item: Release.Item, rollback: Bool, runbook: Runbook?, problem: String?, runs: [RunRecord],
                    calendar: ChangeCalendar?, governance: Governance = Governance()) {
            self.item = item
            self.rollback = rollback
            self.runbook = runbook
            self.problem = problem
            self.runs = runs
            self.calendar = calendar
            self.governance = governance
        }
    }

    public var schema = ReadinessReport.schema
    /// The runsheet that took the decision.
    public var runsheetVersion: String
    public var release: ReleaseInfo
    public var asOf: String
    /// True when the time was given (`--at`): each journal counts only as it stood then.
    public var rewound: Bool
    public var decision: Decision
    public var items: [Item]
    public var blockers: [Finding]
    public var exceptions: [Finding]
    /// The configuration items the release's runbooks change (`ReleaseComponents`); absent when none.
    public var components: [Component]? = nil
    /// The release's closure (`runsheet release close`), when it was closed by the time decided for.
    public var closure: ReleaseClosure?

    /// The decision for `release` as of `now`, from what is known about each linked runbook.
    /// With `rewound`, each journal counts only up to `now`: later runs are not there, later
    /// events (an end, a signature, a review) have not happened.
    public static func evaluate(_ release: Release, evidence: [Evidence], now: Date, rewound: Bool = false,
                                runsheetVersion: String) -> ReadinessReport {
        var items: [Item] = []
        var blockers: [Finding] = []
        var exceptions: [Finding] = []
        var conflictsSeen = Set<String>()
        for entry in evidence {
            var check = ItemCheck(release: release, entry: entry, now: now)
            check.evaluate(cutoff: rewound ? now : nil, conflictsSeen: &conflictsSeen)
            items.append(check.finishedItem)
            blockers += check.blockers
            exceptions += check.exceptions
        }
        let decision: Decision = !blockers.isEmpty ? .noGo : !exceptions.isEmpty ? .goWithExceptions : .go
        let info = ReleaseInfo(id: release.id, title: release.title, path: (release.path as NSString).lastPathComponent, owner: release.owner,
                               releaseClass: release.releaseClass?.rawValue, target: release.target.map(Timestamp.format))
        var report = ReadinessReport(runsheetVersion: runsheetVersion, release: info, asOf: Timestamp.format(now), rewound: rewound,
                                     decision: decision, items: items, blockers: blockers, exceptions: exceptions)
        report.components = Component.touched(by: evidence)
        return report
    }

    /// Pretty, key-sorted JSON.
    public func json() -> String { ReportJSON.pretty(self) }
}
