import Foundation

/// Everything a run report shows, computed from the journal and the runbook; no clock is read,
/// so the same journal always gives the same report. Its JSON form is `runsheet.report/1`.
public struct RunReport: Codable, Sendable, Equatable {
    public static let schema = "runsheet.report/1"
    /// The status of a step a completed run moved past with goto and never settled.
    public static let neverDoneStatus = "never-done"

    public struct Run: Codable, Sendable, Equatable {
        public var id: String
        public var runbookId: String
        public var title: String
        public var path: String
        public var sha256: String
        public var gitCommit: String?
        public var releaseClass: String
        public var params: [String: String]
        public var host: String
        public var startedBy: String
        public var startedAt: String
        public var endedAt: String?
        /// From start to end, without the time the run was paused (`pausedSeconds`).
        public var durationSeconds: Int?
        /// How long the run stood paused between its sessions, up to its end or its last event.
        public var pausedSeconds: Int
        public var outcome: String
        public var endReason: String?
        public var actors: [String]
        /// True when the runbook file differs from the one the run started with.
        public var runbookChanged: Bool
        /// Changes to the plan during the run (`run.changed`); absent when there were none.
        public var changes: [Change]?
        /// The change record the run carries out (`run --change`); absent when it named none.
        public var changeRecord: String?
        /// The step the run is at while it is open (its cursor); absent once it has ended.
        public var at: String? = nil

        enum CodingKeys: String, CodingKey {
            case id, runbookId, title, path, sha256, gitCommit
            case releaseClass = "class"
            case params, host, startedBy, startedAt, endedAt, durationSeconds, pausedSeconds, outcome, endReason, actors, runbookChanged, changes
            case changeRecord = "change"
            case at
        }
    }

    public struct Entry: Codable, Sendable, Equatable {
        public var actor: String
        public var role: String?
        public var time: String
        public var text: String?
        /// Why a sign-off no longer counts (the plan changed after it); absent when it counts.
        public var stale: String?
        /// A sign-off's SSH signature: whether it is signed, by which key, and whether it verified.
        public var signature: SignatureStatus?
    }

    /// What a sign-off's signature shows (docs/JOURNAL.md, "Signatures in the journal").
    public struct SignatureStatus: Codable, Sendable, Equatable {
        public var signed: Bool
        /// The key's fingerprint, as `ssh-keygen -l` prints it.
        public var key: String?
        /// Whether it verified against the allowed signers at the event's time; absent when unsigned.
        public var verified: Bool?
        /// Why it does not verify.
        public var problem: String?
        /// Why an unsigned sign-off does not count: the policy as it is now requires signatures.
        public var doesNotCount: String?

        /// "no SSH signature", "SSH signature by SHA256:…, verified", "SSH signature by SHA256:…, does not verify: …".
        public var text: String {
            guard signed else { return "no SSH signature" + (doesNotCount.map { ", does not count: \($0)" } ?? "") }
            let key = self.key.map { " by \($0)" } ?? ""
            return verified == true ? "SSH signature\(key), verified" : "SSH signature\(key), does not verify" + (problem.map { ": \($0)" } ?? "")
        }
    }

    /// A `run.changed`: what a signature approves changed during the run.
    public struct Change: Codable, Sendable, Equatable {
        public var actor: String
        public var time: String
        public var reasons: [String]
    }

    public struct CommandResult: Codable, Sendable, Equatable {
        public var index: Int
        public var attempt: Int
        public var exit: Int?
        public var timedOut: Bool
        public var passed: Bool
        public var durationMs: Int
    }

    /// A command attempt recorded as started (`command.started`) with no result: it may have run.
    public struct MayHaveRun: Codable, Sendable, Equatable {
        public var index: Int
        public var attempt: Int
        public var command: String
        public var startedAt: String
        public var outputFile: String

        /// "command 1 may have run: started at T, no result recorded"
        public var text: String { "command \(index) may have run: started at \(startedAt), no result recorded" }
    }

    /// A step marked done although its command did not pass or it had failed (`step.forced`).
    public struct Forced: Codable, Sendable, Equatable {
        public var by: String
        public var at: String
        public var reason: String
        /// The exit codes of the commands it set aside (null: killed, timed out, interrupted).
        public var overrode: [Int?]
    }

    /// A gate let through without its sign-offs (`gate.waived`).
    public struct Waiver: Codable, Sendable, Equatable {
        public var actor: String
        public var role: String
        public var time: String
        public var reason: String
        /// What the gate's rule still needed.
        public var unmet: String
        /// Why the waiver no longer counts (the plan changed, its author drove the run); nil while it does.
        public var stale: String? = nil
    }

