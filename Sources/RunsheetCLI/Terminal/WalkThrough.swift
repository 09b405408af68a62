import Foundation
import RunsheetCore
import Synchronization

/// Drives a run: interactively on a terminal, line by line from a script, or unattended.
final class WalkThrough {
    let engine: RunEngine
    let terminal: any Terminal
    let runner = CommandRunner()
    let style: Style
    let started = Date()
    /// Set by Ctrl-C; what waits without a command (a scripted `wait`) watches it.
    private let interrupted = InterruptFlag()
    /// Reads the journal again, to see sign-offs written by other processes.
    var reloadState: (() -> RunState?)?
    /// Asked while the session waits (at a gate, a halt, a calendar rule): throws to stop the
    /// session when what it writes to can no longer be written (a run of the store whose
    /// connection failed: its lease is gone, so it must not sit there as if it drove the run).
    var stillDriving: (() throws -> Void)?
    /// The run's folder, watched while a scripted `wait` waits; nil where inotify is not offered.
    private(set) lazy var changes = ChangeWatch(folder: engine.runDirectory)

    init(engine: RunEngine, terminal: any Terminal, style: Style) {
        self.engine = engine
        self.terminal = terminal
        self.style = style
    }

    /// Ctrl-C stops a running command (or the pause before its next attempt) and a scripted
    /// `wait`, never the run.
    func catchInterrupts() {
        let runner = self.runner, interrupted = self.interrupted
        terminal.onInterrupt {
            interrupted.raise()
            runner.interrupt()
        }
    }

    func write(_ text: String) { terminal.write(text) }

    var exitStatus: ExitStatus {
        switch engine.state.outcome {
        case .completed?: .success
        case nil: .paused
        default: .findings
        }
    }

    func resumeHint() -> String {
        "run \(engine.state.runID.shown) paused; resume with: " + resumeCommand()
    }

    func resumeCommand() -> String {
        if let store = StoreRunView.layout(of: engine.runDirectory)?.store {
            return "runsheet resume \(engine.state.runID.shown) --store " + ShellQuoting.quote(store).shown
        }
        // Name the runs folder when `resume` run from here would not look there by itself.
        let runs = (URL(fileURLWithPath: engine.runDirectory).standardizedFileURL.path as NSString).deletingLastPathComponent
        let here = RunContext.runsDirectory(explicit: nil, near: FileManager.default.currentDirectoryPath)
        let option = URL(fileURLWithPath: here).standardizedFileURL.path == runs ? "" : " --runs-dir \(runs.shown)"
        return "runsheet resume \(engine.state.runID.shown)\(option)"
    }

    func outcomeLine() -> String {
        guard let outcome = engine.state.outcome else { return resumeHint() }
        return outcomeColour(outcome)("run \(engine.state.runID.shown) \(outcome.rawValue)" + (engine.state.endReason.map { ": \($0.shown)" } ?? ""))
    }

    func outcomeColour(_ outcome: RunState.Outcome) -> (String) -> String {
        let style = self.style
        return { outcome == .completed ? style.green($0) : style.red($0) }
    }

    // MARK: - Scripted

