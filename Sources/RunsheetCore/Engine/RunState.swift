import Foundation

/// The state of a run: a pure fold over its journal events. Resume, status, reports and
/// verification all start here, never from a second copy of state.
public struct RunState: Sendable, Equatable {
    public enum Outcome: String, Sendable, Codable {
        case completed
        case failed
        case rolledBack = "rolled-back"
        case aborted
    }

    public enum StepStatus: String, Sendable, Codable {
        case pending, active, done, skipped, failed

        /// Done, skipped or failed: nothing more is expected of the step.
        public var isSettled: Bool { self == .done || self == .skipped || self == .failed }

        /// The one-character mark status lines, reports and filled-in checklists show.
        public var mark: String {
            switch self {
            case .done: "✓"
            case .skipped: "–"
            case .failed: "✗"
            case .active: "▶"
            case .pending: "·"
            }
        }
    }

    public struct CommandRecord: Sendable, Equatable {
        public var index: Int
        public var attempt: Int
        public var command: String
        public var exitCode: Int?
        public var timedOut: Bool
        public var interrupted: Bool
        public var durationMs: Int
        public var outputFile: String?
        public var outputSha256: String?
        public var passed: Bool
    }

    /// A command attempt recorded as started (`command.started`) with no result: it may have run.
    public struct UnfinishedCommand: Sendable, Equatable {
        public var index: Int
        public var attempt: Int
        public var command: String
        public var outputFile: String
        /// When it was started: the time of its `command.started`.
        public var startedAt: String

        /// How every screen and report says it: "may have run: started at T, no result recorded".
        public var summary: String { "may have run: started at \(startedAt), no result recorded" }
    }

    /// A sign-off or rejection recorded on a gate.
    public struct SignatureRecord: Sendable, Equatable {
        public var signer: String
        public var role: String
        public var time: String
        public var comment: String?
        /// The hash of the step as signed; a later edit makes the signature stale.
        public var stepHash: String
        public var runbookSHA256: String
        public var host: String
        /// The run's plan as signed (`RunPlan`); nil in runs from before plans were recorded.
        public var plan: String?
        /// The seq of the event that recorded it, and whether that event carries an SSH signature.
        public var seq: Int = 0
        public var signed: Bool = false
    }

    /// An exception to the change calendar, or a follow-up review: who, as which role, why.
    public struct Grant: Sendable, Equatable {
        public var actor: String
        public var role: String
        public var text: String
        public var time: String
        public var host: String
        /// For an exception: the step and plan as granted (nil in older runs).
        public var stepHash: String? = nil
        public var plan: String? = nil
    }

    /// A gate let through without its sign-offs: who, as which role, why, and the step as waived.
    public struct Waiver: Sendable, Equatable {
        public var actor: String
        public var role: String
        public var reason: String
        /// What the gate's rule still needed when it was waived.
        public var unmet: String
        public var stepHash: String
        public var time: String
        public var host: String
        public var plan: String?
    }

    /// A step the operator did that the runbook lacks; it belongs between `after` and `before`.
    public struct AddedStep: Sendable, Equatable {
        public var id: String
        public var title: String
        public var before: String?
        public var after: String?
    }

    public struct Note: Sendable, Equatable {
        public var text: String
        public var actor: String
        public var time: String
        /// Marked by the operator as a lesson for the runbook (`lesson TEXT`).
        public var lesson = false
    }