    public struct Step: Codable, Sendable, Equatable {
        public var id: String
        public var title: String
        public var section: String?
        /// pending, active, done, skipped, failed, or never-done: a step a completed run moved past
        /// with goto and never settled (`RunState.neverDone`).
        public var status: String
        public var actor: String?
        public var startedAt: String?
        public var endedAt: String?
        public var durationSeconds: Int?
        public var estimateSeconds: Int?
        public var reason: String?
        public var automatic: Bool
        public var notes: [Entry]
        public var commands: [CommandResult]
        public var signOffs: [Entry]
        public var rejections: [Entry]
        public var exceptions: [Entry]
        /// Where the run went from this step on failure or rejection.
        public var branch: String?
        /// Set when the step was forced done; absent otherwise.
        public var forced: Forced?
        /// Waivers of this gate; absent when there are none.
        public var waivers: [Waiver]?
        /// Set while a command of the step may have run (started, no result recorded); absent otherwise.
        public var mayHaveRun: MayHaveRun? = nil
        /// A gate passed on approvals that no longer count under the run's plan (`RunState.approvalLapsed`):
        /// it must be approved again. Absent otherwise.
        public var approvalLapsed: Bool? = nil
        /// When the visit that settled the step began (`startedAt` is its first): the timeline
        /// draws that visit. `durationSeconds` is the time spent on it over all visits.
        public var visitedAt: String? = nil
        /// Set while the step's commands failed and it waits for a person's decision (the run is
        /// open, the step too: `StepRecord.failedCheck`): "failed check, awaiting decision: …". Absent otherwise.
        public var awaitingDecision: String? = nil
        /// Set on a step a completed run never did nor skipped with a reason (`RunState.neverDone`,
        /// status `never-done`): "NEVER DONE: goto from … moved the run past this step, and the run
        /// ended without it …", naming the move when the journal has it. Absent otherwise.
        public var neverDone: String? = nil
        /// Set while the run is open on a step it moved past or off with goto or back and has not
        /// settled since (`MovedPast`): "MOVED PAST: goto from … moved the run past this step; it
        /// is not done yet". Absent otherwise.
        public var movedPast: String? = nil
    }

    public struct FollowUpStatus: Codable, Sendable, Equatable {
        /// done, due or overdue (as of the run's last event).
        public var status: String
        public var by: String?
        public var at: String?
        public var due: String?
    }

    public var schema = RunReport.schema
    public var run: Run
    public var steps: [Step]
    public var followUp: FollowUpStatus?
    /// Notifications that could not be delivered (`notify.failed`); absent when none failed.
    public var notifications: [NotificationNotice]?
    /// Records `store void` took out of the run (a run of the PostgreSQL store), one entry per
    /// act; absent when none were: the journal reported on ends without them.
    public var voided: [VoidedRecords]?

    /// One act of `store void` on the run: records `first` to `last`, by database user `by`, at
    /// `at` (server time, UTC), for `reason`; `text` is the line `status` shows for it.
    public struct VoidedRecords: Codable, Sendable, Equatable {
        public var first: Int
        public var last: Int
        public var by: String
        public var at: String
        public var reason: String
        public var text: String

        public init(first: Int, last: Int, by: String, at: String, reason: String, text: String) {
            (self.first, self.last, self.by, self.at, self.reason, self.text) = (first, last, by, at, reason, text)
        }
    }

