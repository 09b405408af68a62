import Foundation
import RunsheetCore

extension WalkThrough {
    /// The full-screen walk-through: one screen per step, single-key actions.
    func runInteractive() throws -> ExitStatus {
        catchInterrupts()
        terminal.enterRawMode()
        defer { terminal.restore() }
        // A signature from another terminal wakes the waiting screen at once, and so does a resize.
        terminal.watchForChanges(in: engine.runDirectory)
        var message = ""
        var decided: Key?  // a decision key pressed under a failed command's output
        // How far the step's body is scrolled (StepScreenScrolling.swift); each step starts at its top.
        var scroll = 0, page = 1, scrolledStep = engine.state.cursor
        while !engine.state.finished {
            let notices = notificationFailureLines()
            if !notices.isEmpty { message = ([message] + notices.map { "⚠ " + $0 }).filter { !$0.isEmpty }.joined(separator: "\n") }
            if engine.state.cursor != scrolledStep { (scroll, scrolledStep) = (0, engine.state.cursor) }
            let frame = screen(width: terminal.width, height: terminal.height, message: message, scroll: scroll)
            (scroll, page) = (frame.scroll, frame.page)
            terminal.write("\u{1B}[H\u{1B}[2J" + frame.text.replacingOccurrences(of: "\n", with: "\r\n"))
            // What this session itself just wrote to the journal is on the screen already: it
            // must not wake the wait below and draw the same screen again.
            terminal.discardChanges()
            let pressed: Key?
            // With halts or item holds to watch, the screen looks again twice a second: one shows within a second.
            let watching = engine.governance.halts != nil || engine.itemHolder != nil
            do { pressed = try decided ?? terminal.readKey(timeout: watching ? 0.5 : 1) } catch is EndOfInput { return try pauseAtEndOfInput() }
            decided = nil
            guard let key = pressed else {
                try stillDriving?()
                // Sign-offs arrive from other terminals: re-read the journal and move on by itself.
                if engine.currentGate != nil || engine.calendarConflict() != nil {
                    if let current = reloadState?() { engine.reload(current) }
                }
                if engine.currentGate != nil, engine.calendarConflict() == nil {
                    switch try engine.settleGate() {
                    case .approved: message = "Gate approved."
                    case .waived(let by, let reason): message = "Gate waived by \(by.shown): \(reason.shown)"
                    case .rejected(let reason, let by): message = "Gate rejected by \(by.shown): \(reason.shown)"
                    case .timedOut: message = "Gate timed out."
                    case .waiting: break
                    }
                }
                continue
            }
            message = ""
            if let moved = Self.scrolled(scroll, by: key, page: page) {
                scroll = moved
                continue
            }
            do {
                switch key {
                case .character("d"):
                    if let step = engine.currentStep, let why = engine.forceNeeded(step) {
                        // Marking it done anyway is a forced step: it needs a reason, and every report shows it.
                        guard try confirm("This step \(why). Mark it done anyway? [y/N] ") else { continue }
                        guard let reason = try terminal.readLine(prompt: "\r\nWhy is it done anyway (recorded as forced; Esc cancels): ", secret: false) else { continue }
                        try engine.complete(reason: reason.isBlank ? nil : reason)
                        continue
                    }
                    if !engine.runnableCommands.isEmpty, !commandsPassed() {
                        guard try confirm("This step's command has not been run. Mark it done anyway? [y/N] ") else { continue }
                    }
                    try engine.complete()
                case .character("r"):
                    let count = engine.runnableCommands.count
                    guard count > 0 else { message = "This step has no command marked to run."; continue }
                    let again = engine.unfinishedCommand.map { "Command \($0.index) \($0.summary). Run it again? [y/N] " }
                    guard try confirm(again ?? "Run \(count == 1 ? "this command" : "these \(count) commands") now? [y/N] ") else { continue }
                    terminal.restore()
                    terminal.write("\r\n")
                    try runCommandsOnScreen()
                    decided = try awaitDecisionAfterCommands()
                case .character("s"):
                    guard let reason = try terminal.readLine(prompt: "\r\nReason to skip (Esc cancels): ", secret: false) else { continue }
                    try engine.skip(reason: reason)
                case .character("f"):
                    guard let reason = try terminal.readLine(prompt: "\r\nWhat failed (Esc cancels): ", secret: false) else { continue }
                    guard try confirm(failQuestion()) else { continue }
                    try engine.fail(reason: reason)
                case .character("n"):
                    guard let text = try terminal.readLine(prompt: "\r\nNote (Esc cancels): ", secret: false) else { continue }
                    try engine.note(text)
                    message = "Noted."
                case .character("l"):
                    guard let text = try terminal.readLine(prompt: "\r\nLesson for the runbook (Esc cancels): ", secret: false) else { continue }
                    try engine.lesson(text)
                    message = "Lesson noted; 'runsheet update' proposes it for the runbook."
                case .character("a"):
                    guard let title = try terminal.readLine(prompt: "\r\nTitle of the step you did (Esc cancels): ", secret: false) else { continue }
                    let id = try engine.addStep(title: title)
                    message = "Added step '\(id)' as done."
                case .character("b"):
                    try engine.back()
                case .character("g"):
                    guard let id = try terminal.readLine(prompt: "\r\nGo to step id (Esc cancels): ", secret: false) else { continue }
                    try engine.goTo(id.trimmed)
                case .character("x"):
                    guard let reason = try terminal.readLine(prompt: "\r\nWhy abort the run (Esc cancels): ", secret: false) else { continue }
                    guard try confirm("End the whole run as aborted? It cannot be resumed. [y/N] ") else { continue }
                    try engine.abort(reason: reason)
                case .character("?"), .character("h"):
                    try showHelp()
                case .tab, .character("o"):
                    try showOverview()
                case .character("c"):
                    message = try showCommands()
                case .character("w"):
                    message = engine.currentGate == nil ? "Nothing to wait for: this step is not a gate." : "Waiting: the screen moves on by itself once the gate is signed."
                case .character("q"), .interrupt:
                    try engine.pause()
                    terminal.restore()
                    terminal.write("\u{1B}[H\u{1B}[2J" + summaryText())
                    return .paused
                default:
                    message = "Unknown key. Press ? for help."
                }
            } catch let error as RunError {
                message = (error.errorDescription ?? "\(error)").shown
            } catch let error as CommandRunnerError {
                terminal.enterRawMode()
                message = (error.errorDescription ?? "\(error)").shown
            } catch let refusal as AppendRefusal {
                message = refusal.reason.shown  // the journal moved on (a rejection, say): nothing was written
            } catch is EndOfInput {
                return try pauseAtEndOfInput()
            }
        }
        terminal.restore()
        // The last screen stays, with the summary under its outcome line.
        terminal.write("\u{1B}[H\u{1B}[2J" + screen(width: terminal.width, message: "") + summaryText(headline: false))
        return exitStatus
    }