    public struct StepRecord: Sendable, Equatable {
        public var status: StepStatus = .pending
        public var actor: String?
        public var startedAt: String?
        public var endedAt: String?
        public var reason: String?
        public var automatic = false
        /// Marked done by `step.forced` although its command did not pass or it had failed;
        /// `reason` says why, `overrode` the exit codes set aside.
        public var forced = false
        public var overrode: [Int?] = []
        public var notes: [Note] = []
        public var commands: [CommandRecord] = []
        /// A command attempt started and never finished in the journal (the session died while it
        /// ran); cleared by its result, by a decision about it, or when the step is settled.
        public var unfinished: UnfinishedCommand?
        /// Seconds spent on the step in visits that ended (`RunState.timeSpent`), and when the
        /// visit that settled it began (the time it settled, when it was settled from elsewhere).
        public var visitedSeconds: TimeInterval = 0
        public var settlingVisit: String?
        /// The `seq` of the event that settled it last (`RunState.settlements`).
        public var settledSeq = 0

        /// The status mark, `⚠` for a forced step: it is done, but not as the runbook asked.
        public var mark: String { forced ? "⚠" : status.mark }
    }

    public var runID = ""
    /// The journal format the run started with; what it may record (`step.forced` and
    /// `gate.waived` need 1.1).
    public var format = JournalFormat(major: 1, minor: 0)
    public var runbookPath = ""
    public var runbookID = ""
    public var title = ""
    public var runbookSHA256 = ""
    public var gitCommit: String?
    /// The service and environment the run changes, and its production steps (for delivery metrics).
    public var service: String?
    public var environment: String?
    public var productionSteps: [String] = []
    /// The change record the run carries out (`run --change`), when it named one.
    public var changeRecord: String?
    /// False when `run.started`'s `plan` is not the hash of its own runbook, includes, parameters
    /// and change record: a field an approval covers was edited after the fact.
    public var startedPlanHolds = true
    /// The environment lock the run took (1.3: `run.started` or the last `lock.taken`), whether it
    /// holds it now (`lock.released` lets it go until a resume takes it again), and each release.
    public var lock: LockClaim?
    public var holdsLock = false
    /// Who took the lock last (the starter, or the person whose resume took it again), and when.
    public var lockTakenBy: String?
    public var lockSince: String?
    public var lockReleases: [(actor: String, role: String, reason: String, time: String)] = []
    public var params: [String: String] = [:]
    public var releaseClass = ReleaseClass.normal
    /// The class the runbook declared when the run went under another, and the repository's
    /// permission when that one is less strict.
    public var declaredClass: ReleaseClass?
    public var downgrade: RunStarted.Downgrade?
    public var startedBy = ""
    public var startedAt = ""
    public var host = ""
    public var via = ""
    public var stepHashes: [String: String] = [:]
    /// What a signature approves (`RunPlan`): its hash, included files and secret digests, as of
    /// `run.started` or the last `run.changed`. nil in runs from before plans were recorded.
    public var plan: String?
    public var includes: [String: String] = [:]
    public var secretDigests: [String: String] = [:]
    /// The rule files the run is under, path → SHA-256 (`Governance.ruleFiles`); nil in runs from
    /// before they were recorded. `ruleChanges` says when a resumed session found other ones.
    public var rules: [String: String]?
    public var ruleChanges: [(time: String, actor: String, reasons: [String])] = []
    /// Every digest each secret had in this run's plans, newest first (`RunPlan.of`).
    public var secretDigestHistory: [String: [String]] = [:]
    /// Each `run.changed`: when, by whom, and what changed.
    public var changes: [(time: String, actor: String, reasons: [String])] = []
    public var steps: [String: StepRecord] = [:]
    /// Every output file a command attempt of the run was given, finished or not: never reused.
    /// A list, in journal order, a name there once for each event naming it: only a session
    /// choosing a new name searches it, while every fold makes it (a set hashed each name again
    /// as it grew: a tenth of the fold of a long run).
    public var outputFiles: [String] = []
    /// The step the operator is on; nil once the walk has reached the end.
    public var cursor: String?
    public var outcome: Outcome?
    public var endReason: String?
    /// Set while walking a branch: `failure` or `reject`.
    public var branch: String?
    public var notes: [Note] = []
    public var actors: [String] = []
    public var eventCount = 0
    public var headHash = ""
    public var lastTime = ""
    public var endedAt: String?
    /// The seq of `run.ended`.
    public var endedSeq: Int?
    /// Steps the operator added during the run: id, title, and the runbook steps around it.
    public var addedSteps: [AddedStep] = []
    /// Sign-offs and rejections per gate step, in journal order.
    public var signatures: [String: [SignatureRecord]] = [:]
    public var rejections: [String: [(signer: String, reason: String, time: String)]] = [:]
    /// Calendar exceptions per production step, and follow-up reviews of the whole run.
    public var exceptions: [String: [Grant]] = [:]
    /// Gates let through without their sign-offs (`gate.waived`), per gate step.
    public var waivers: [String: [Waiver]] = [:]
    /// The names, as written, of everyone who drove the run (started it, settled or moved steps,
    /// ran commands, took notes); signing, rejecting, granting and waiving are not driving. Kept as
    /// written because the fold is hot; `drove` compares them canonically.
    private var driverNames: Set<String> = []
    private var lastDriver: String?

