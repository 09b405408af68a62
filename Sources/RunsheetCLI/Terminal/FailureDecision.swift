import Foundation
import RunsheetCore

/// A step whose commands failed, where the runbook names no failure branch, stays open: the
/// operator decides, with every choice on the screen saying where it leads. The keys and the
/// script's words are the same.
extension WalkThrough {
    /// One choice at a failed check: its key and label on the screen, its word in scripts (with
    /// `aside`, what the word alone does not say), and where it leads.
    struct DecisionChoice {
        var key: Character
        var label: String
        var word: String
        var aside: String?
        var leadsTo: String

        /// "[s] skip → Deploy the release", "[f] fail: ends the run as failed".
        var keyLine: String { "[\(key)] \(label)" + (leadsTo.hasPrefix("→") ? " " : ": ") + leadsTo }
        /// "skip REASON   → Deploy the release", "done REASON   recorded as forced → …".
        var wordLine: String { word.padding(toLength: 13, withPad: " ", startingAt: 0) + " " + (aside.map { $0 + " " } ?? "") + leadsTo }
    }

    /// "→ Deploy the release", "→ Rollback: Restore the previous release", "ends the run as failed".
    func leadsTo(_ destination: Destination) -> String {
        switch destination {
        case .step(let id, let section):
            return "→ " + (section.map { engine.displayText($0).shown + ": " } ?? "") + engine.shownTitle(id).shown
        case .ends(let outcome):
            switch outcome {
            case .completed: return "ends the run as completed"
            case .rolledBack: return "ends the run as rolled back"
            case .failed: return "ends the run as failed"
            case .aborted: return "ends the run as aborted"
            }
        }
    }

    /// The choices at the current step's failed check, each with where it leads.
    func decisionChoices(_ step: Step) -> [DecisionChoice] {
        [
            DecisionChoice(key: "r", label: "run it again", word: "run", aside: "run it again",
                           leadsTo: leadsTo(engine.successDestination(step)) + " if it passes"),
            DecisionChoice(key: "s", label: "skip", word: "skip REASON", leadsTo: leadsTo(engine.successDestination(step, as: .skipped))),
            DecisionChoice(key: "d", label: "done anyway (forced)", word: "done REASON", aside: "recorded as forced",
                           leadsTo: leadsTo(engine.successDestination(step, forced: true))),
            DecisionChoice(key: "f", label: "fail", word: "fail REASON", leadsTo: leadsTo(engine.failureDestination(step))),
            DecisionChoice(key: "x", label: "abort", word: "abort REASON", leadsTo: "ends the run as aborted"),
        ]
    }

    /// The decision the current step waits for, for the step's screen (`keys`) or a script: a
    /// command that may have run, or a failed check; empty when there is none. With a `width`,
    /// every line fits it: a choice too long for one line puts where it leads on the next.
    func decisionLines(keys: Bool, width: Int? = nil) -> [String] {
        guard let step = engine.currentStep else { return [] }
        var choices = decisionChoices(step)
        var lines: [String]
        if let unfinished = engine.unfinishedCommand {
            // A command that may have run: the same choices but skip, which needs this decided first.
            let summary = "⚠ command \(unfinished.index) \(unfinished.summary.shown)"
            let output = " (output: \(unfinished.outputFile.shown))"
            lines = width.map { TerminalMarkdown.wrap(summary + output, width: $0).map(style.red) } ?? [style.red(summary) + style.dim(output)]
            choices.removeAll { $0.key == "s" }
        } else if let failed = engine.failedCheck {
            // The screen shows the output file on its "last run" line already.
            let output = keys ? "" : style.dim(" (output: \((failed.outputFile ?? "-").shown))")
            let summary = "✗ \(failed.failureSummary.shown); the step stays open"
            lines = width.map { TerminalMarkdown.wrap(summary, width: $0).map(style.red) } ?? [style.red(summary) + output]
        } else {
            return []
        }
        lines.append("decide:")
        for choice in choices {
            let line = "  " + (keys ? choice.keyLine : choice.wordLine)
            guard let width, TerminalColumns.width(line) > width else {
                lines.append(line)
                continue
            }
            let head = keys ? "  [\(choice.key)] \(choice.label)" : "  " + choice.word
            let rest = (keys ? "" : (choice.aside.map { $0 + " " } ?? "")) + choice.leadsTo
            lines.append(TerminalColumns.fit(head, width))
            lines.append(TerminalColumns.fit("    " + rest, width))
        }
        return lines
    }