    /// Waits for a key; wake-ups (a resize, the journal changing) are not keys.
    func waitForAnyKey() throws {
        while try terminal.readKey(timeout: 3600) == nil {}
    }

    func confirm(_ question: String) throws -> Bool {
        // Wrapped to the screen like everything else on it (a narrow terminal would cut or fold it mid-word).
        let lines = TerminalMarkdown.wrap(question.trimmed, width: max(40, terminal.width) - 1)
        terminal.write("\r\n" + lines.map(style.yellow).joined(separator: "\r\n") + " ")
        while true {
            guard let key = try terminal.readKey(timeout: 3600) else { continue }
            terminal.write("\r\n")
            return key == .character("y") || key == .character("Y")
        }
    }

    func commandsPassed() -> Bool {
        guard let step = engine.currentStep else { return true }
        let records = engine.state.record(step.id).commands
        return !records.isEmpty && records.last?.passed == true
    }

    /// The screen for the current step, at most `width` columns wide, every line of it (no height
    /// limit: `screen(width:height:message:scroll:)` pages the body within a terminal's height).
    func screen(width: Int, message: String) -> String {
        let parts = screenParts(width: width, message: message)
        return fitted(parts.head + parts.body + parts.foot(false), max(40, min(width, 120)))
    }

    /// The current step's screen in three parts: the head (runbook, run, progress and clock, the
    /// step's title, id and time), the body (its record, gate, text, commands, notes, decision),
    /// and the foot (the key bar, with the scroll keys when `scrolls`, and the message). A finished
    /// run's screen is all head. Every text from the runbook or the journal shows with its control
    /// characters escaped (`ShownText`).
    func screenParts(width: Int, message: String) -> (head: [String], body: [String], foot: (_ scrolls: Bool) -> [String]) {
        let width = max(40, min(width, 120))
        let state = engine.state
        var out: [String] = []
        let rule = style.dim(String(repeating: "─", count: width))
        out.append(style.bold(truncate(engine.displayText(engine.runbook.title).shown, width - 2)))
        out.append(style.dim(truncate("run \(state.runID.shown) · \(state.startedBy.shown)", width)))
        let (settled, total) = engine.progress
        let barWidth = max(10, min(40, width - 30))
        let filled = total == 0 ? barWidth : barWidth * settled / total
        let bar = "[" + String(repeating: "█", count: filled) + String(repeating: "░", count: barWidth - filled) + "]"
        let elapsed = state.activeInterval(from: Timestamp.parse(state.startedAt) ?? started, to: Date())
        out.append("\(bar) \(settled)/\(total)  elapsed \(clock(elapsed))")
        out.append(rule)
        guard let step = engine.currentStep, !state.finished else {
            out += TerminalMarkdown.wrap(outcomeLine(), width: width)  // whole: who rejected, why it failed
            return (out, [], { _ in [] })
        }
        if let section = engine.section(of: step) {
            let branch = section.branch ? "  (branch)" : ""
            out.append(style.dim("Section: " + truncate(engine.displayText(section.title).shown, width - 9 - branch.count)) + (branch.isEmpty ? "" : style.yellow(branch)))
        }
        var timing = ""
        if state.record(step.id).startedAt != nil {
            timing = "step " + clock(state.timeSpent(on: step.id))
            if let estimate = step.estimateSeconds { timing += " / est " + DurationText.format(estimate) }
        }
        out.append(style.bold("▶ " + truncate(engine.displayText(step.title).shown, width - 2)))
        out.append(style.dim(truncate("id \(step.id)" + (timing.isEmpty ? "" : " · " + timing), width)))
        let head = out
        out = recordLines(step, width: width)
        if step.isGate {
            // The rule once, then what it still needs once: wrapped, never cut short.
            out += TerminalMarkdown.wrap("Gate: sign-off by " + engine.gateSummary(step), width: width).map(style.yellow)
            if let status = engine.currentGate {
                out += TerminalMarkdown.wrap(gateLine(status), width: width).map(style.yellow)
                out.append(style.dim(truncate("waiting; others sign with: runsheet sign \(state.runID) \(step.id)", width)))
                if let countdown = gateCountdownLine() { out.append(style.yellow(truncate(countdown, width))) }
            }
        }
        if engine.haltBlock() != nil, let conflict = engine.calendarConflict() {
            out += TerminalMarkdown.wrap("⛔ HALTED: \(conflict.shown)", width: width).map(style.red)
        } else if let conflict = engine.calendarConflict() {
            let roles = engine.governance.exceptionRoles.joined(separator: " or ")
            out.append(style.red(truncate("⛔ Production change blocked: \(conflict.shown)", width)))
            out.append(style.dim(truncate("waiting for an exception from a \(roles): " + Governance.exceptionCommand(run: state.runID, step: step.id), width)))
        }
        if let held = engine.itemHold() {
            out += TerminalMarkdown.wrap("⛔ ITEM HELD: \(held.shown)", width: width).map(style.red)
        }
        out.append("")
        var body = TerminalMarkdown.render(engine.displayText(step.body), width: width - 2, style: style)
        // The first paragraph is the title, already shown above, unless it wraps into more.
        if body.first?.trimmed == engine.displayText(step.title).trimmed { body.removeFirst() }
        while body.first?.isEmpty == true { body.removeFirst() }
        out += body.map { "  " + $0 }
        for lesson in step.lessons { out.append(style.yellow(truncate("  ⚑ lesson: \(lesson.shown)", width))) }
        for command in step.commands where command.run {
            out.append("")
            out.append(style.dim("  command (\(command.shell)) · \(inputNote(command)):"))
            // A long command wraps at spaces rather than being cut: the operator must see all of what runs.
            out += CommandLayout.screenLines(engine.display(command), width: width, style: style)
        }
        let record = state.record(step.id)
        if let last = record.commands.last {
            out.append(style.dim("  last run: exit \(last.exitCode.map(String.init) ?? "-")" + (last.passed ? " ✓" : " ✗") + " · output in \((last.outputFile ?? "-").shown)"))
        }
        for note in record.notes.suffix(3) { out.append(style.dim("  note (\(note.actor.shown)): ") + note.text.shown) }
        for line in decisionLines(keys: true, width: width - 2) { out.append("  " + truncate(line, width - 2)) }
        let style = self.style, keys = { (scrolls: Bool) in self.keyBar(width: width, gate: step.isGate, scrolls: scrolls) }
        return (head, out, { scrolls in
            [rule] + keys(scrolls) + (message.isEmpty ? [] : TerminalMarkdown.wrap(message, width: width).map(style.yellow))
        })
    }

    /// The screen's lines, none wider than the terminal: a line that wrapped would push the
    /// key list and progress bar out of place.
    func fitted(_ lines: [String], _ width: Int) -> String {
        lines.map { TerminalColumns.fit($0, width) }.joined(separator: "\n") + "\n"
    }

    func clock(_ seconds: TimeInterval) -> String {
        let s = max(0, Int(seconds))
        return String(format: "%02d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60)
    }

    /// `text` cut to `width` terminal columns (not characters: CJK and emoji take two).
    func truncate(_ text: String, _ width: Int) -> String { TerminalColumns.fit(text, width) }
}