    /// Whether `person`, in any spelling of their name, drove the run.
    public func drove(_ person: String) -> Bool { driverNames.contains { PersonName.same($0, person) } }
    /// The steps settled since the run last took a failure branch, in order: the rollback.
    public var rollback: [String] = []
    /// Where the last failure branch went: the first step of the rollback.
    public var rollbackTarget: String?
    public var reviews: [Grant] = []
    /// Whether the run requires signatures (`run.started`'s or a later `run.resumed`'s
    /// `signatures`), the acts that did not count because they were unsigned, and each seal.
    public var signaturesRequired = false
    public var unsignedActs: [UnsignedAct] = []
    public var seals: [Seal] = []
    /// Notifications that could not be delivered (`notify.failed`, 1.5), in journal order.
    public var notificationFailures: [NotificationFailure] = []
    /// Every event that carries a signature, as written: what `SignatureVerification` checks; and
    /// by seq, the time of the event before each (a signed event may not be dated much earlier).
    public var signedEvents: [RunEvent] = []
    public var timeBeforeSigned: [Int: String] = [:]
    /// The follow-up review the run's class requires: who may sign it and within how many seconds.
    public var followUp: (roles: [String], within: Int)?
    /// When nobody was working the run: from a `run.paused` (after a crash, from the last event)
    /// to the `run.resumed` that follows. Durations leave these stretches out (`activeSeconds`).
    public var idle: [(from: String, to: String)] = []
    private var pausedSince: String?
    /// The step the cursor is on and since when: a visit. The time spent on a step is the sum of
    /// its visits, idle stretches left out (`timeSpent`), not the time since it was first shown.
    private var visit: (step: String, since: String)?
    /// Every settling of a step, in journal order: a step and the `seq` of the event. A step
    /// settled again (after `back`) is listed again; its record's `settledSeq` names the last.
    public private(set) var settlements: [(step: String, seq: Int)] = []

    public var finished: Bool { outcome != nil }

    /// How many of the steps the run started with are settled (steps added during the run not counted).
    public var settledCount: Int { stepHashes.keys.filter { record($0).status.isSettled }.count }

    public init() {}

    public static func == (lhs: RunState, rhs: RunState) -> Bool {
        lhs.runID == rhs.runID && lhs.eventCount == rhs.eventCount && lhs.headHash == rhs.headHash
            && lhs.steps == rhs.steps && lhs.cursor == rhs.cursor && lhs.outcome == rhs.outcome
    }

    public func record(_ step: String) -> StepRecord { steps[step] ?? StepRecord() }

    /// The steps with a command that may have run (started, no result recorded), by step id.
    public var unfinishedCommands: [(step: String, command: UnfinishedCommand)] {
        // By index, reading one field: a closure over `steps` copies every record (a retain of each of its fields).
        var found: [(step: String, command: UnfinishedCommand)] = []
        for index in steps.indices {
            if let command = steps.values[index].unfinished { found.append((steps.keys[index], command)) }
        }
        return found.sorted { $0.command.startedAt < $1.command.startedAt }
    }

