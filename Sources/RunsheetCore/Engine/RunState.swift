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
    }

    /// An exception to the change calendar, or a follow-up review: who, as which role, why.
    public struct Grant: Sendable, Equatable {
        public var actor: String
        public var role: String
        public var text: String
        public var time: String
        public var host: String
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
        public var notes: [Note] = []
        public var commands: [CommandRecord] = []
    }

    public var runID = ""
    public var runbookPath = ""
    public var runbookID = ""
    public var title = ""
    public var runbookSHA256 = ""
    public var gitCommit: String?
    /// The service and environment the run changes, and its production steps (for delivery metrics).
    public var service: String?
    public var environment: String?
    public var productionSteps: [String] = []
    public var params: [String: String] = [:]
    public var releaseClass = ReleaseClass.normal
    public var startedBy = ""
    public var startedAt = ""
    public var host = ""
    public var via = ""
    public var stepHashes: [String: String] = [:]
    public var steps: [String: StepRecord] = [:]
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
    /// Steps the operator added during the run: id, title, and the runbook steps around it.
    public var addedSteps: [AddedStep] = []
    /// Sign-offs and rejections per gate step, in journal order.
    public var signatures: [String: [SignatureRecord]] = [:]
    public var rejections: [String: [(signer: String, reason: String, time: String)]] = [:]
    /// Calendar exceptions per production step, and follow-up reviews of the whole run.
    public var exceptions: [String: [Grant]] = [:]
    public var reviews: [Grant] = []
    /// The follow-up review the run's class requires: who may sign it and within how many seconds.
    public var followUp: (roles: [String], within: Int)?
    /// When nobody was working the run: from a `run.paused` (after a crash, from the last event)
    /// to the `run.resumed` that follows. Durations leave these stretches out (`activeSeconds`).
    public var idle: [(from: String, to: String)] = []
    private var pausedSince: String?

    public var finished: Bool { outcome != nil }

    /// How many of the steps the run started with are settled (steps added during the run not counted).
    public var settledCount: Int { stepHashes.keys.filter { record($0).status.isSettled }.count }

    public init() {}

    public static func == (lhs: RunState, rhs: RunState) -> Bool {
        lhs.runID == rhs.runID && lhs.eventCount == rhs.eventCount && lhs.headHash == rhs.headHash
            && lhs.steps == rhs.steps && lhs.cursor == rhs.cursor && lhs.outcome == rhs.outcome
    }

    public func record(_ step: String) -> StepRecord { steps[step] ?? StepRecord() }

    /// Folds events in order. Unknown event types are ignored so newer minor versions still replay.
    public static func fold(_ events: [RunEvent]) -> RunState {
        var state = RunState()
        for event in events { state.apply(event) }
        return state
    }

    public mutating func apply(_ event: RunEvent) {
        eventCount += 1
        headHash = event.hash
        let previousTime = lastTime
        lastTime = event.time
        if !actors.contains(event.actor) { actors.append(event.actor) }
        let data = event.data
        func setCursor(_ key: String = "next") { cursor = data[key]?.string }
        switch event.type {
        case .runStarted:
            runID = data["runId"]?.string ?? ""
            runbookPath = data["runbook"]?.string ?? ""
            runbookID = data["runbookId"]?.string ?? ""
            title = data["title"]?.string ?? ""
            runbookSHA256 = data["sha256"]?.string ?? ""
            gitCommit = data["gitCommit"]?.string
            service = data["service"]?.string
            environment = data["environment"]?.string
            productionSteps = (data["production"]?.array ?? []).compactMap(\.string)
            params = (data["params"]?.object ?? [:]).compactMapValues(\.string)
            releaseClass = data["class"]?.string.flatMap(ReleaseClass.init) ?? .normal
            stepHashes = (data["stepHashes"]?.object ?? [:]).compactMapValues(\.string)
            if let followUp = data["followUp"]?.object {
                self.followUp = ((followUp["roles"]?.array ?? []).compactMap(\.string), followUp["within"]?.int ?? 0)
            }
            startedBy = event.actor
            startedAt = event.time
            host = event.host
            via = event.via
            setCursor("start")
        case .runResumed:
            if let sha = data["sha256"]?.string { runbookSHA256 = sha }
            if let hashes = data["stepHashes"]?.object { stepHashes = hashes.compactMapValues(\.string) }
            if data["cursor"] != nil { setCursor("cursor") }
            let from = pausedSince ?? previousTime
            if !from.isEmpty { idle.append((from, event.time)) }
            pausedSince = nil
        case .runPaused:
            pausedSince = event.time
        case .runEnded:
            outcome = data["outcome"]?.string.flatMap(Outcome.init) ?? .aborted
            endReason = data["reason"]?.string
            endedAt = event.time
            cursor = nil
        case .stepStarted:
            guard let step = event.step else { break }
            update(step) { record in
                record.status = .active
                record.startedAt = event.time
                record.endedAt = nil
                record.reason = nil
            }
            cursor = step
        case .stepCompleted, .stepSkipped, .stepFailed:
            guard let step = event.step else { break }
            update(step) { record in
                record.status = event.type == .stepCompleted ? .done : event.type == .stepSkipped ? .skipped : .failed
                record.actor = event.actor
                record.endedAt = event.time
                if record.startedAt == nil { record.startedAt = event.time }
                record.reason = data["reason"]?.string
                record.automatic = data["automatic"]?.bool ?? false
            }
            setCursor()
        case .commandFinished:
            guard let step = event.step else { break }
            let command = CommandRecord(
                index: data["index"]?.int ?? 0, attempt: data["attempt"]?.int ?? 1,
                command: data["command"]?.string ?? "", exitCode: data["exit"]?.int,
                timedOut: data["timedOut"]?.bool ?? false, interrupted: data["interrupted"]?.bool ?? false,
                durationMs: data["durationMs"]?.int ?? 0, outputFile: data["outputFile"]?.string,
                outputSha256: data["outputSha256"]?.string, passed: data["passed"]?.bool ?? false)
            update(step) { $0.commands.append(command) }
        case .note:
            let note = Note(text: data["text"]?.string ?? "", actor: event.actor, time: event.time, lesson: data["lesson"]?.bool ?? false)
            if let step = event.step {
                update(step) { $0.notes.append(note) }
            } else {
                notes.append(note)
            }
        case .branchTaken:
            branch = data["kind"]?.string ?? "failure"
            setCursor("to")
        case .cursorMoved:
            setCursor("to")
        case .stepAdded:
            if let step = event.step {
                addedSteps.append(AddedStep(id: step, title: data["title"]?.string ?? "", before: data["before"]?.string, after: data["after"]?.string))
                // The operator adds a step they have done: it is recorded done, by them, then.
                update(step) { record in
                    record.status = .done
                    record.actor = event.actor
                    record.startedAt = event.time
                    record.endedAt = event.time
                }
            }
        case .signOff:
            guard let step = event.step else { break }
            signatures[step, default: []].append(SignatureRecord(
                signer: event.actor, role: data["role"]?.string ?? "", time: event.time,
                comment: data["comment"]?.string, stepHash: data["stepHash"]?.string ?? "",
                runbookSHA256: data["sha256"]?.string ?? "", host: event.host))
        case .signOffRejected:
            guard let step = event.step else { break }
            rejections[step, default: []].append((event.actor, data["reason"]?.string ?? "", event.time))
        case .exceptionGranted:
            guard let step = event.step else { break }
            exceptions[step, default: []].append(Grant(actor: event.actor, role: data["role"]?.string ?? "",
                                                       text: data["reason"]?.string ?? "", time: event.time, host: event.host))
        case .reviewSigned:
            reviews.append(Grant(actor: event.actor, role: data["role"]?.string ?? "", text: data["comment"]?.string ?? "",
                                 time: event.time, host: event.host))
        }
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
