import Foundation

/// Who is acting: recorded on every event.
public struct Actor: Sendable, Equatable {
    public var name: String
    public var host: String
    /// `terminal`, `script` or `ci`.
    public var via: String

    public init(name: String, host: String, via: String) {
        self.name = name
        self.host = host
        self.via = via
    }
}

/// Errors an operator can act on.
public enum RunError: Error, Equatable, LocalizedError {
    case noSuchStep(String)
    case finished(String)
    case reasonRequired(String)
    case noCommand(String)
    case atFirstStep
    case titleRequired
    case gateWaiting(String)
    case outsideCalendar(run: String, step: String, conflict: String, roles: [String])

    public var errorDescription: String? {
        switch self {
        case .noSuchStep(let id): "there is no step '\(id)' in this runbook; 'status' lists the step ids"
        case .finished(let outcome): "the run has already ended (\(outcome)); start a new run to do it again"
        case .reasonRequired(let action): "\(action) needs a reason, e.g. '\(action) the host is already patched'"
        case .noCommand(let id): "step '\(id)' has no command marked to run"
        case .atFirstStep: "this is the first step; there is nothing to go back to"
        case .titleRequired: "add needs the step's title, e.g. 'add Flush the CDN cache'"
        case .gateWaiting(let needs): "this gate still needs \(needs); sign with 'runsheet sign', or use 'wait'"
        case .outsideCalendar(let run, let step, let conflict, let roles):
            "step '\(step)' is a production change and \(conflict); to go ahead, a \(roles.joined(separator: " or ")) must grant an exception: \(Governance.exceptionCommand(run: run, step: step))"
        }
    }
}

/// Walks a runbook: every action becomes a journal event, and the state is the fold of them.
public final class RunEngine {
    public let runbook: Runbook
    public internal(set) var state: RunState
    public let runDirectory: String
    public let actor: Actor
    let journal: JournalWriter
    /// Parameter values, secrets included (in memory only).
    let values: [String: String]
    let secretValues: [String]
    let successor: [String: String?]
    let failureTarget: [String: String?]
    let stepIndex: [String: Int]
    /// The roles file, class policy and change calendar that apply.
    public var governance: Governance