    /// Whether an approval of a step (the step's hash and the plan it approved, nil where an older
    /// runsheet recorded none) still covers the step as it is now (`current`) in the current plan.
    public func covers(stepHash: String?, plan approved: String?, current: String) -> Bool {
        (stepHash ?? current) == current && staleness(of: approved) == nil
    }

    /// Whether step `id` was passed on approvals that no longer count: it is done, the run goes on,
    /// and since it was approved the plan changed, so none of its signatures or waivers covers the
    /// run as it is now. The run must come back to it and have it approved again.
    public func approvalLapsed(_ id: String) -> Bool {
        // The cheap lookups first: `status` asks this of every settled step of a long run.
        let signed = signatures[id] ?? [], waived = waivers[id] ?? []
        guard !finished, !signed.isEmpty || !waived.isEmpty, let current = stepHashes[id], steps[id]?.status == .done else { return false }
        return !signed.contains { covers(stepHash: $0.stepHash, plan: $0.plan, current: current) }
            && !waived.contains { covers(stepHash: $0.stepHash, plan: $0.plan, current: current) && !drove($0.actor) }
    }

    /// What differs between two sets of rule files, one phrase each, by path.
    public static func ruleDifferences(from earlier: [String: String], to now: [String: String]) -> [String] {
        Set(earlier.keys).union(now.keys).sorted().compactMap { path in
            switch (earlier[path], now[path]) {
            case (nil, _?): "\(path) now applies"
            case (_?, nil): "\(path) no longer applies"
            case let (before?, after?) where before != after: "\(path) changed"
            default: nil
            }
        }
    }

    /// Why an approval of `signedPlan` no longer counts (the plan changed since), or nil. An
    /// approval or run without a recorded plan is judged by its step hash alone.
    public func staleness(of signedPlan: String?) -> String? {
        guard let signedPlan, let plan, signedPlan != plan else { return nil }
        let reasons = changes.last?.reasons ?? []
        return "the plan changed after it was signed" + (reasons.isEmpty ? "" : " (\(reasons.joined(separator: "; ")))")
    }

    /// Folds events in order.
    public static func fold(_ events: [RunEvent]) -> RunState {
        var state = RunState()
        // By index: `for event in events` copies every event (a retain of each of its fields) first.
        for index in events.indices { state.apply(events[index]) }
        return state
    }

    public mutating func apply(_ event: RunEvent) {
        apply(event, payload: nil)
    }

