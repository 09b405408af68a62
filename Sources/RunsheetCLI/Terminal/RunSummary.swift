import Foundation
import RunsheetCore

/// What a finished or paused run leaves on the screen: how it ended, its steps counted, how long
/// it took, and the commands to read it back (and to resume it, when paused).
extension WalkThrough {
    /// The run folder's `--runs-dir`, when a command run from here would not look there by itself.
    var runsOption: String {
        // A run of the PostgreSQL store is read back from the store, not from its local copy.
        if let store = StoreRunView.layout(of: engine.runDirectory)?.store { return " --store " + ShellQuoting.quote(store).shown }
        let runs = (URL(fileURLWithPath: engine.runDirectory).standardizedFileURL.path as NSString).deletingLastPathComponent
        let here = RunContext.runsDirectory(explicit: nil, near: FileManager.default.currentDirectoryPath)
        let safe = runs.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "/._-+:@%,=".contains($0)) }
        return URL(fileURLWithPath: here).standardizedFileURL.path == runs ? "" : " --runs-dir " + (safe ? runs : ShellQuoting.quote(runs)).shown
    }

    /// The summary's lines, fitted to `width` columns but for the commands, which are never broken.
    /// The first is the outcome line (or the resume hint with its command), see `headlineLines`.
    func summaryLines(width: Int, headline: Bool = true) -> [String] {
        let state = engine.state
        var lines = headline ? headlineLines(width: width) : []
        if !state.finished, let step = engine.currentStep {
            lines += TerminalMarkdown.wrap("paused at: " + engine.displayText(step.title).shown + " (\(step.id))", width: width - 2).map { "  " + $0 }
        }
        lines += Self.wrapItems(countItems(), separator: " · ", width: width - 9).enumerated().map { ($0.offset == 0 ? "  steps: " : "         ") + $0.element }
        let took = state.activeSeconds(from: state.startedAt, to: state.endedAt ?? state.lastTime) ?? 0
        lines.append("  took: " + clock(TimeInterval(took)))
        let id = state.runID.shown
        // Each command whole on a line of its own (the terminal may wrap it): this is printed after
        // the full screen, to be copied. The resume command is in the first line already.
        for (label, command) in [("report", "runsheet report \(id)\(runsOption)"), ("checklist", "runsheet render \(id)\(runsOption)")] {
            lines.append("  \(label):")
            lines.append("    " + command)
        }
        return lines
    }

    /// The outcome line, or the resume hint with its command: one line where it fits, or without a
    /// screen (scripts look for it whole). On a narrower screen it wraps at spaces, never inside a
    /// word (a terminal would cut the run id in two), and the resume command goes on a line of its
    /// own, whole, for copying, as the report and checklist commands do.
    func headlineLines(width: Int) -> [String] {
        let state = engine.state
        let line = state.finished ? outcomeLine() : resumeHint()
        guard terminal.screen, TerminalColumns.width(line) > width else { return [line] }
        func words(_ text: String) -> [String] { text.split(separator: " ").map(String.init) }
        guard let outcome = state.outcome else {
            let head = "run \(state.runID.shown) paused; resume with:"
            return Self.wrapItems(words(head), separator: " ", width: width) + ["    " + resumeCommand()]
        }
        let text = "run \(state.runID.shown) \(outcome.rawValue)" + (state.endReason.map { ": \($0.shown)" } ?? "")
        return Self.wrapItems(words(text), separator: " ", width: width).map(outcomeColour(outcome))
    }

    /// The keyboard closed (Ctrl-D): the run pauses and its summary stays on the screen.
    func pauseAtEndOfInput() throws -> ExitStatus {
        try engine.pause()
        terminal.restore()
        terminal.write("\n" + summaryText())
        return .paused
    }

    /// The summary as text to print after the run's last screen.
    /// `headline: false` under a screen that ends with the outcome line already.
    func summaryText(headline: Bool = true) -> String {
        summaryLines(width: max(40, terminal.width), headline: headline).joined(separator: "\n") + "\n"
    }

    /// What the journal holds about the step on the screen, when it was settled before (a step
    /// gone back to): who, when and why it was done, skipped, failed or forced.
    func recordLines(_ step: Step, width: Int) -> [String] {
        guard let summary = recordSummary(step.id) else { return [] }
        let record = engine.state.record(step.id)
        let mark = overviewMark(step) == "▶" ? (record.forced ? "!" : record.status.mark) : overviewMark(step)
        let text = TerminalMarkdown.wrap("\(mark) " + summary.prefix(1).uppercased() + summary.dropFirst(), width: width)
        return text.map { record.status == .done && !record.forced ? style.green($0) : style.yellow($0) }
    }
}
