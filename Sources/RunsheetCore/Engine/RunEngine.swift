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
    public static func start(
        runbook: Runbook, runID: String, runDirectory: String, sha256: String, gitCommit: String?,
        values: [String: String], actor: Actor, runsheetVersion: String, governance: Governance = Governance(),
        makeJournal: (RunEvent) throws -> (JournalWriter, RunEvent)
    ) throws -> RunEngine {
        var params: [String: JSONValue] = [:]
        for parameter in runbook.params {
            if let value = values[parameter.name] { params[parameter.name] = .string(parameter.secret ? ShellQuoting.mask : value) }
        }
        var data: [String: JSONValue] = [
            "schema": .string(RunEvent.schema), "runId": .string(runID), "runbook": .string(runbook.path),
            "runbookId": .string(runbook.id), "title": .string(runbook.title), "sha256": .string(sha256),
            "params": .object(params), "class": .string(runbook.releaseClass.rawValue),
            "stepHashes": .object(StepHash.all(runbook).mapValues(JSONValue.string)),
            "runsheetVersion": .string(runsheetVersion),
        ]
        if let start = runbook.start { data["start"] = .string(start) }
        // What delivery metrics group by and count: a parameter of the same name wins over the front matter.
        if let service = values["service"] ?? runbook.service { data["service"] = .string(service) }
        if let environment = values["environment"] ?? runbook.environment { data["environment"] = .string(environment) }
        let production = runbook.steps.filter { runbook.production || $0.production }.map(\.id)
        if !production.isEmpty { data["production"] = .array(production.map(JSONValue.string)) }
        if let gitCommit { data["gitCommit"] = .string(gitCommit) }
        let classPolicy = governance.policy[runbook.releaseClass]
        if classPolicy.followUp != nil {
            data["followUp"] = .object(["roles": .array(classPolicy.followUpRoles(in: runbook).map(JSONValue.string)),
                                        "within": .int(classPolicy.followUpWithin ?? 5 * 86400)])
        }
        let first = RunEvent(seq: 1, time: Timestamp.now(), type: .runStarted, actor: actor.name, host: actor.host, via: actor.via, data: data)
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
    func record(_ type: EventType, step: String? = nil, _ data: [String: JSONValue] = [:]) throws -> RunEvent {
        let event = RunEvent(seq: 0, time: Timestamp.now(), type: type, actor: actor.name, host: actor.host, via: actor.via, step: step, data: data)
        let written = try journal.append(event)
        state.apply(written)
        return written
    }

    func requireOpen() throws -> Step {
        if let outcome = state.outcome { throw RunError.finished(outcome.rawValue) }
        guard let step = currentStep else { throw RunError.finished("at the end") }
        return step
    }

    static func next(_ target: String?) -> [String: JSONValue] { target.map { ["next": .string($0)] } ?? [:] }

    /// Moves onto `target`, skipping steps whose condition does not hold, ending the run at the end.
    func arrive(at target: String?) throws {
        var target = target
        while let id = target, let index = stepIndex[id] {
            let step = runbook.steps[index]
            if let when = step.when, !when.holds(in: conditionValues) {
                let next = successor[id] ?? nil
                try record(.stepSkipped, step: id, ["reason": .string("condition not met: \(when.text)"), "automatic": true].merging(Self.next(next)) { a, _ in a })
                target = next
                continue
            }
            if step.isGate, !classPolicy.applies(to: step) {
                let next = successor[id] ?? nil
                try record(.stepSkipped, step: id, ["reason": .string("the \(state.releaseClass.rawValue) class policy does not apply this gate"), "automatic": true].merging(Self.next(next)) { a, _ in a })
                target = next
                continue
            }
            if state.record(id).status != .active { try record(.stepStarted, step: id) }
            return
        }
        let outcome: RunState.Outcome = state.branch == "failure" ? .rolledBack : state.branch == "reject" ? .aborted : .completed
        try record(.runEnded, ["outcome": .string(outcome.rawValue)])
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
        try record(.stepCompleted, step: step.id, Self.next(next))
        try arrive(at: next)
    }

    public func skip(reason: String) throws {
        let step = try requireOpen()
        guard !reason.trimmed.isEmpty else { throw RunError.reasonRequired("skip") }
        let next = successor[step.id] ?? nil
        try record(.stepSkipped, step: step.id, ["reason": .string(reason.trimmed)].merging(Self.next(next)) { a, _ in a })
        try arrive(at: next)
    }

    public func fail(reason: String) throws {
        let step = try requireOpen()
        guard !reason.trimmed.isEmpty else { throw RunError.reasonRequired("fail") }
        let target = failureTarget[step.id] ?? nil
        try record(.stepFailed, step: step.id, ["reason": .string(reason.trimmed)].merging(Self.next(target)) { a, _ in a })
        // `On failure: continue` on the last step goes on to the end: the run completes.
        if target == nil, continuesOnFailure(step) { return try arrive(at: nil) }
        guard let target else {
            try record(.runEnded, ["outcome": .string(RunState.Outcome.failed.rawValue), "reason": .string("step '\(step.id)' failed: \(reason.trimmed)")])
            return
        }
        if target != (successor[step.id] ?? nil) {
            try record(.branchTaken, step: step.id, ["from": .string(step.id), "to": .string(target), "kind": "failure"])
        }
        try arrive(at: target)
    }

    public func note(_ text: String) throws {
        guard !text.trimmed.isEmpty else { throw RunError.reasonRequired("note") }
        try record(.note, step: state.cursor, ["text": .string(text.trimmed)])
    }

    /// A lesson: a note `runsheet update` proposes to keep in the runbook as a `Lesson:` annotation.
    public func lesson(_ text: String) throws {
        guard !text.trimmed.isEmpty else { throw RunError.reasonRequired("lesson") }
        try record(.note, step: state.cursor, ["text": .string(text.trimmed), "lesson": .bool(true)])
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
        var data: [String: JSONValue] = ["title": .string(title)]
        if let cursor = state.cursor, let index = stepIndex[cursor] {
            data["before"] = .string(cursor)
            if index > 0 { data["after"] = .string(runbook.steps[index - 1].id) }
        } else if let last = runbook.steps.last {
            data["after"] = .string(last.id)
        }
        try record(.stepAdded, step: id, data)
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
        try record(.cursorMoved, step: id, ["to": .string(id), "reason": .string(reason)])
        if state.record(id).status == .pending { try record(.stepStarted, step: id) }
    }

    /// The operator stops for now; the run stays resumable.
    public func pause() throws {
        guard !state.finished else { return }
        try record(.runPaused, ["at": state.cursor.map(JSONValue.string) ?? .null])
    }

    public func abort(reason: String) throws {
        _ = try requireOpen()
        guard !reason.trimmed.isEmpty else { throw RunError.reasonRequired("abort") }
        try record(.runEnded, ["outcome": .string(RunState.Outcome.aborted.rawValue), "reason": .string(reason.trimmed)])
    }

    /// Records a resumed session, with what changed in the runbook since the run started.
    public func resume(sha256: String, changes: RunbookChanges) throws {
        var data: [String: JSONValue] = ["sha256": .string(sha256)]
        if !changes.isEmpty {
            data["changes"] = .object([
                "added": .array(changes.added.map(JSONValue.string)),
                "removed": .array(changes.removed.map(JSONValue.string)),
                "changed": .array(changes.changed.map(JSONValue.string)),
            ])
            data["stepHashes"] = .object(StepHash.all(runbook).mapValues(JSONValue.string))
        }
        // The step we were on may be gone: continue at the first unsettled step after it.
        if let cursor = state.cursor, stepIndex[cursor] == nil {
            let next = runbook.steps.first { state.record($0.id).status == .pending }?.id
            data["cursor"] = next.map(JSONValue.string) ?? .null
        }
        try record(.runResumed, data)
        if !state.finished, let cursor = state.cursor, state.record(cursor).status == .pending {
            try record(.stepStarted, step: cursor)
        }
    }
}