    /// `apply(event)` with the event's payload when it was read already, from the journal's line
    /// (`JournalFile.forEachEvent`); nil reads it from `event.data`.
    mutating func apply(_ event: RunEvent, payload read: EventPayload?) {
        defer { followCursor(at: event.time) }
        eventCount += 1
        headHash = event.hash
        let previousTime = lastTime
        lastTime = event.time
        if !actors.contains(event.actor) { actors.append(event.actor) }
        if event.signature != nil {
            signedEvents.append(event)
            if !previousTime.isEmpty { timeBeforeSigned[event.seq] = previousTime }
        }
        switch event.type {
        case .signOff, .signOffRejected, .exceptionGranted, .reviewSigned, .gateWaived, .lockReleased, .journalSealed: break
        // Most events come from the one person driving: a comparison with the last one spares hashing the name again.
        default: if event.actor != lastDriver { driverNames.insert(event.actor); lastDriver = event.actor }
        }
        // Payloads are read leniently and cannot fail (EventPayload.init); an event that somehow did would change nothing.
        guard let payload = read ?? (try? event.payload()) else { return }
        // In a run that requires signatures, an unsigned act of a person does not count.
        if signaturesRequired, event.signature == nil, Self.countedOnlySigned.contains(event.type) {
            unsignedActs.append(UnsignedAct(seq: event.seq, type: event.type, actor: event.actor, step: event.step, time: event.time))
            return
        }
        switch payload {
        case .runStarted(let started):
            runID = started.runId
            format = JournalFormat(schema: started.schema) ?? format
            runbookPath = started.runbook
            runbookID = started.runbookId
            title = started.title
            runbookSHA256 = started.sha256
            gitCommit = started.gitCommit
            service = started.service
            environment = started.environment
            productionSteps = started.production ?? []
            changeRecord = started.change
            if let recorded = started.plan {
                startedPlanHolds = RunPlan(runbookSHA256: started.sha256, includes: started.includes ?? [:], params: started.params,
                                           secrets: started.secrets ?? [:], change: started.change).hash == recorded
            }
            params = started.params
            releaseClass = started.releaseClass
            declaredClass = started.declaredClass
            downgrade = started.downgrade
            stepHashes = started.stepHashes
            steps.reserveCapacity(stepHashes.count)  // one record per step: no growing and rehashing as they come
            plan = started.plan
            includes = started.includes ?? [:]
            secretDigests = started.secrets ?? [:]
            secretDigestHistory = secretDigests.mapValues { [$0] }
            rules = started.rules
            lock = started.lock
            holdsLock = started.lock != nil
            if started.lock != nil { (lockTakenBy, lockSince) = (event.actor, event.time) }
            if let followUp = started.followUp { self.followUp = (followUp.roles, followUp.within) }
            startedBy = event.actor
            startedAt = event.time
            host = event.host
            via = event.via
            cursor = started.start
            signaturesRequired = started.signatures != nil
        case .runResumed(let resumed):
            if resumed.signatures != nil { signaturesRequired = true }
            if !resumed.sha256.isEmpty { runbookSHA256 = resumed.sha256 }  // empty: not recorded
            if let hashes = resumed.stepHashes { stepHashes = hashes }
            switch resumed.cursor {
            case .step(let id)?: cursor = id
            case .end?: cursor = nil
            case nil: break
            }
            let from = pausedSince ?? previousTime
            if !from.isEmpty { idle.append((from, event.time)) }
            pausedSince = nil
            if let now = resumed.rules {
                ruleChanges.append((event.time, event.actor, Self.ruleDifferences(from: rules ?? [:], to: now)))
                rules = now
            }
        case .runChanged(let changed):
            plan = changed.plan
            runbookSHA256 = changed.sha256
            params = changed.params
            includes = changed.includes
            secretDigests = changed.secrets
            for (name, digest) in changed.secrets where secretDigestHistory[name]?.first != digest {
                secretDigestHistory[name, default: []].insert(digest, at: 0)
            }
            changes.append((event.time, event.actor, changed.reasons))
        case .runPaused:
            pausedSince = event.time
        case .runEnded(let ended):
            outcome = ended.outcome
            endReason = ended.reason
            endedAt = event.time
            endedSeq = event.seq
            cursor = nil
        case .stepStarted:
            guard let step = event.step else { break }
            update(step) { record in
                record.status = .active
                record.startedAt = event.time
                record.endedAt = nil
                record.reason = nil
            }
            // Work on a step starts when it is started, not when the cursor came to it.
            if visit?.step == step { visit?.since = event.time }
            cursor = step
        case .stepCompleted(let completed):
            settle(event, as: .done, reason: nil, automatic: false, next: completed.next)
        case .stepSkipped(let skipped):
            settle(event, as: .skipped, reason: skipped.reason, automatic: skipped.automatic, next: skipped.next)
        case .stepFailed(let failed):
            settle(event, as: .failed, reason: failed.reason, automatic: false, next: failed.next)
        case .stepForced(let forced):
            settle(event, as: .done, reason: forced.reason, automatic: false, next: forced.next)
            if let step = event.step {
                update(step) { record in
                    record.forced = true
                    record.overrode = forced.overrode
                }
            }
        case .commandFinished(let finished):
            guard let step = event.step else { break }
            let command = CommandRecord(
                index: finished.index, attempt: finished.attempt, command: finished.command, exitCode: finished.exit,
                timedOut: finished.timedOut, interrupted: finished.interrupted, durationMs: finished.durationMs,
                outputFile: finished.outputFile, outputSha256: finished.outputSha256, passed: finished.passed)
            if let file = finished.outputFile { outputFiles.append(file) }
            update(step) { record in
                record.commands.append(command)
                record.unfinished = nil
                // A step done or skipped earlier whose check was run again (after back or goto)
                // and failed is open again: the failed attempt waits for a decision like any other.
                if !command.passed, record.status == .done || record.status == .skipped {
                    record.status = .active
                    record.endedAt = nil
                    record.forced = false
                }
            }
        case .commandStarted(let started):
            guard let step = event.step else { break }
            outputFiles.append(started.outputFile)
            update(step) { record in
                record.unfinished = UnfinishedCommand(index: started.index, attempt: started.attempt, command: started.command,
                                                      outputFile: started.outputFile, startedAt: event.time)
            }
        case .commandResolved:
            guard let step = event.step else { break }
            update(step) { $0.unfinished = nil }
        case .note(let taken):
            let note = Note(text: taken.text, actor: event.actor, time: event.time, lesson: taken.lesson)
            if let step = event.step {
                update(step) { $0.notes.append(note) }
            } else {
                notes.append(note)
            }
        case .branchTaken(let taken):
            branch = taken.kind
            if taken.kind == "failure" {
                rollback = []
                rollbackTarget = taken.to
            }
            cursor = taken.to
        case .cursorMoved(let moved):
            cursor = moved.to
        case .stepAdded(let added):
            if let step = event.step {
                addedSteps.append(AddedStep(id: step, title: added.title, before: added.before, after: added.after))
                // The operator adds a step they have done: it is recorded done, by them, then.
                update(step) { record in
                    record.status = .done
                    record.actor = event.actor
                    record.startedAt = event.time
                    record.endedAt = event.time
                    record.settledSeq = event.seq
                }
                settlements.append((step, event.seq))
            }
        case .signOff(let signed):
            guard let step = event.step else { break }
            signatures[step, default: []].append(SignatureRecord(
                signer: event.actor, role: signed.role, time: event.time, comment: signed.comment, stepHash: signed.stepHash,
                runbookSHA256: signed.sha256, host: event.host, plan: signed.plan, seq: event.seq, signed: event.signature != nil))
        case .signOffRejected(let rejected):
            guard let step = event.step else { break }
            rejections[step, default: []].append((event.actor, rejected.reason, event.time))
        case .exceptionGranted(let granted):
            guard let step = event.step else { break }
            exceptions[step, default: []].append(Grant(actor: event.actor, role: granted.role, text: granted.reason,
                                                       time: event.time, host: event.host, stepHash: granted.stepHash, plan: granted.plan))
        case .reviewSigned(let review):
            reviews.append(Grant(actor: event.actor, role: review.role, text: review.comment, time: event.time, host: event.host))
        case .gateWaived(let waived):
            guard let step = event.step else { break }
            waivers[step, default: []].append(Waiver(actor: event.actor, role: waived.role, reason: waived.reason, unmet: waived.unmet,
                                                     stepHash: waived.stepHash, time: event.time, host: event.host, plan: waived.plan))
        case .lockTaken(let taken):
            lock = taken.lock
            holdsLock = true
            (lockTakenBy, lockSince) = (event.actor, event.time)
        case .lockReleased(let released):
            holdsLock = false
            lockReleases.append((event.actor, released.role, released.reason, event.time))
        case .journalSealed(let sealed):
            seals.append(Seal(seq: event.seq, actor: event.actor, time: event.time, head: sealed.head, sealedSeq: sealed.seq,
                              signed: event.signature != nil))
        case .notifyFailed(let failed):
            notificationFailures.append(NotificationFailure(failed, step: event.step, time: event.time, seq: event.seq))
        }
    }