    /// One action per line: done [REASON], run, skip REASON, fail REASON, note TEXT, list, commands, back, goto ID, abort REASON, quit.
    func runScripted() throws -> ExitStatus {
        catchInterrupts()
        announce()
        while !engine.state.finished {
            showNotificationFailures()
            guard let raw = terminal.readScriptLine() else {
                try engine.pause()
                write(summaryText())
                return .paused
            }
            let line = raw.trimmed
            if line.isEmpty || line.hasPrefix("#") { continue }
            if engine.currentStep?.isGate == true || engine.calendarConflict() != nil, let current = reloadState?() { engine.reload(current) }
            let (verb, argument) = split(line)
            do {
                switch verb {
                case "done", "d": try engine.complete(reason: argument.isEmpty ? nil : argument)
                case "skip", "s": try engine.skip(reason: argument)
                case "fail", "f": try engine.fail(reason: argument)
                case "note", "n":
                    try engine.note(argument)
                    write("  noted\n")
                    continue
                case "lesson", "l":
                    try engine.lesson(argument)
                    write("  lesson noted; 'runsheet update' proposes it for the runbook\n")
                    continue
                case "add", "a":
                    let id = try engine.addStep(title: argument)
                    write("  added step '\(id)' as done; 'runsheet update' proposes it for the runbook\n")
                    continue
                case "list", "overview", "o":
                    write(overviewText())
                    continue
                case "commands", "c":
                    let commands = engine.runnableCommands.map { engine.display($0) }
                    write(commands.isEmpty ? "  this step has no command marked to run\n" : commands.joined(separator: "\n\n") + "\n")
                    continue
                case "back", "b": try engine.back()
                case "goto", "g": try engine.goTo(argument)
                case "run", "r": try runCommands()
                case "abort", "x": try engine.abort(reason: argument)
                case "wait", "w":
                    guard try waitAtGate() else {
                        try engine.pause()
                        write("  " + style.yellow("■ interrupted") + "\n" + summaryText())
                        return .paused
                    }
                case "quit", "q":
                    try engine.pause()
                    write(summaryText())
                    return .paused
                case "help", "?":
                    write(Self.help + "\n")
                    continue
                default:
                    throw CommandFailure(status: .usage, message: "unknown action '\(verb)'; use one of done, run, skip, fail, note, lesson, add, list, commands, back, goto, abort, wait, quit")
                }
            } catch let error as RunError {
                write("  \(style.red("✗")) \((error.errorDescription ?? "\(error)").shown)\n")
                continue
            } catch let error as CommandRunnerError {
                // The command could not start (or its output not be kept): the step stays open.
                write("  \(style.red("✗")) \(error.errorDescription ?? "\(error)")\n")
                continue
            } catch let refusal as AppendRefusal {
                // The journal moved on since the action was decided (a rejection, say): nothing was written.
                write("  \(style.red("✗")) \(refusal.reason)\n")
                continue
            } catch let failure as CommandFailure {
                try engine.pause()
                throw failure
            }
            announce()
        }
        write(summaryText())
        return exitStatus
    }

    /// Polls the journal until the gate is approved, rejected or timed out, or until the
    /// exception a blocked production step needs is granted; false when Ctrl-C stopped the wait.
    func waitAtGate() throws -> Bool {
        interrupted.clear()
        if engine.itemHold() != nil {
            // Another run's end is not a change in this run's folder: look again at the pause's pace.
            while engine.itemHold() != nil {
                if interrupted.isRaised { return false }
                showNotificationFailures()
                pauseForChange()
            }
            write("  " + style.green("✓ no open run holds the step's configuration items now") + "\n")
            if engine.currentGate == nil, engine.calendarConflict() == nil { return true }
        }
        if engine.calendarConflict() != nil {
            while engine.calendarConflict() != nil {
                try stillDriving?()
                if interrupted.isRaised { return false }
                showNotificationFailures()
                pauseForChange()
                if let current = reloadState?() { engine.reload(current) }
            }
            let grant = engine.currentStep.flatMap { engine.state.exceptions[$0.id]?.last }
            if grant == nil { write("  " + style.green("✓ no halt or calendar rule blocks the step now") + "\n") } else {
            write("  " + style.green("✓ exception granted by \((grant?.actor ?? "?").shown): \((grant?.text ?? "").shown)") + "\n") }
            if engine.currentGate == nil { return true }
        }
        guard engine.currentGate != nil else {
            write("  nothing to wait for: this step is not a gate\n")
            return true
        }
        var lastShown = "", lastCountdown = ""
        while true {
            if let current = reloadState?() { engine.reload(current) }
            if let status = engine.currentGate {
                let line = gateLine(status)
                if line != lastShown {
                    write("  " + line + "\n")
                    lastShown = line
                }
            }
            if let countdown = scriptedGateCountdown(), countdown.step != lastCountdown {
                write("  " + countdown.text + "\n")
                lastCountdown = countdown.step
            }
            switch try engine.settleGate() {
            case .waiting:
                try stillDriving?()
                if interrupted.isRaised { return false }
                showNotificationFailures()
                pauseForChange()
            case .approved:
                write("  " + style.green("✓ gate approved") + "\n")
                return true
            case .waived(let by, let reason):
                write("  " + style.yellow("✓ gate waived by \(by.shown): \(reason.shown)") + "\n")
                return true
            case .rejected(let reason, let by):
                write("  " + style.red("✗ gate rejected by \(by.shown): \(reason.shown)") + "\n")
                return true
            case .timedOut:
                write("  " + style.red("✗ gate timed out") + "\n")
                return true
            }
        }
    }