/// A hash per step over what the operator sees and runs, to detect edits between sessions.
public enum StepHash {
    public static func of(_ step: Step) -> String {
        var copy = step
        copy.line = 0
        copy.column = 0
        copy.boxOffset = nil
        // Where a step sits in the file is not what the operator sees: edits elsewhere must not change it.
        copy.trailLine = nil
        copy.trailColumn = nil
        copy.endLine = nil
        copy.estimateLine = nil
        copy.annotationAnchor = nil
        copy.commands = step.commands.map { var c = $0; c.line = 0; return c }
        let data = (try? RunEvent.canonicalEncoder.encode(copy)) ?? Data(step.id.utf8)
        return String(SHA256Hex.of(data).prefix(16))
    }

    public static func all(_ runbook: Runbook) -> [String: String] {
        Dictionary(runbook.steps.map { ($0.id, of($0)) }, uniquingKeysWith: { a, _ in a })
    }
}

/// Steps added, removed or changed between the runbook a run started on and the one now.
public struct RunbookChanges: Sendable, Equatable {
    public var added: [String] = []
    public var removed: [String] = []
    public var changed: [String] = []

    public var isEmpty: Bool { added.isEmpty && removed.isEmpty && changed.isEmpty }

    public init(recorded: [String: String], runbook: Runbook) {
        let now = StepHash.all(runbook)
        added = runbook.steps.map(\.id).filter { recorded[$0] == nil }
        changed = runbook.steps.map(\.id).filter { recorded[$0] != nil && recorded[$0] != now[$0] }
        removed = recorded.keys.filter { now[$0] == nil }.sorted()
    }
}