    /// A step done, skipped or failed: who settled it and when, and where the run goes next.
    private mutating func settle(_ event: RunEvent, as status: StepStatus, reason: String?, automatic: Bool, next: String?) {
        guard let step = event.step else { return }
        let began = visit?.step == step ? visit?.since : event.time
        settlements.append((step, event.seq))
        update(step) { record in
            record.status = status
            record.actor = event.actor
            record.endedAt = event.time
            if record.startedAt == nil { record.startedAt = event.time }
            record.reason = reason
            record.automatic = automatic
            record.forced = false
            record.overrode = []
            record.unfinished = nil
            record.settlingVisit = began
            record.settledSeq = event.seq
        }
        if branch == "failure" { rollback.append(step) }
        cursor = next
    }

    /// Ends the visit of the step the cursor left and begins one on the step it is on now.
    private mutating func followCursor(at time: String) {
        let here = finished ? nil : cursor
        guard here != visit?.step else { return }
        if let visit, let from = Timestamp.parse(visit.since), let to = Timestamp.parse(time) {
            let spent = activeInterval(from: from, to: to)
            steps[visit.step]?.visitedSeconds += spent
        }
        visit = here.map { ($0, time) }
    }

    /// The time spent on a step: its visits, the one still going counted up to `now`, without
    /// the idle stretches (a pause, a crash until the resume).
    public func timeSpent(on step: String, now: Date = Date()) -> TimeInterval {
        var total = steps[step]?.visitedSeconds ?? 0
        if let visit, visit.step == step, let from = Timestamp.parse(visit.since) {
            // A paused run is not spending time on its step: count to the pause.
            let end = pausedSince.flatMap(Timestamp.parse).map { min($0, now) } ?? now
            total += activeInterval(from: from, to: end)
        }
        return total
    }

