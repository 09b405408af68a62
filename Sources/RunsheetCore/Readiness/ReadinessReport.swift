import Foundation

/// The go/no-go decision for a release, computed from the runs of the runbooks it requires, never
/// typed in. Any blocking reason makes it NO-GO; otherwise any exception (a waiver, a skip, a
/// step that failed and was continued past) makes it GO with exceptions; otherwise GO.
/// Its JSON form is `runsheet.readiness/1`.
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
        /// `path:line` of the release entry or of the runbook step.
        public var location: String
        public var run: String?
        public var by: String?
        public var role: String?
    }

    public struct Item: Codable, Sendable, Equatable {
        /// `required` or `rollback`.
        public var kind: String
        public var title: String
        public var link: String
        public var runbookId: String?
        public var run: String?
        public var outcome: String?
        public var startedAt: String?
        public var endedAt: String?
        /// ready, exceptions or blocked.
        public var status: String
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
        /// Runs of this runbook, newest first.
        public var runs: [RunState]
        public var calendar: ChangeCalendar?

        public init(item: Release.Item, rollback: Bool, runbook: Runbook?, problem: String?, runs: [RunState], calendar: ChangeCalendar?) {
            self.item = item
            self.rollback = rollback
            self.runbook = runbook
            self.problem = problem
            self.runs = runs
            self.calendar = calendar
        }
    }

    public var schema = ReadinessReport.schema
    public var release: ReleaseInfo
    public var asOf: String
    public var decision: Decision
    public var items: [Item]
    public var blockers: [Finding]
    public var exceptions: [Finding]

    /// The decision for `release` as of `now`, from what is known about each linked runbook.
    public static func evaluate(_ release: Release, evidence: [Evidence], now: Date) -> ReadinessReport {
        var items: [Item] = []
        var blockers: [Finding] = []
        var exceptions: [Finding] = []
        var conflictsSeen = Set<String>()
        for entry in evidence {
            let where_ = "\(release.path):\(entry.item.line)"
            var itemBlockers: [Finding] = []
            var itemExceptions: [Finding] = []
            /// A finding about this item: at its release entry unless a step's link and place are given.
            func finding(_ text: String, _ link: String?, _ location: String?, _ run: String?, _ by: String?, _ role: String?) -> Finding {
                Finding(item: entry.item.title, text: text, link: link ?? entry.item.link, location: location ?? where_, run: run, by: by, role: role)
            }
            func block(_ text: String, link: String? = nil, location: String? = nil, run: String? = nil, by: String? = nil, role: String? = nil) {
                itemBlockers.append(finding(text, link, location, run, by, role))
            }
            func except(_ text: String, link: String? = nil, location: String? = nil, run: String? = nil, by: String? = nil, role: String? = nil) {
                itemExceptions.append(finding(text, link, location, run, by, role))
            }
            var item = Item(kind: entry.rollback ? "rollback" : "required", title: entry.item.title, link: entry.item.link, status: "ready")
            defer {
                item.status = !itemBlockers.isEmpty ? "blocked" : !itemExceptions.isEmpty ? "exceptions" : "ready"
                items.append(item)
                blockers += itemBlockers
                exceptions += itemExceptions
            }
            guard let runbook = entry.runbook else {
                block(entry.problem ?? "the runbook cannot be read")
                continue
            }
            item.runbookId = runbook.id
            let file = entry.item.link.split(separator: "#", maxSplits: 1).first.map(String.init) ?? entry.item.link
            func stepLink(_ step: Step?) -> String { step?.section.map { file + "#" + $0 } ?? file }
            func stepLocation(_ step: Step?) -> String { step.map { "\(entry.item.path):\($0.line)" } ?? where_ }
            // Only parameters the runbook declares narrow the runs down.
            let filter = release.params.filter { name, _ in runbook.params.contains { $0.name == name } }
            let runs = entry.runs.filter { run in filter.allSatisfy { run.params[$0.key] == $0.value } }
            let wanted = filter.isEmpty ? "" : " with " + filter.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")

            if entry.rollback {
                let since = now.addingTimeInterval(-Double(release.rehearsalWithin))
                let rehearsal = runs.first { $0.outcome == .completed && (Timestamp.parse($0.endedAt ?? "") ?? .distantPast) >= since }
                if let rehearsal {
                    (item.run, item.outcome, item.startedAt, item.endedAt) = (rehearsal.runID, rehearsal.outcome?.rawValue, rehearsal.startedAt, rehearsal.endedAt)
                } else {
                    let last = runs.first.map { "; the last run, \($0.runID), \($0.outcome.map { "ended \($0.rawValue)" } ?? "is still in progress")" } ?? ""
                    block("the rollback runbook has not been rehearsed: no completed run\(wanted) in the last \(DurationText.format(release.rehearsalWithin))\(last); rehearse it with: runsheet run \(entry.item.path)",
                          run: runs.first?.runID)
                    if let run = runs.first { (item.run, item.outcome, item.startedAt, item.endedAt) = (run.runID, run.outcome?.rawValue ?? "in progress", run.startedAt, run.endedAt) }
                }
                continue
            }

            // The change calendar at the target time, for runbooks that make production changes.
            if let target = release.target, let calendar = entry.calendar,
               runbook.production || runbook.steps.contains(where: \.production), let conflict = calendar.conflict(at: target) {
                let key = (calendar.path ?? "") + conflict
                if conflictsSeen.insert(key).inserted {
                    block("the target time \(Timestamp.plain(target)) UTC \(conflict)", location: calendar.path ?? where_)
                }
            }
            guard let run = runs.first else {
                block("no run of \(runbook.id)\(wanted) yet; start one with: runsheet run \(entry.item.path)")
                continue
            }
            (item.run, item.outcome, item.startedAt, item.endedAt) = (run.runID, run.outcome?.rawValue ?? "in progress", run.startedAt, run.endedAt)
            guard let outcome = run.outcome else {
                let settled = run.settledCount
                let at = run.cursor.map { " and is at step \($0)" } ?? ""
                block("run \(run.runID) is still in progress: \(settled) of \(run.stepHashes.count) steps settled\(at); continue it with: runsheet resume \(run.runID)",
                      link: stepLink(run.cursor.flatMap(runbook.step)), location: stepLocation(run.cursor.flatMap(runbook.step)), run: run.runID)
                continue
            }
            if outcome != .completed {
                block("run \(run.runID) ended \(outcome.rawValue)" + (run.endReason.map { ": \($0)" } ?? ""), run: run.runID)
            }
            for step in runbook.steps {
                let record = run.record(step.id)
                switch record.status {
                case .failed:
                    let text = "step \(step.id) failed" + (record.reason.map { ": \($0)" } ?? "")
                    if outcome == .completed {
                        except(text + " (the run continued past it)", link: stepLink(step), location: stepLocation(step), run: run.runID, by: record.actor)
                    } else {
                        block(text, link: stepLink(step), location: stepLocation(step), run: run.runID, by: record.actor)
                    }
                case .skipped where !record.automatic:
                    if step.isGate {
                        block("gate \(step.id) was skipped without its sign-offs (\(step.signOffSummary))" + (record.reason.map { ": \($0)" } ?? ""),
                              link: stepLink(step), location: stepLocation(step), run: run.runID, by: record.actor)
                    } else {
                        except("step \(step.id) skipped" + (record.reason.map { ": \($0)" } ?? ""), link: stepLink(step), location: stepLocation(step), run: run.runID, by: record.actor)
                    }
                default:
                    break
                }
                for signature in run.signatures[step.id] ?? [] where signature.stepHash != StepHash.of(step) && record.status == .done {
                    block("the sign-off by \(signature.signer) on gate \(step.id) is stale: the step changed after it was signed",
                          link: stepLink(step), location: stepLocation(step), run: run.runID, by: signature.signer, role: signature.role)
                }
                for grant in run.exceptions[step.id] ?? [] {
                    except("change-calendar exception for \(step.id): \(grant.text)", link: stepLink(step), location: stepLocation(step), run: run.runID, by: grant.actor, role: grant.role)
                }
            }
            let changes = RunbookChanges(recorded: run.stepHashes, runbook: runbook)
            if !changes.isEmpty && outcome == .completed {
                var parts: [String] = []
                if !changes.changed.isEmpty { parts.append("changed: " + changes.changed.joined(separator: ", ")) }
                if !changes.added.isEmpty { parts.append("added: " + changes.added.joined(separator: ", ")) }
                if !changes.removed.isEmpty { parts.append("removed: " + changes.removed.joined(separator: ", ")) }
                block("run \(run.runID) followed an earlier version of the runbook (\(parts.joined(separator: "; "))); run it again", run: run.runID)
            }
            switch FollowUp.of(run, now: now) {
            case .due(let due): except("the follow-up review this \(run.releaseClass.rawValue) change owes is due by \(due)", run: run.runID)
            case .overdue(let due): block("the follow-up review this \(run.releaseClass.rawValue) change owes is overdue since \(due); record it with: runsheet sign \(run.runID) --follow-up --comment ...", run: run.runID)
            case .done, .notRequired: break
            }
        }
        let decision: Decision = !blockers.isEmpty ? .noGo : !exceptions.isEmpty ? .goWithExceptions : .go
        let info = ReleaseInfo(id: release.id, title: release.title, path: (release.path as NSString).lastPathComponent, owner: release.owner,
                               releaseClass: release.releaseClass?.rawValue, target: release.target.map(Timestamp.format))
        return ReadinessReport(release: info, asOf: Timestamp.format(now), decision: decision, items: items, blockers: blockers, exceptions: exceptions)
    }

    /// Pretty, key-sorted JSON.
    public func json() -> String { ReportJSON.pretty(self) }
}
