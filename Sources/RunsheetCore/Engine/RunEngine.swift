import Foundation

/// Who is acting: recorded on every event.
public struct Actor: Sendable, Equatable {
    public var name: String
    public var host: String
    /// `terminal`, `script` or `ci`.
    public var via: String
    /// The name in the canonical form comparisons use (`PersonName.canonical`), and the operating
    /// system's user id and login name of the process: recorded on every event beside the name
    /// as typed (journal format 1.1), so `audit` shows who claimed what from which account.
    public var canonical: String?
    public var uid: Int?
    public var login: String?

    public init(name: String, host: String, via: String, canonical: String? = nil, uid: Int? = nil, login: String? = nil) {
        self.name = name
        self.host = host
        self.via = via
        self.canonical = canonical
        self.uid = uid
        self.login = login
    }
}

/// Errors an operator can act on.
public enum RunError: Error, Equatable, LocalizedError {
    /// `near` is the closest step id, when one is a small edit away.
    case noSuchStep(String, near: String?)
    case finished(String)
    case reasonRequired(String)
    case noCommand(String)
    case atFirstStep
    case titleRequired
    case gateWaiting(String)
    case outsideCalendar(run: String, step: String, conflict: String, roles: [String])
    /// A halt (or a halts file that does not verify) stops the production step: the sentence says why.
    case halted(step: String, String)
    /// An open run started before this one changes one of its configuration items: the sentence names it.
    case itemHeld(step: String, String)
    /// A move (done, skip, goto...) to `target` (nil: the end) past a gate whose rule is not met.
    case pastGate(action: String, target: String?, gate: String, run: String, needs: String, atGate: Bool)
    /// Skipping a gate that applies to the run: only a waiver lets it through.
    case gateNotSkippable(run: String, gate: String, releaseClass: String, needs: String, roles: [String])
    /// Marking a step done whose command did not pass, or that failed, without a reason.
    case forceNeedsReason(step: String, why: String)
    /// The run's journal format cannot record `what`.
    case olderJournal(what: String, format: String)
    /// The person starting a run with production steps is not named in the roles file.
    case starterNotInRoles(actor: String, rolesFile: String, step: String)
    /// `run --change` gave a reference the policy's `change-record` does not accept.
    case badChangeRecord(problem: String)
    /// The policy requires a change record for the run's class, and none was given.
    case changeRecordRequired(runbook: String, releaseClass: String, step: String, patterns: [String])
    /// A command of the step was recorded as started with no result: the operator decides first.
    case mayHaveRun(step: String, command: Int, summary: String)
    /// `back` or `goto` from a step whose check failed and waits for a decision.
    case failedCheckUndecided(step: String, summary: String, action: String)
    /// At resume: the step that waits for a decision (a failed check, a command that may have
    /// run) is no longer in the runbook.
    case undecidedStepGone(step: String, what: String)
    /// A run with production steps, in a repository without a roles file to name who may start it.
    case productionWithoutRoles(runbook: String, step: String)
    /// Typed text holds a control character it may not (`TypedText.refusal`, the sentence).
    case controlCharacter(String)
    /// The step runs a command flagged `interactive`, and no person is at a terminal to give it.
    case needsTerminal(String)

