import Foundation
import RunsheetCore

/// The step list (`Tab` or `o` on a terminal, `list` in a script): every step of the runbook under
/// its section, with its mark, who settled it and when, and each gate's signers.
extension WalkThrough {
    /// One row of the list: a section heading (no step), or a step and its lines.
    struct OverviewEntry {
        var step: String?
        var lines: [String]
    }

    /// The mark a step has in the list: ✓ done, – skipped, ✗ failed, ! forced, ▶ current, · ahead,
    /// ⊘ never done (a completed run moved past it with goto).
    func overviewMark(_ step: Step) -> String {
        let record = engine.state.record(step.id)
        if !engine.state.finished, engine.state.cursor == step.id { return "▶" }
        switch record.status {
        case .done: return record.forced ? "!" : "✓"
        case .skipped: return "–"
        case .failed: return "✗"
        case .pending, .active: return engine.state.isNeverDone(step, in: engine.runbook) ? RunState.neverDoneMark : "·"
        }
    }

    /// How many steps are done, skipped, failed, forced, never done and ahead. Steps of a branch the
    /// run never took are not ahead: it may never take them. Nor is a step a completed run moved
    /// past with goto: it is never done.
    func stepCounts() -> (done: Int, skipped: Int, failed: Int, forced: Int, neverDone: Int, ahead: Int) {
        var counts = (done: 0, skipped: 0, failed: 0, forced: 0, neverDone: 0, ahead: 0)
        for step in engine.runbook.steps {
            let record = engine.state.record(step.id)
            switch record.status {
            case .done: if record.forced { counts.forced += 1 } else { counts.done += 1 }
            case .skipped: counts.skipped += 1
            case .failed: counts.failed += 1
            case .pending where engine.section(of: step)?.branch == true: break
            case .pending, .active:
                if engine.state.isNeverDone(step, in: engine.runbook) { counts.neverDone += 1 } else { counts.ahead += 1 }
            }
        }
        counts.done += engine.state.addedSteps.filter { engine.state.record($0.id).status == .done }.count
        return counts
    }

    func countsLine() -> String { countItems().joined(separator: " · ") }

    /// The counts as the list and the summary show them; "never done" only when there is one.
    func countItems() -> [String] {
        let c = stepCounts()
        return ["\(c.done) done", "\(c.skipped) skipped", "\(c.failed) failed", "\(c.forced) forced"]
            + (c.neverDone > 0 ? ["\(c.neverDone) never done"] : []) + ["\(c.ahead) ahead"]
    }

    /// "bob at 18:02Z": who settled a step and when (UTC, as the journal has it).
    func whoAndWhen(_ actor: String?, _ time: String?) -> String {
        var text = (actor ?? "?").shown
        if let time, time.count >= 16 { text += " at " + String(time.dropFirst(11).prefix(5)) + "Z" }
        return text
    }

    /// What the journal holds about a settled step, for the list and for the step's own screen.
    func recordSummary(_ id: String) -> String? {
        let record = engine.state.record(id)
        let reason = record.reason.map { ": " + $0.shown } ?? ""
        switch record.status {
        case .done where record.forced: return "done anyway (forced) by \(whoAndWhen(record.actor, record.endedAt))\(reason)"
        case .done: return "done by \(whoAndWhen(record.actor, record.endedAt))\(reason)"
        case .skipped where record.automatic: return "skipped by itself\(reason)"
        case .skipped: return "skipped by \(whoAndWhen(record.actor, record.endedAt))\(reason)"
        case .failed: return "failed by \(whoAndWhen(record.actor, record.endedAt))\(reason)"
        case .pending, .active: return nil
        }
    }

    /// A gate's signers (or waiver, or rejections) in one line; nil for a step that is not a gate.
    func gateSigners(_ step: Step) -> String? {
        guard step.isGate else { return nil }
        var parts: [String] = []
        let signatures = engine.state.signatures[step.id] ?? []
        parts.append("sign-off by " + engine.gateSummary(step))
        parts.append(signatures.isEmpty ? "nobody signed yet" : "signed by " + signatures.map { "\($0.signer) (\($0.role))" }.joined(separator: ", "))
        for waiver in engine.state.waivers[step.id] ?? [] { parts.append("waived by \(waiver.actor) (\(waiver.role)): \(waiver.reason)") }
        for rejection in engine.state.rejections[step.id] ?? [] { parts.append("rejected by \(rejection.signer): \(rejection.reason)") }
        return ("gate: " + parts.joined(separator: "; ")).shown
    }