    /// Where the run went after `step`'s commands failed: the failure branch it followed, the
    /// end, or nothing (the step is still open and the decision is shown with it).
    func failureAftermath(of step: Step?) -> String? {
        guard let step, engine.state.record(step.id).status == .failed else { return nil }
        if let outcome = engine.state.outcome {
            return "→ the run ended \(outcome.rawValue)"
        }
        guard let current = engine.currentStep else { return nil }
        let section = engine.section(of: current).flatMap { $0.branch && $0.id != engine.section(of: step)?.id ? $0.title : nil }
        guard let section else { return "→ On failure: continue, on to " + engine.shownTitle(current.id).shown }
        return "→ On failure: " + engine.displayText(section).shown + ": " + engine.shownTitle(current.id).shown
    }

    /// A line under a command's output, wrapped to the terminal (a script's lines are not wrapped).
    func writeWrapped(_ text: String) {
        let lines = terminal.screen ? TerminalMarkdown.wrap(text, width: max(40, terminal.width) - 2) : [text]
        for line in lines { write("  " + style.yellow(line) + "\n") }
    }

    /// After a step's commands ran on the terminal, under their output: at a failed check, the
    /// decision, and a key for it (the next action, nil to go back to the step's screen).
    func awaitDecisionAfterCommands() throws -> Key? {
        guard engine.failedCheck != nil else {
            terminal.write(style.dim("press any key") + "\n")
            terminal.enterRawMode()
            try waitForAnyKey()
            return nil
        }
        // The failure was said just above, with the output: the choices follow it.
        let width = max(40, terminal.width)
        terminal.write("  the step stays open; decide:\n")
        for line in decisionLines(keys: true, width: width - 2).drop(while: { $0 != "decide:" }).dropFirst() { terminal.write("  " + line + "\n") }
        for line in TerminalMarkdown.wrap("press r, s, d, f or x; any other key shows the step", width: width) { terminal.write(style.dim(line) + "\n") }
        terminal.enterRawMode()
        // Wake-ups (the journal this step just wrote to, a resize) are not keys: wait for one.
        var pressed: Key?
        while pressed == nil { pressed = try terminal.readKey(timeout: 3600) }
        guard let key = pressed else { return nil }
        return [Key.character("r"), .character("s"), .character("d"), .character("f"), .character("x")].contains(key) ? key : nil
    }

    /// The question before failing the current step, saying where it leads.
    func failQuestion() -> String {
        guard let step = engine.currentStep else { return "Mark this step failed? [y/N] " }
        let destination = leadsTo(engine.failureDestination(step))
        guard destination.hasPrefix("→ ") else { return "Mark this step failed? It \(destination). [y/N] " }
        return "Mark this step failed and go on to \(destination.dropFirst(2))? [y/N] "
    }

    /// `--auto` at a failed check: it never decides for a person; the run pauses there.
    func autoStopsAtFailedCheck(_ step: Step, announced: Bool) throws -> Bool {
        guard let failed = engine.failedCheck else { return false }
        if !announced { for line in decisionLines(keys: false) { write("  " + line + "\n") } }
        try engine.pause()
        let what = failed.interrupted ? "was interrupted" : "failed its check"
        write("  step '\(step.id)' \(what); --auto never decides for a person: resume and choose run, skip REASON, done REASON, fail REASON or abort REASON\n"
              + resumeHint() + "\n")
        return true
    }
}

/// `status RUN`: steps whose commands failed and that wait for a person's decision.
enum FailedChecks {
    static func lines(_ state: RunState) -> [String] {
        guard !state.finished else { return [] }
        // By index, testing the one field first: a closure over `steps` copies every record.
        var failed: [(String, String, RunState.CommandRecord)] = []
        for index in state.steps.indices where state.steps.values[index].status == .active {
            if let check = state.steps.values[index].failedCheck { failed.append((state.steps.values[index].startedAt ?? "", state.steps.keys[index], check)) }
        }
        return failed
            .sorted { ($0.0, $0.1) < ($1.0, $1.1) }
            .map { _, id, failed in
                "  ✗ \(id.shown)  failed check, awaiting decision: \(failed.failureSummary.shown) (output: \((failed.outputFile ?? "-").shown)); "
                    + "resume and choose run, skip, done (forced), fail or abort"
            }
    }
}