    /// Waits until the run's folder changes (another process signed, say), or 0.3 s at most: the
    /// interval is also how soon Ctrl-C is noticed, and the polling fallback without inotify.
    private func pauseForChange() {
        if let changes {
            _ = changes.wait(seconds: 0.3)
        } else {
            Thread.sleep(forTimeInterval: 0.3)
        }
    }

    /// Who signed the gate and what it still needs, names and reasons shown escaped.
    func gateLine(_ status: GateStatus) -> String {
        let signed = status.signatures.map { $0.problem == nil ? "\($0.signer) (\($0.role))" : "\($0.signer) (\($0.role), not counted: \($0.problem!))" }
        if let waiver = status.waiver {
            return "waived by \(waiver.actor) (\(waiver.role)): \(waiver.reason); it needed \(waiver.unmet)".shown
        }
        return ("signed: " + (signed.isEmpty ? "nobody yet" : signed.joined(separator: ", ")) +
            (status.missing.isEmpty ? "" : "; needs " + status.missing.joined(separator: " and "))).shown
    }

    func split(_ line: String) -> (String, String) {
        guard let space = line.firstIndex(of: " ") else { return (line.lowercased(), "") }
        return (String(line[..<space]).lowercased(), String(line[line.index(after: space)...]).trimmed)
    }

    func announce() {
        guard !engine.state.finished, let step = engine.currentStep else { return }
        let (settled, total) = engine.progress
        var line = "▶ [\(settled)/\(total)] \(step.id) · \(engine.displayText(step.title).shown)"
        if step.isGate { line += "  (sign-off: " + engine.gateSummary(step) + ")" }
        write(style.bold(line) + "\n")
        if let block = engine.haltBlock(), let conflict = engine.calendarConflict() {
            write("  " + style.red("⛔ HALTED: \(conflict.shown)") + "\n")
            write("  " + Self.haltWaitHint(block) + "\n")
        } else if let conflict = engine.calendarConflict() {
            let roles = engine.governance.exceptionRoles.joined(separator: " or ")
            write("  " + style.red("⛔ production change blocked: \(conflict.shown)") + "\n")
            write("  a \(roles) may grant an exception: \(Governance.exceptionCommand(run: engine.state.runID, step: step.id)); then 'wait' or resume\n")
        }
        if let held = engine.itemHold() {
            write("  " + style.red("⛔ ITEM HELD: \(held.shown)") + "\n")
            write("  'wait' waits until it is free\n")
        }
        if let status = engine.currentGate { write("  " + gateLine(status) + "\n") }
        for line in recordLines(step, width: 78) { write("  " + line + "\n") }
        for line in unfinishedLines() { write("  " + line + "\n") }
        for lesson in step.lessons { write("  " + style.yellow("⚑ lesson: \(lesson.shown)") + "\n") }
        for command in step.commands where command.run {
            write("  $ " + engine.display(command).split(separator: "\n").joined(separator: "\n    ") + "\n")
        }
    }

    /// The decision the step waits for (a command that may have run, a failed check), as a
    /// script's words: shown in scripts and before `--auto` stops (FailureDecision.swift).
    func unfinishedLines() -> [String] { decisionLines(keys: false) }

    func runCommands() throws {
        let step = engine.currentStep
        let sink = LineSink(terminal)
        let result = try engine.runCommands(runner: runner, onAttempt: { index, attempt, _ in
            write(self.style.dim("  ┌ command \(index)" + (attempt > 1 ? ", attempt \(attempt)" : "")) + "\n")
        }, onProgress: { progress in
            sink.flush()
            if let failed = CommandStatus.failedAttemptLine(progress, width: .max) { write("  " + self.style.red(failed.trimmed) + "\n") }
        }, onOutput: { chunk in sink.write(chunk) })
        sink.flush()
        switch result {
        case .passed: write("  " + style.green("✓ commands passed") + "\n")
        case .failed(let reason):
            write("  " + style.red("✗ \(reason)") + "\n")
            if let went = failureAftermath(of: step) { writeWrapped(went) }
        case .interrupted: write("  " + style.yellow("■ interrupted; the step is still open") + "\n")
        }
    }