    /// Builds the report of a run. `runbook` is the runbook compiled now; steps the run recorded
    /// that it no longer has are listed after its own, by id.
    /// `signatures`: each signed event's outcome by seq (`SignatureVerification.outcomes`).
    public static func make(events: [RunEvent], runbook: Runbook, currentSHA256: String,
                            signatures: [Int: SignatureVerification.Outcome] = [:]) -> RunReport {
        let state = RunState.fold(events)
        var branches: [String: String] = [:]
        for event in events {
            if case .branchTaken(let taken)? = try? event.payload() { branches[taken.from] = taken.to ?? "end" }
        }
        let added = Dictionary(state.addedSteps.map { ($0.id, $0.title) }, uniquingKeysWith: { a, _ in a })
        let sectionTitles = Dictionary(runbook.sections.map { ($0.id, $0.title) }, uniquingKeysWith: { a, _ in a })
        var ids = runbook.steps.map(\.id)
        ids += state.steps.keys.filter { !ids.contains($0) }.sorted()
        let neverDone = Set(state.neverDone(in: runbook).map(\.id))
        let moves = MovedPast.steps(events: events, runbook: runbook, final: state)
        let steps = ids.map { id -> Step in
            let step = runbook.step(id)
            let record = state.record(id)
            var reported = Step(
                id: id, title: step.map { Placeholders.display($0.title, params: runbook.params) { state.params[$0] } } ?? added[id] ?? id, section: step?.section.flatMap { sectionTitles[$0] },
                status: record.status.rawValue, actor: record.actor, startedAt: record.startedAt, endedAt: record.endedAt,
                durationSeconds: state.secondsSpent(on: id),
                estimateSeconds: step?.estimateSeconds, reason: record.reason, automatic: record.automatic,
                notes: record.notes.map { Entry(actor: $0.actor, role: nil, time: $0.time, text: $0.text) },
                commands: record.commands.map {
                    CommandResult(index: $0.index, attempt: $0.attempt, exit: $0.exitCode, timedOut: $0.timedOut, passed: $0.passed, durationMs: $0.durationMs)
                },
                signOffs: (state.signatures[id] ?? []).map { Entry(actor: $0.signer, role: $0.role, time: $0.time, text: $0.comment, stale: state.staleness(of: $0.plan),
                                                                           signature: Self.signatureStatus($0, signatures))  },
                rejections: (state.rejections[id] ?? []).map { Entry(actor: $0.signer, role: nil, time: $0.time, text: $0.reason) },
                exceptions: (state.exceptions[id] ?? []).map { Entry(actor: $0.actor, role: $0.role, time: $0.time, text: $0.text) },
                branch: branches[id],
                forced: record.forced ? Forced(by: record.actor ?? "", at: record.endedAt ?? "", reason: record.reason ?? "", overrode: record.overrode) : nil,
                waivers: state.waivers[id].map { $0.map { waiver in
                    Waiver(actor: waiver.actor, role: waiver.role, time: waiver.time, reason: waiver.reason, unmet: waiver.unmet,
                           stale: state.staleness(of: waiver.plan) ?? (state.drove(waiver.actor) ? "\(waiver.actor) drove the run after waiving it" : nil))
                } })
            if state.approvalLapsed(id) { reported.approvalLapsed = true }
            if neverDone.contains(id) {
                reported.status = RunReport.neverDoneStatus
                reported.neverDone = moves[id].map { "NEVER DONE: \($0.text), and the run ended without it being done or skipped with a reason" } ?? RunState.neverDoneText
            } else if !state.finished, !record.status.isSettled, let move = moves[id] {
                reported.movedPast = "MOVED PAST: \(move.text); it is not done yet"
            }
            if record.status.isSettled { reported.visitedAt = record.settlingVisit }
            if !state.finished, let failed = record.failedCheck {
                reported.awaitingDecision = "failed check, awaiting decision: \(failed.failureSummary)"
            }
            reported.mayHaveRun = record.unfinished.map {
                MayHaveRun(index: $0.index, attempt: $0.attempt, command: $0.command, startedAt: $0.startedAt, outputFile: $0.outputFile)
            }
            return reported
        }
        let run = Run(
            id: state.runID, runbookId: state.runbookID, title: state.title, path: state.runbookPath, sha256: state.runbookSHA256,
            gitCommit: state.gitCommit, releaseClass: state.releaseClass.rawValue, params: state.params, host: state.host,
            startedBy: state.startedBy, startedAt: state.startedAt, endedAt: state.endedAt,
            durationSeconds: state.activeSeconds(from: state.startedAt, to: state.endedAt), pausedSeconds: Self.pausedSeconds(state), outcome: state.outcome?.rawValue ?? "in progress",
            endReason: state.endReason, actors: state.actors, runbookChanged: currentSHA256 != state.runbookSHA256,
            changes: state.changes.isEmpty ? nil : state.changes.map { Change(actor: $0.actor, time: $0.time, reasons: $0.reasons) },
            changeRecord: state.changeRecord, at: state.finished ? nil : state.cursor)
        var followUp: FollowUpStatus?
        switch FollowUp.of(state, now: Timestamp.parse(state.lastTime) ?? Date(timeIntervalSince1970: 0)) {
        case .notRequired: break
        case .done(let by, let at): followUp = FollowUpStatus(status: "done", by: by, at: at)
        case .due(let due): followUp = FollowUpStatus(status: "due", due: due)
        case .overdue(let due): followUp = FollowUpStatus(status: "overdue", due: due)
        }
        var report = RunReport(run: run, steps: steps, followUp: followUp)
        if !state.notificationFailures.isEmpty { report.notifications = state.notificationFailures.map(NotificationNotice.init) }
        return report.shown
    }

    /// The report with the control characters of every string escaped (`ShownText`): names,
    /// titles, ids and parameters as one line; free text (notes, reasons, comments) keeps its
    /// line feeds and tabs for each format to lay out. A journal written before runsheet
    /// refused them at input may hold any.
    var shown: RunReport { ShownText.escapingStrings(in: self, freeText: ["text", "reason", "endReason", "reasons"], names: ShownText.personNameKeys) }

    static func signatureStatus(_ record: RunState.SignatureRecord, _ outcomes: [Int: SignatureVerification.Outcome]) -> SignatureStatus {
        guard record.signed else { return SignatureStatus(signed: false) }
        let outcome = outcomes[record.seq]
        return SignatureStatus(signed: true, key: outcome?.fingerprint, verified: outcome?.verified ?? false,
                               problem: outcome == nil ? "not checked" : outcome?.problem)
    }

    static func pausedSeconds(_ state: RunState) -> Int {
        guard let start = Timestamp.parse(state.startedAt), let end = Timestamp.parse(state.endedAt ?? state.lastTime) else { return 0 }
        return Int(state.idleInterval(from: start, to: end).rounded())
    }

    /// Pretty, key-sorted JSON: byte-for-byte the same for the same journal.
    public func json() -> String { ReportJSON.pretty(self) }
}

/// The JSON form of the run, readiness and metrics reports: pretty, keys sorted, slashes as
/// they are, and a final newline, so the same input gives the same bytes.
enum ReportJSON {
    static func pretty<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self) + "\n"
    }
}