    /// Whole seconds spent on a settled step (`timeSpent`, counted to the run's last event); nil
    /// while it is not settled. Reports, checklists, metrics and `update`'s estimates use it.
    public func secondsSpent(on step: String) -> Int? {
        guard record(step).status.isSettled else { return nil }
        return Int(timeSpent(on: step, now: Timestamp.parse(lastTime) ?? Date(timeIntervalSince1970: 0)).rounded())
    }

    /// Seconds from `start` to `end` that were not idle (see `idle`), to the nearest second; nil
    /// when either time is missing or unreadable. Step and run durations are measured this way.
    public func activeSeconds(from start: String?, to end: String?) -> Int? {
        guard let start = start.flatMap(Timestamp.parse), let end = end.flatMap(Timestamp.parse) else { return nil }
        return Int(activeInterval(from: start, to: end).rounded())
    }

    /// The time from `start` to `end` without the idle stretches, never negative.
    public func activeInterval(from start: Date, to end: Date) -> TimeInterval {
        let span = end.timeIntervalSince(start)
        return span <= 0 ? 0 : span - idleInterval(from: start, to: end)
    }

    /// How much of the time from `start` to `end` was idle.
    public func idleInterval(from start: Date, to end: Date) -> TimeInterval {
        idle.reduce(0) { total, stretch in
            guard let from = Timestamp.parse(stretch.from), let to = Timestamp.parse(stretch.to) else { return total }
            return total + max(0, min(to, end).timeIntervalSince(max(from, start)))
        }
    }

    /// Changes a step's record where it is stored. Copying the record out and back would copy its
    /// notes and commands on every event of the step, which a long run of one step feels.
    private mutating func update(_ step: String, _ change: (inout StepRecord) -> Void) {
        change(&steps[step, default: StepRecord()])
    }
}