    static let help = """
        Actions (keys on a terminal, words in scripts):
          d done [REASON] mark the step done and go on; a step whose command did
                          not pass, or that failed, needs the reason (a forced step)
          r run           run the step's commands (asks first on a terminal)
          s skip REASON   skip the step, with a reason
          f fail REASON   mark it failed; the run follows the step's On failure
                          branch, or ends as failed where it has none
          n note TEXT     add a note to the step
          l lesson TEXT   a note to keep in the runbook ('runsheet update' proposes it)
          a add TITLE     record a step the runbook lacks (done, before this one)
          b back          go to the previous step
          g goto ID       go to a step by id
          x abort REASON  end the run as aborted
          w wait          at a gate: wait until it is signed, rejected or times out
          o list          the step list (Tab too): sections, every step with its
                          mark, who settled it and when, gates with their signers;
                          on a terminal ↑ ↓ or j k choose a step, Enter goes there
                          (as goto does), Esc, q or Tab closes it
          c commands      print the step's commands whole, for copying
          j k scroll      on a terminal, a step taller than the screen scrolls
                          between its head and the keys: j or ↓ a line down,
                          k or ↑ a line up, PgDn and PgUp a page
          ? help          this text
          q quit          leave; the run stays resumable
        Marks: ✓ done · – skipped · ✗ failed · ! forced · ▶ current · · ahead.
        A command too wide for the screen goes on after a ↪ in the margin (it
        breaks only at spaces outside quotes) or, inside a word, after a ⋯.
        """

    // MARK: - Unattended

    /// Runs command steps until a manual step or gate needs a person.
    func runAuto() throws -> ExitStatus {
        catchInterrupts()
        while !engine.state.finished, let step = engine.currentStep {
            showNotificationFailures()
            announce()
            if try autoStopsAtFailedCheck(step, announced: true) { return .paused }
            if engine.unfinishedCommand != nil {
                try engine.pause()
                write("  a command of step '\(step.id)' may have run; --auto never runs it again: a person decides (run, done REASON or fail REASON)\n" + summaryText())
                return .paused
            }
            guard !step.isGate, !engine.runnableCommands.isEmpty, engine.calendarConflict() == nil,
                  !engine.runnableCommands.contains(where: \.interactive) else {
                try engine.pause()
                let halt = engine.haltBlock().map { $0.sentence(roles: engine.governance.exceptionRoles) }
                if let halt { engine.noteHalt(halt, step: step.id) }
                let why = halt != nil ? "production step '\(step.id)' is not started: \((halt ?? "").shown)"
                    : engine.calendarConflict() != nil ? "production step '\(step.id)' needs a calendar exception"
                    : engine.runnableCommands.contains(where: \.interactive) && !step.isGate
                    ? "step '\(step.id)' runs an interactive command, which needs a person at a terminal; --auto never runs it"
                    : "\(step.isGate ? "gate" : "manual step") '\(step.id)' needs a person"
                write("  \(why)\n" + summaryText())
                return .paused
            }
            do {
                try runCommands()
            } catch let error as CommandRunnerError {
                try engine.pause()
                write("  \(style.red("✗")) \(error.errorDescription ?? "\(error)")\n" + summaryText())
                return .paused
            }
            if try autoStopsAtFailedCheck(step, announced: false) { return .paused }
            if engine.currentStep?.id == step.id && !engine.state.finished {
                try engine.pause()
                write(summaryText())
                return .paused
            }
        }
        write(summaryText())
        return exitStatus
    }
}

/// Whether Ctrl-C was pressed since it was last cleared; raised from the signal's thread.
final class InterruptFlag: Sendable {
    private let raised = Atomic(false)

    func raise() { raised.store(true, ordering: .sequentiallyConsistent) }
    func clear() { raised.store(false, ordering: .sequentiallyConsistent) }
    var isRaised: Bool { raised.load(ordering: .sequentiallyConsistent) }
}