    public init(runbook: Runbook, state: RunState, journal: JournalWriter, actor: Actor,
                values: [String: String], runDirectory: String, governance: Governance = Governance()) {
        self.governance = governance
        self.runbook = runbook
        self.state = state
        self.journal = journal
        self.actor = actor
        self.values = values
        self.runDirectory = runDirectory
        secretValues = runbook.params.filter(\.secret).compactMap { values[$0.name] }.filter { !$0.isEmpty }
        var successor: [String: String?] = [:]
        var failure: [String: String?] = [:]
        for edge in runbook.edges {
            switch edge.kind {
            case .next, .jump: successor[edge.from] = edge.to
            case .failure: failure[edge.from] = edge.to
            case .reject: break
            }
        }
        self.successor = successor
        failureTarget = failure
        stepIndex = Dictionary(runbook.steps.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// Starts a run: writes `run.started` through `makeJournal`, then arrives at the first step.
    /// `runbook` carries the class the run goes under; `choice` says how it was chosen when that is
    /// not the class the runbook declares (`ClassChoice.decide`), and is recorded.
    public static func start(
        runbook: Runbook, runID: String, runDirectory: String, sha256: String, gitCommit: String?,
        values: [String: String], actor: Actor, runsheetVersion: String, governance: Governance = Governance(),
        choice: ClassChoice? = nil, makeJournal: (RunEvent) throws -> (JournalWriter, RunEvent)
    ) throws -> RunEngine {
        var params: [String: String] = [:]
        for parameter in runbook.params {
            if let value = values[parameter.name] { params[parameter.name] = parameter.secret ? ShellQuoting.mask : value }
        }
        let production = runbook.steps.filter { runbook.production || $0.production }.map(\.id)
        let classPolicy = governance.policy[runbook.releaseClass]
        let started = RunStarted(
            runId: runID, runbook: runbook.path, runbookId: runbook.id, title: runbook.title, sha256: sha256,
            gitCommit: gitCommit, params: params, releaseClass: runbook.releaseClass, stepHashes: StepHash.all(runbook),
            runsheetVersion: runsheetVersion, start: runbook.start,
            followUp: classPolicy.followUp == nil ? nil : RunStarted.FollowUpReview(
                roles: classPolicy.followUpRoles(in: runbook), within: classPolicy.followUpWithin ?? ClassPolicy.defaultFollowUpWithin),
            // What delivery metrics group by and count: a parameter of the same name wins over the front matter.
            service: values["service"] ?? runbook.service, environment: values["environment"] ?? runbook.environment,
            production: production.isEmpty ? nil : production,
            declaredClass: choice.flatMap { $0.declared == runbook.releaseClass ? nil : $0.declared },
            downgrade: choice?.downgrade)
        var first = try RunEvent(by: actor, .runStarted(started))
        first.seq = 1
        let (journal, written) = try makeJournal(first)
        let engine = RunEngine(runbook: runbook, state: RunState.fold([written]), journal: journal, actor: actor,
                               values: values, runDirectory: runDirectory, governance: governance)
        try engine.arrive(at: runbook.start)
        return engine
    }

    // MARK: - Queries

    public var currentStep: Step? { state.cursor.flatMap { stepIndex[$0] }.map { runbook.steps[$0] } }

    /// Steps settled (done, skipped or failed) against all steps.
    public var progress: (settled: Int, total: Int) {
        let settled = runbook.steps.filter { state.record($0.id).status.isSettled }.count
        return (settled, runbook.steps.count)
    }

    public func section(of step: Step) -> Section? {
        step.section.flatMap { id in runbook.sections.first { $0.id == id } }
    }

    /// True when a failure of `step` carries on (`On failure: continue`, its own or its sections').
    func continuesOnFailure(_ step: Step) -> Bool {
        if let own = step.onFailure { return own == .continue }
        var section = self.section(of: step)
        while let current = section {
            if let failure = current.onFailure { return failure == .continue }
            section = current.parent.flatMap { id in runbook.sections.first { $0.id == id } }
        }
        return false
    }

    /// Values for conditions: parameters plus the class.
    var conditionValues: [String: String] {
        var v = values
        v["class"] = state.releaseClass.rawValue
        return v
    }

    /// Built-in placeholder values.
    func builtin(_ name: String) -> String? {
        switch name {
        case "run.id": state.runID
        case "run.dir": runDirectory
        case "runbook.dir": (runbook.path as NSString).deletingLastPathComponent.isEmpty ? "." : (runbook.path as NSString).deletingLastPathComponent
        case "runbook.path": runbook.path
        case "class": state.releaseClass.rawValue
        case "actor": actor.name
        default: nil
        }
    }

    /// The command as the operator sees it: values substituted, secrets masked.
    public func display(_ command: Command) -> String { displayText(command.code) }

    /// Text with placeholders filled for display (secrets masked).
    public func displayText(_ text: String) -> String {
        Placeholders.display(text, params: runbook.params) { builtin($0) ?? values[$0] }
    }

    /// The command as executed: each placeholder a reference to its environment variable, written for its quoting context (see ShellSubstitution).
    func executable(_ command: Command) -> String {
        // sh-family shells read values from the environment (`placeholderEnvironment`), never from the text.
        ShellSubstitution.substitute(command.code, shell: command.shell, values: placeholderValues)
    }

    // MARK: - Actions

    @discardableResult
    func record(_ payload: EventPayload, step: String? = nil) throws -> RunEvent {
        let event = try RunEvent(by: actor, step: step, payload)
        let written = try journal.append(event)
        state.apply(written)
        return written
    }

    func requireOpen() throws -> Step {
        if let outcome = state.outcome { throw RunError.finished(outcome.rawValue) }
        guard let step = currentStep else { throw RunError.finished("at the end") }
        return step
    }


    /// Moves onto `target`, skipping steps whose condition does not hold, ending the run at the end.
    func arrive(at target: String?) throws {
        var target = target
        while let id = target, let index = stepIndex[id] {
            let step = runbook.steps[index]
            if let when = step.when, !when.holds(in: conditionValues) {
                let next = successor[id] ?? nil
                try record(.stepSkipped(StepSkipped(reason: "condition not met: \(when.text)", automatic: true, next: next)), step: id)
                target = next
                continue
            }
            if step.isGate, !classPolicy.applies(to: step) {
                let next = successor[id] ?? nil
                try record(.stepSkipped(StepSkipped(reason: "the \(state.releaseClass.rawValue) class policy does not apply this gate", automatic: true, next: next)), step: id)
                target = next
                continue
            }
            if state.record(id).status != .active { try record(.stepStarted(StepStarted()), step: id) }
            return
        }
        let outcome: RunState.Outcome = state.branch == "failure" ? .rolledBack : state.branch == "reject" ? .aborted : .completed
        try record(.runEnded(RunEnded(outcome: outcome)))
    }

    /// The policy of the run's class.
    public var classPolicy: ClassPolicy { governance.policy[state.releaseClass] }

    /// Why the current step may not be carried out now under the change calendar, or nil.
    public func calendarConflict(at date: Date = Date()) -> String? {
        guard let step = currentStep, !state.finished else { return nil }
        return governance.calendarConflict(for: step, in: runbook, state: state, at: date)
    }

    /// Refuses to carry out a production step outside the change calendar without an exception.
    func requireCalendar(_ step: Step) throws {
        if let conflict = governance.calendarConflict(for: step, in: runbook, state: state, at: Date()) {
            throw RunError.outsideCalendar(run: state.runID, step: step.id, conflict: conflict,
                                           roles: governance.exceptionRoles)
        }
    }

    public func complete() throws {
        let step = try requireOpen()
        try requireCalendar(step)
        if step.isGate {
            let status = GateStatus.evaluate(step: step, state: state, runbook: runbook, governance: governance)
            if !status.satisfied { throw RunError.gateWaiting(status.missing.joined(separator: " and ")) }
        }
        let next = successor[step.id] ?? nil
        try record(.stepCompleted(StepCompleted(next: next)), step: step.id)
        try arrive(at: next)
    }

    public func skip(reason: String) throws {
        let step = try requireOpen()
        guard !reason.trimmed.isEmpty else { throw RunError.reasonRequired("skip") }
        let next = successor[step.id] ?? nil
        try record(.stepSkipped(StepSkipped(reason: reason.trimmed, next: next)), step: step.id)
        try arrive(at: next)
    }

    public func fail(reason: String) throws {
        let step = try requireOpen()
        guard !reason.trimmed.isEmpty else { throw RunError.reasonRequired("fail") }
        let target = failureTarget[step.id] ?? nil
        try record(.stepFailed(StepFailed(reason: reason.trimmed, next: target)), step: step.id)
        // `On failure: continue` on the last step goes on to the end: the run completes.
        if target == nil, continuesOnFailure(step) { return try arrive(at: nil) }
        guard let target else {
            try record(.runEnded(RunEnded(outcome: .failed, reason: "step '\(step.id)' failed: \(reason.trimmed)")))
            return
        }
        if target != (successor[step.id] ?? nil) {
            try record(.branchTaken(BranchTaken(from: step.id, to: target, kind: "failure")), step: step.id)
        }
        try arrive(at: target)
    }

    public func note(_ text: String) throws {
        guard !text.trimmed.isEmpty else { throw RunError.reasonRequired("note") }
        try record(.note(NoteTaken(text: text.trimmed)), step: state.cursor)
    }

    /// A lesson: a note `runsheet update` proposes to keep in the runbook as a `Lesson:` annotation.
    public func lesson(_ text: String) throws {
        guard !text.trimmed.isEmpty else { throw RunError.reasonRequired("lesson") }
        try record(.note(NoteTaken(text: text.trimmed, lesson: true)), step: state.cursor)
    }

    /// Records a step the operator had to do that the runbook lacks, as done, before the step
    /// they are on; `runsheet update` proposes adding it to the runbook. Returns its id.
    @discardableResult
    public func addStep(title: String) throws -> String {
        let title = title.trimmed
        guard !title.isEmpty else { throw RunError.titleRequired }
        if let outcome = state.outcome { throw RunError.finished(outcome.rawValue) }
        let base = Slug.stepID(title)
        var id = base.isEmpty ? "added-step" : base
        var n = 2
        while stepIndex[id] != nil || state.steps[id] != nil {
            id = "\(base.isEmpty ? "added-step" : base)-\(n)"
            n += 1
        }
        // The operator did it before finishing the step they are on: it goes before that step.
        var added = StepAdded(title: title, before: nil, after: nil)
        if let cursor = state.cursor, let index = stepIndex[cursor] {
            added.before = cursor
            if index > 0 { added.after = runbook.steps[index - 1].id }
        } else if let last = runbook.steps.last {
            added.after = last.id
        }
        try record(.stepAdded(added), step: id)
        return id
    }

    public func back() throws {
        let step = try requireOpen()
        guard let index = stepIndex[step.id], index > 0 else { throw RunError.atFirstStep }
        try move(to: runbook.steps[index - 1].id, reason: "back")
    }

    public func goTo(_ id: String) throws {
        _ = try requireOpen()
        guard stepIndex[id] != nil else { throw RunError.noSuchStep(id) }
        try move(to: id, reason: "goto")
    }

    func move(to id: String, reason: String) throws {
        try record(.cursorMoved(CursorMoved(to: id, reason: reason)), step: id)
        if state.record(id).status == .pending { try record(.stepStarted(StepStarted()), step: id) }
    }

    /// The operator stops for now; the run stays resumable.
    public func pause() throws {
        guard !state.finished else { return }
        try record(.runPaused(RunPaused(at: state.cursor)))
    }

    public func abort(reason: String) throws {
        _ = try requireOpen()
        guard !reason.trimmed.isEmpty else { throw RunError.reasonRequired("abort") }
        try record(.runEnded(RunEnded(outcome: .aborted, reason: reason.trimmed)))
    }

    /// Records a resumed session, with what changed in the runbook since the run started.
    public func resume(sha256: String, changes: RunbookChanges) throws {
        var resumed = RunResumed(sha256: sha256)
        if !changes.isEmpty {
            resumed.changes = changes
            resumed.stepHashes = StepHash.all(runbook)
        }
        // The step we were on may be gone: continue at the first unsettled step after it.
        if let cursor = state.cursor, stepIndex[cursor] == nil {
            let next = runbook.steps.first { state.record($0.id).status == .pending }?.id
            resumed.cursor = next.map(RunResumed.Cursor.step) ?? .end
        }
        try record(.runResumed(resumed))
        if !state.finished, let cursor = state.cursor, state.record(cursor).status == .pending {
            try record(.stepStarted(StepStarted()), step: cursor)
        }
    }
}