    /// The list's entries, in the runbook's order; steps added during the run come before the step
    /// they were added at, and cannot be chosen.
    func overviewEntries(width: Int) -> [OverviewEntry] {
        // The list's lines start one column in (the `›` of the chosen step); details wrap under themselves.
        func details(_ text: String) -> [String] {
            TerminalMarkdown.wrap(text, width: width - 7).map { style.dim("      " + $0) }
        }
        var entries: [OverviewEntry] = []
        var section: String?? = .none
        for step in engine.runbook.steps {
            if section != .some(step.section) {
                section = .some(step.section)
                if let heading = engine.section(of: step) {
                    let title = engine.displayText(heading.title).shown
                    entries.append(OverviewEntry(step: nil, lines: [style.bold(title) + (heading.branch ? style.yellow("  (branch)") : "")]))
                }
            }
            for added in engine.state.addedSteps where added.before == step.id {
                entries.append(OverviewEntry(step: nil, lines: ["  ✓ " + added.title.shown + style.dim("  (added)")]
                                                 + details("\(added.id.shown) · " + (recordSummary(added.id) ?? ""))))
            }
            let mark = overviewMark(step)
            var lines = TerminalMarkdown.wrap(engine.displayText(step.title).shown, width: width - 5).enumerated()
                .map { ($0.offset == 0 ? "  \(mark) " : "    ") + $0.element }
            var detail = step.id
            if let summary = recordSummary(step.id) { detail += " · " + summary } else if mark == "▶" { detail += " · you are here" }
            else if mark == RunState.neverDoneMark { detail += " · " + RunState.neverDoneText }
            lines += details(detail)
            if let gate = gateSigners(step) { lines += details(gate) }
            entries.append(OverviewEntry(step: step.id, lines: lines))
        }
        for added in engine.state.addedSteps where added.before == nil {
            entries.append(OverviewEntry(step: nil, lines: ["  ✓ " + added.title.shown + style.dim("  (added)")]))
        }
        return entries
    }

    /// The list as text for a script: every entry, nothing cut.
    func overviewText() -> String {
        var lines = [style.bold("Steps of \(engine.displayText(engine.runbook.title).shown): ") + countsLine()]
        for entry in overviewEntries(width: 80) { lines += entry.lines }
        lines.append(style.dim("marks: ✓ done · – skipped · ✗ failed · ! forced · ▶ current · · ahead" + (stepCounts().neverDone > 0 ? " · \(RunState.neverDoneMark) never done" : "")))
        return lines.joined(separator: "\n") + "\n"
    }

    /// The list as a screen `height` lines tall at most, the chosen step marked with `›`; a list
    /// taller than the screen scrolls so the chosen step shows.
    func overviewScreen(width: Int, height: Int, selected: String?) -> String {
        let width = max(40, min(width, 120))
        var head = [style.bold(truncate("Steps · " + engine.displayText(engine.runbook.title).shown, width))]
        head += Self.wrapItems(countItems(), separator: " · ", width: width)
        head.append(style.dim(String(repeating: "─", count: width)))
        var foot = [style.dim(String(repeating: "─", count: width))]
        foot += Self.wrapItems(["[↑↓ j k] choose", "[Enter] go there", "[Esc q Tab] close"], separator: "  ", width: width)
        var body: [String] = []
        var chosen = 0..<0
        for entry in overviewEntries(width: width) {
            let start = body.count
            for (index, line) in entry.lines.enumerated() {
                let pointer = index == 0 && entry.step != nil && entry.step == selected ? style.bold("›") : " "
                body.append(pointer + line)
            }
            if entry.step != nil, entry.step == selected { chosen = start..<body.count }
        }
        // One line is left free: the last line's newline would scroll the screen up by one.
        let room = max(3, height - 1 - head.count - foot.count)
        if body.count > room {
            let window = room - 2
            var first = max(0, min(chosen.lowerBound, body.count - window))
            if chosen.upperBound > first + window { first = chosen.upperBound - window }
            let last = min(body.count, first + window)
            let above = first, below = body.count - last
            body = [style.dim(above > 0 ? "  ↑ \(above) more" : "")] + Array(body[first..<last]) + [style.dim(below > 0 ? "  ↓ \(below) more" : "")]
        }
        return fitted(head + body + foot, width)
    }

    /// The steps the list can go to, in order.
    func overviewSteps() -> [String] { overviewEntries(width: 80).compactMap(\.step) }

    /// Shows the list until it is closed, or until Enter goes to the chosen step (under `goto`'s
    /// rules: a refusal throws, and the step screen shows it).
    func showOverview() throws {
        let steps = overviewSteps()
        guard !steps.isEmpty else { return }
        var index = engine.state.cursor.flatMap { steps.firstIndex(of: $0) } ?? 0
        while true {
            let screen = overviewScreen(width: terminal.width, height: terminal.height, selected: steps[index])
            terminal.write("\u{1B}[H\u{1B}[2J" + screen.replacingOccurrences(of: "\n", with: "\r\n"))
            guard let key = try terminal.readKey(timeout: 3600) else { continue }
            switch key {
            case .up, .character("k"): index = max(0, index - 1)
            case .down, .character("j"): index = min(steps.count - 1, index + 1)
            case .enter:
                if steps[index] != engine.state.cursor { try engine.goTo(steps[index]) }
                return
            case .escape, .tab, .interrupt, .character("q"), .character("o"): return
            default: continue
            }
        }
    }
}