    public var errorDescription: String? {
        switch self {
        case .noSuchStep(let id, let near?): "there is no step '\(id)' in this runbook; did you mean '\(near)'?"
        case .noSuchStep(let id, nil): "there is no step '\(id)' in this runbook; 'runsheet compile' or '--dry-run' lists every step id"
        case .finished(let outcome): "the run has already ended (\(outcome)); start a new run to do it again"
        case .reasonRequired(let action): "\(action) needs a reason, e.g. '\(action) the host is already patched'"
        case .noCommand(let id): "step '\(id)' has no command marked to run"
        case .atFirstStep: "this is the first step; there is nothing to go back to"
        case .titleRequired: "add needs the step's title, e.g. 'add Flush the CDN cache'"
        case .gateWaiting(let needs): "this gate still needs \(needs); sign with 'runsheet sign', or use 'wait'"
        case .outsideCalendar(let run, let step, let conflict, let roles):
            "step '\(step)' is a production change and \(conflict); to go ahead, a \(roles.joined(separator: " or ")) must grant an exception: \(Governance.exceptionCommand(run: run, step: step))"
        case .halted(let step, let sentence): "step '\(step)' is a production change and \(sentence); nothing was started"
        case .itemHeld(let step, let sentence): "step '\(step)' is a production change and \(sentence); nothing was started"
        case .pastGate(let action, let target, let gate, let run, let needs, let atGate):
            "\(action) would take the run \(target.map { "to step '\($0)'" } ?? "to its end") past gate '\(gate)', which \(needs); " +
                (atGate ? "" : "go back to the gate ('goto \(gate)') and ") + "wait for its sign-offs ('runsheet sign \(run) \(gate)')"
        case .gateNotSkippable(let run, let gate, let releaseClass, let needs, let roles):
            "gate '\(gate)' applies to this \(releaseClass) run and cannot be skipped; it \(needs), or a waiver from a " +
                "\(roles.joined(separator: " or ")) who neither started nor drove the run: runsheet sign \(run) \(gate) --waive --reason \"...\""
        case .forceNeedsReason(let step, let why):
            "step '\(step)' \(why); to mark it done anyway, say why: 'done REASON' (recorded as a forced step), or fail or skip it"
        case .starterNotInRoles(let actor, let rolesFile, let step):
            "\(actor) is not named in \(rolesFile), and step '\(step)' is a production change; only people the roles file names may start this runbook (check the name given with --as, RUNSHEET_USER or git config user.email)"
        case .badChangeRecord(let problem):
            "\(problem); give the reference of the approved change record with --change, nothing was written"
        case .changeRecordRequired(let runbook, let releaseClass, let step, let patterns):
            "\(Policy.relativePath) requires a change record for \(releaseClass) runs, and step '\(step)' of \(runbook) is a production change; " +
            "name the approved change record with --change\(patterns.isEmpty ? "" : " (a reference matching \(patterns.map { "'\($0)'" }.joined(separator: " and ")))"), nothing was written"
        case .mayHaveRun(let step, let command, let summary):
            "command \(command) of step '\(step)' \(summary); decide first: 'run' runs it again, 'done REASON' marks the step done (recorded as forced), 'fail REASON' fails it"
        case .failedCheckUndecided(let step, let summary, let action):
            "step '\(step)' failed its check (\(summary)) and waits for a decision; '\(action)' does not leave it undecided: 'run' runs it again, 'skip REASON', 'done REASON' (recorded as forced), 'fail REASON' or 'abort REASON'"
        case .undecidedStepGone(let step, let what):
            "step '\(step)' \(what) and waits for a decision, but the runbook no longer has it; nothing was recorded: put the step back (with the same id) and resume to decide (run it again, skip, done, fail or abort, with a reason)"
        case .productionWithoutRoles(let runbook, let step):
            "step '\(step)' of \(runbook) is a production change, and only people a roles file names may start it, but no roles file applies; add .runsheet/roles.yaml at the repository root naming who may (docs/FORMAT.md, \"The roles file\")"
        case .controlCharacter(let refusal): refusal
        case .needsTerminal(let step):
            "step '\(step)' runs an interactive command, which needs a person at a terminal; nothing was run and the step is still open: run it from 'runsheet resume' on a terminal, or mark it done or skip it with a reason"
        case .olderJournal(let what, let format):
            "this run's journal is \(format), started by an older runsheet, which cannot record \(what); fail or skip the step with a reason, or start a new run"
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
    /// The secret values masked in what the operator types (notes, reasons, titles): those of at
    /// least 4 characters, so a short one does not blot out ordinary words.
    let typedSecrets: [String]
    let successor: [String: String?]
    let failureTarget: [String: String?]
    /// Where each gate's `On reject` goes (the first, as written).
    let rejectTarget: [String: String?]
    let stepIndex: [String: Int]
    /// The roles file, class policy and change calendar that apply.
    public var governance: Governance
    /// Where the run's notifications go (`.runsheet/config.yaml`); nil sends none.
    public var notifier: RunNotifier?
    /// Names the earlier open run that changes one of this run's configuration items, asked
    /// again before each production step starts (RunItemHolds.swift); nil: not asked.
    public var itemHolder: (@Sendable (RunState) -> String?)?

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
        typedSecrets = secretValues.filter { $0.count >= TypedSecrets.minimumLength }
        var successor: [String: String?] = [:]
        var failure: [String: String?] = [:]
        var reject: [String: String?] = [:]
        for edge in runbook.edges {
            switch edge.kind {
            case .next, .jump: successor[edge.from] = edge.to
            case .failure: failure[edge.from] = edge.to
            case .reject: if reject[edge.from] == nil { reject[edge.from] = .some(edge.to) }
            }
        }
        self.successor = successor
        failureTarget = failure
        rejectTarget = reject
        stepIndex = Dictionary(runbook.steps.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// Starts a run: writes `run.started` through `makeJournal`, then arrives at the first step.
    /// `runbook` carries the class the run goes under; `choice` says how it was chosen when that is
    /// not the class the runbook declares (`ClassChoice.decide`), and is recorded.
    public static func start(
        runbook: Runbook, runID: String, runDirectory: String, sha256: String, gitCommit: String?,
        values: [String: String], actor: Actor, runsheetVersion: String, governance: Governance = Governance(),
        choice: ClassChoice? = nil, lock: LockClaim? = nil, change: String? = nil, notifier: RunNotifier? = nil,
        makeJournal: (RunEvent) throws -> (JournalWriter, RunEvent)
    ) throws -> RunEngine {
        let production = runbook.steps.filter { runbook.production || $0.production }.map(\.id)
        try requireStarter(actor.name, of: runbook, governance: governance)
        try requireInitiator(actor.name, of: runbook, governance: governance)
        try requireChangeRecord(change, of: runbook, governance: governance)
        let plan = try RunPlan.of(runbook, sha256: sha256, values: values, change: change)
        let classPolicy = governance.policy[runbook.releaseClass]
        var started = RunStarted(
            runId: runID, runbook: runbook.path, runbookId: runbook.id, title: runbook.title, sha256: sha256,
            gitCommit: gitCommit, params: plan.params, releaseClass: runbook.releaseClass, stepHashes: StepHash.all(runbook),
            runsheetVersion: runsheetVersion, start: runbook.start,
            followUp: classPolicy.followUp == nil ? nil : RunStarted.FollowUpReview(
                roles: classPolicy.followUpRoles(in: runbook), within: classPolicy.followUpWithin ?? ClassPolicy.defaultFollowUpWithin),
            // What delivery metrics group by and count: a parameter of the same name wins over the front matter.
            service: values["service"] ?? runbook.service, environment: values["environment"] ?? runbook.environment,
            production: production.isEmpty ? nil : production,
            declaredClass: choice.flatMap { $0.declared == runbook.releaseClass ? nil : $0.declared },
            downgrade: choice?.downgrade)
        started.plan = plan.hash
        started.includes = plan.includes.isEmpty ? nil : plan.includes
        started.secrets = plan.secrets.isEmpty ? nil : plan.secrets
        started.rules = governance.ruleFiles
        started.change = change
        if let lock {  // EnvironmentLock: only a run that takes a lock writes 1.3
            started.lock = lock
            started.schema = JournalFormat.writtenWithLock
        }
        if classPolicy.requiresSignatures {  // 1.4: an unsigned act no longer counts in this run
            started.signatures = RunState.signaturesRequiredValue
            started.schema = JournalFormat.writtenSigned
        }
        // 1.5: the run may record notifications that failed.
        if notifier.map({ !$0.targets.isEmpty }) ?? false { started.schema = JournalFormat.writtenNotifying }
        var first = try RunEvent(by: actor, .runStarted(started))
        first.seq = 1
        let (journal, written) = try makeJournal(first)
        let engine = RunEngine(runbook: runbook, state: RunState.fold([written]), journal: journal, actor: actor,
                               values: values, runDirectory: runDirectory, governance: governance)
        engine.notifier = notifier
        try engine.arrive(at: runbook.start)
        return engine
    }

    /// A change reference given must have the policy's form; a run with production steps under a
    /// class whose policy requires a change record must name one. Decided before anything is written.
    public static func requireChangeRecord(_ change: String?, of runbook: Runbook, governance: Governance) throws {
        let rule = governance.policy[runbook.releaseClass].changeRecord ?? ChangeRecordRule()
        if let change {
            if let problem = rule.problem(with: change) { throw RunError.badChangeRecord(problem: problem) }
            return
        }
        guard rule.isRequired, let first = runbook.steps.first(where: { runbook.production || $0.production }) else { return }
        throw RunError.changeRecordRequired(runbook: runbook.path, releaseClass: runbook.releaseClass.rawValue, step: first.id, patterns: rule.patterns)
    }

    /// A run that changes production is started by someone the repository's roles file names; with
    /// no roles file nobody is named, so nobody may (fail closed).
    /// Checked again at every resume: production steps added to the runbook later count too.
    public static func requireStarter(_ person: String, of runbook: Runbook, governance: Governance) throws {
        guard let first = runbook.steps.first(where: { runbook.production || $0.production }) else { return }
        guard let roles = governance.roles else { throw RunError.productionWithoutRoles(runbook: runbook.path, step: first.id) }
        guard roles.roles(of: person).isEmpty else { return }
        throw RunError.starterNotInRoles(actor: person, rolesFile: roles.path, step: first.id)
    }

    // MARK: - Queries

    public var currentStep: Step? { state.cursor.flatMap { stepIndex[$0] }.map { runbook.steps[$0] } }

    /// Steps settled (done, skipped or failed) against the steps on the run's path (`pathProgress`).
    public var progress: (settled: Int, total: Int) { pathProgress() }

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

    /// Text with placeholders filled for display (secrets masked, control characters escaped
    /// but for line breaks and tabs: `ShownText`).
    public func displayText(_ text: String) -> String {
        ShownText.escaped(Placeholders.display(text, params: runbook.params) { builtin($0) ?? values[$0] }, keepingLineBreaks: true)
    }

    /// The command as executed: each placeholder a reference to its environment variable, written for its quoting context (see ShellSubstitution).
    func executable(_ command: Command) -> String {
        // sh-family shells read values from the environment (`placeholderEnvironment`), never from the text.
        ShellSubstitution.substitute(command.code, shell: command.shell, values: placeholderValues)
    }

    // MARK: - Actions

    @discardableResult
    func record(_ payload: EventPayload, step: String? = nil) throws -> RunEvent {
        // Checked against the journal's head under its lock, which also folds in what others
        // (signers) wrote since: an event that no longer applies is refused, never written.
        let written = try journal.append(try RunEvent(by: actor, step: step, payload), onto: &state) { _ in }
        if notifier != nil {
            notify(after: written)
            recordNotificationFailures()
        }
        return written
    }

    /// What the operator typed, as it may be recorded: refused when it holds a control character
    /// it may not (`TypedText`), trimmed, and with every secret value of at least 4 characters
    /// masked, as command output is, before any event holds it.
    func typed(_ text: String, _ what: String, as kind: TypedText.Kind = .text) throws -> String {
        let text = text.trimmed
        if let refusal = TypedText.refusal(text, as: kind, what: what) { throw RunError.controlCharacter(refusal) }
        return TypedSecrets.mask(text, values: typedSecrets)
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
        if state.branch == "failure" {
            // Rolled back only when the rollback was carried out: every step of it done, none forced.
            let steps = rollbackSteps().map { ($0, state.record($0)) }
            let done = steps.filter { $0.1.status == .done && !$0.1.forced }
            let unfinished = steps.first { record in
                record.1.forced || record.1.status == .failed || (record.1.status == .skipped && !record.1.automatic)
                    || record.1.status == .pending || record.1.status == .active
            }
            if let unfinished {
                let how = unfinished.1.forced ? "was forced" : unfinished.1.status == .failed ? "failed"
                    : unfinished.1.status == .skipped ? "was skipped" : "was never done"
                try record(.runEnded(RunEnded(outcome: .failed, reason: "the rollback did not complete: step '\(unfinished.0)' \(how)")))
            } else if done.isEmpty {
                try record(.runEnded(RunEnded(outcome: .failed, reason: "the rollback did not complete: none of its steps was done")))
            } else {
                try record(.runEnded(RunEnded(outcome: .rolledBack)))
            }
            return
        }
        try record(.runEnded(RunEnded(outcome: state.branch == "reject" ? .aborted : .completed)))
    }

    /// The steps of the rollback the run took: every step of the branch section its failure branch
    /// entered (whatever the operator did in between), else the steps settled since the branch.
    func rollbackSteps() -> [String] {
        guard let target = state.rollbackTarget, let first = stepIndex[target].map({ runbook.steps[$0] }),
              let section = self.section(of: first), section.branch else { return state.rollback }
        func inside(_ id: String?) -> Bool {
            var current = id
            while let id = current {
                if id == section.id { return true }
                current = runbook.sections.first { $0.id == id }?.parent
            }
            return false
        }
        return runbook.steps.filter { inside($0.section) }.map(\.id)
    }

    /// The policy of the run's class.
    public var classPolicy: ClassPolicy { governance.policy[state.releaseClass] }

    /// Why the current step may not be carried out now under the change calendar, or nil.
    public func calendarConflict(at date: Date = Date()) -> String? {
        guard let step = currentStep, !state.finished else { return nil }
        if let halt = governance.haltBlock(for: step, in: runbook, state: state, at: date) { return halt.sentence(roles: governance.exceptionRoles) }
        return governance.calendarConflict(for: step, in: runbook, state: state, at: date)
    }

    /// Refuses to carry out a production step outside the change calendar without an exception.
    func requireCalendar(_ step: Step) throws {
        try requireNoHalt(step)
        if let conflict = governance.calendarConflict(for: step, in: runbook, state: state, at: Date()) {
            throw RunError.outsideCalendar(run: state.runID, step: step.id, conflict: conflict,
                                           roles: governance.exceptionRoles)
        }
    }

    /// Why marking the step done would force it: its last command attempt did not pass, or it
    /// failed and no command has passed since; nil when it may simply be done.
    public func forceNeeded(_ step: Step) -> String? {
        let record = state.record(step.id)
        if let unfinished = record.unfinished { return "has a command that \(unfinished.summary)" }
        if let last = record.commands.last, !last.passed {
            let how = last.timedOut ? "timed out" : last.interrupted ? "was interrupted"
                : last.exitCode.map { "exited \($0)" } ?? "was killed"
            return "has a command that did not pass (it \(how))"
        }
        if record.status == .failed, record.commands.last?.passed != true { return "failed" + (record.reason.map { " (\($0))" } ?? "") }
        return nil
    }

    /// Marks the step done and goes on. A step whose command did not pass, or that failed, is
    /// done only with a `reason`, recorded as `step.forced`; a gate only once its rule is met.
    public func complete(reason: String? = nil) throws {
        let step = try requireOpen()
        let reason = try reason.map { try typed($0, "the reason") }
        try requireCalendar(step)
        if step.isGate {
            let status = GateStatus.evaluate(step: step, state: state, runbook: runbook, governance: governance)
            if !status.satisfied { throw RunError.gateWaiting(status.missing.joined(separator: " and ")) }
        }
        let next = successor[step.id] ?? nil
        try requireWithinReach(next, action: "done")
        if reason?.isBlank ?? true, let unfinished = state.record(step.id).unfinished {
            throw RunError.mayHaveRun(step: step.id, command: unfinished.index, summary: unfinished.summary)
        }
        if let why = forceNeeded(step) {
            guard let reason, !reason.isBlank else { throw RunError.forceNeedsReason(step: step.id, why: why) }
            try requireFormat(1, for: "a forced step")
            try record(.stepForced(StepForced(reason: reason, overrode: overridden(step), next: next)), step: step.id)
        } else {
            if let reason, !reason.isBlank { try record(.note(NoteTaken(text: reason)), step: step.id) }
            try record(.stepCompleted(StepCompleted(next: next)), step: step.id)
        }
        try arrive(at: next)
    }

    /// The exit code of the last attempt of each command of `step` that did not pass.
    func overridden(_ step: Step) -> [Int?] {
        var last: [Int: RunState.CommandRecord] = [:]
        for command in state.record(step.id).commands { last[command.index] = command }
        let failed = last.keys.sorted().compactMap { last[$0] }.filter { !$0.passed }.map(\.exitCode)
        // A command that may have run has no exit code to set aside: null, as for a killed one.
        return failed + (state.record(step.id).unfinished == nil ? [] : [nil])
    }

    public func skip(reason: String) throws {
        let step = try requireOpen()
        try requireDecided(step)
        guard !reason.isBlank else { throw RunError.reasonRequired("skip") }
        let reason = try typed(reason, "the reason to skip")
        if applies(step) {
            let status = GateStatus.evaluate(step: step, state: state, runbook: runbook, governance: governance)
            if !status.satisfied {
                throw RunError.gateNotSkippable(run: state.runID, gate: step.id, releaseClass: state.releaseClass.rawValue,
                                                needs: "still needs " + status.missing.joined(separator: " and "),
                                                roles: governance.exceptionRoles)
            }
        }
        let next = successor[step.id] ?? nil
        try requireWithinReach(next, action: "skip")
        try record(.stepSkipped(StepSkipped(reason: reason, next: next)), step: step.id)
        try arrive(at: next)
    }

    public func fail(reason: String) throws {
        let step = try requireOpen()
        guard !reason.isBlank else { throw RunError.reasonRequired("fail") }
        let reason = try typed(reason, "the reason the step failed")
        // A gate that fails never carries on past itself (`On failure: continue` of its section
        // included): the run ends failed unless the gate names a branch of its own.
        if applies(step), continuesOnFailure(step),
           !GateStatus.evaluate(step: step, state: state, runbook: runbook, governance: governance).satisfied {
            try record(.stepFailed(StepFailed(reason: reason, next: nil)), step: step.id)
            try record(.runEnded(RunEnded(outcome: .failed, reason: "gate '\(step.id)' failed: \(reason)")))
            return
        }
        let target = failureTarget[step.id] ?? nil
        // A gate's own On failure is the runbook's rule for a gate that failed; any other failure
        // target must be within reach.
        if let target, !step.isGate { try requireWithinReach(target, action: "fail") }
        try record(.stepFailed(StepFailed(reason: reason, next: target)), step: step.id)
        // `On failure: continue` on the last step goes on to the end: the run completes.
        if target == nil, continuesOnFailure(step) { return try arrive(at: nil) }
        guard let target else {
            try record(.runEnded(RunEnded(outcome: .failed, reason: "step '\(step.id)' failed: \(reason)")))
            return
        }
        if target != (successor[step.id] ?? nil) {
            try record(.branchTaken(BranchTaken(from: step.id, to: target, kind: "failure")), step: step.id)
        }
        try arrive(at: target)
    }

    public func note(_ text: String) throws {
        guard !text.isBlank else { throw RunError.reasonRequired("note") }
        try record(.note(NoteTaken(text: try typed(text, "the note"))), step: state.cursor)
    }

    /// A lesson: a note `runsheet update` proposes to keep in the runbook as a `Lesson:` annotation.
    public func lesson(_ text: String) throws {
        guard !text.isBlank else { throw RunError.reasonRequired("lesson") }
        try record(.note(NoteTaken(text: try typed(text, "the lesson"), lesson: true)), step: state.cursor)
    }

    /// Records a step the operator had to do that the runbook lacks, as done, before the step
    /// they are on; `runsheet update` proposes adding it to the runbook. Returns its id.
    @discardableResult
    public func addStep(title: String) throws -> String {
        guard !title.isBlank else { throw RunError.titleRequired }
        // Masked before its id is made from it: the id must not spell a secret either.
        let title = try typed(title, "the step's title", as: .title)
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
        try requireDecided(step)
        try requireNoFailedCheck(step, action: "back")
        guard let index = stepIndex[step.id], index > 0 else { throw RunError.atFirstStep }
        try move(to: runbook.steps[index - 1].id, reason: "back")
    }

    public func goTo(_ id: String) throws {
        let step = try requireOpen()
        try requireDecided(step)
        try requireNoFailedCheck(step, action: "goto")
        guard stepIndex[id] != nil else {
            throw RunError.noSuchStep(id, near: EditDistance.closest(to: id, in: runbook.steps.map(\.id), maximum: max(2, id.count / 3)))
        }
        try move(to: id, reason: "goto")
    }

    func move(to id: String, reason: String) throws {
        try requireWithinReach(id, action: reason)
        try record(.cursorMoved(CursorMoved(to: id, reason: reason)), step: id)
        if state.record(id).status == .pending { try record(.stepStarted(StepStarted()), step: id) }
    }

    /// Refuses to leave a step with a command that may have run (started, no result recorded)
    /// until the operator has decided: run it again, mark the step done with a reason, or fail it.
    func requireDecided(_ step: Step) throws {
        guard let unfinished = state.record(step.id).unfinished else { return }
        throw RunError.mayHaveRun(step: step.id, command: unfinished.index, summary: unfinished.summary)
    }

    /// Refuses to move away from a step whose check failed, by `back` or `goto`, before the
    /// operator has decided what happens to it: a move would leave it open behind the run, and
    /// the run could end without that decision on record.
    func requireNoFailedCheck(_ step: Step, action: String) throws {
        guard let failed = state.record(step.id).failedCheck else { return }
        throw RunError.failedCheckUndecided(step: step.id, summary: failed.failureSummary, action: action)
    }

    /// The command of the current step that may have run, if any: the decision the walk-through asks for.
    public var unfinishedCommand: RunState.UnfinishedCommand? {
        guard !state.finished, let step = currentStep else { return nil }
        return state.record(step.id).unfinished
    }

    /// The operator stops for now; the run stays resumable.
    public func pause() throws {
        guard !state.finished else { return }
        try record(.runPaused(RunPaused(at: state.cursor)))
    }

    public func abort(reason: String) throws {
        _ = try requireOpen()
        guard !reason.isBlank else { throw RunError.reasonRequired("abort") }
        try record(.runEnded(RunEnded(outcome: .aborted, reason: try typed(reason, "the reason to abort"))))
    }

    /// Records a resumed session, with what changed in the runbook since the run started.
    public func resume(sha256: String, changes: RunbookChanges) throws {
        let earlier = RunPlan(runbookSHA256: state.runbookSHA256, includes: state.includes, params: state.params, secrets: state.secretDigests, change: state.changeRecord)
        let plan = try RunPlan.of(runbook, sha256: sha256, values: values, recorded: state.secretDigestHistory, change: state.changeRecord)
        var resumed = RunResumed(sha256: sha256)
        // Other rules apply from here on (an edit to a policy, roles or calendar file): say so.
        if let recorded = state.rules, recorded != governance.ruleFiles { resumed.rules = governance.ruleFiles }
        // The policy now requires signatures: the stricter rule applies from here on, recorded.
        if governance.policy[state.releaseClass].requiresSignatures, !state.signaturesRequired { resumed.signatures = RunState.signaturesRequiredValue }
        if !changes.isEmpty {
            resumed.changes = changes
            resumed.stepHashes = StepHash.all(runbook)
        }
        // The step we were on may be gone: continue at the first unsettled step after it; but
        // not from a step that waits for a decision, which an edit to the runbook cannot make.
        if let cursor = state.cursor, stepIndex[cursor] == nil {
            let record = state.record(cursor)
            if let failed = record.failedCheck {
                throw RunError.undecidedStepGone(step: cursor, what: "failed its check (\(failed.failureSummary))")
            }
            if let unfinished = record.unfinished {
                throw RunError.undecidedStepGone(step: cursor, what: "has command \(unfinished.index) that \(unfinished.summary)")
            }
            // The first step still open in the runbook's order: reached but unsettled counts as
            // open, so no step is passed over without a recorded decision.
            let next = runbook.steps.first { !state.record($0.id).status.isSettled }?.id
            resumed.cursor = next.map(RunResumed.Cursor.step) ?? .end
        }
        try record(.runResumed(resumed))
        // What a signature approves changed: record it, and earlier signatures no longer count.
        if state.plan != nil, plan.hash != state.plan {
            var reasons = plan.differences(from: earlier)
            if let index = reasons.firstIndex(of: "the runbook changed"), !changes.isEmpty { reasons[index] += " (\(changes.summary))" }
            try record(.runChanged(RunChanged(plan: plan.hash, reasons: reasons, sha256: sha256, params: plan.params,
                                              includes: plan.includes, secrets: plan.secrets, steps: changes.changed)))
        }
        // A cursor past a gate that is not approved (an edit to the runbook, or a journal from a
        // runsheet that let it through) goes back to that gate.
        if !state.finished, let cursor = state.cursor, let gate = barrier(before: cursor) {
            try record(.cursorMoved(CursorMoved(to: gate.id, reason: "gate")), step: gate.id)
        }
        if !state.finished, let cursor = state.cursor, state.record(cursor).status == .pending {
            try record(.stepStarted(StepStarted()), step: cursor)
        }
    }
}
