import Foundation

/// The runbook's own Markdown filled in from a run: each task box set from the step's outcome,
/// and one trail bullet per settled step saying who, when, how long and what was noted. Every
/// other byte is left as it is, so `git diff` against the source shows only those lines.
public enum ChecklistRenderer {
    /// The text of the trail bullet for a step (Markdown, its journal text escaped), or nil when the step has not settled.
    public static func trail(for step: Step, in state: RunState) -> String? {
        let record = state.record(step.id)
        var parts: [String] = []
        let when = record.endedAt.flatMap(Timestamp.parse).map(format) ?? ""
        switch record.status {
        case .done:
            var text = record.forced ? "\(record.mark) forced done by \(record.actor ?? "?"), \(when): \(oneLine(record.reason ?? ""))"
                : "\(record.mark) done by \(record.actor ?? "?"), \(when)"
            if let seconds = state.secondsSpent(on: step.id) {
                text += ", took \(DurationText.format(seconds))"
                if let estimate = step.estimateSeconds { text += " (estimate \(DurationText.format(estimate)))" }
            }
            parts.append(text)
        case .skipped:
            parts.append((record.automatic ? "\(record.status.mark) skipped automatically, \(when)" : "\(record.status.mark) skipped by \(record.actor ?? "?"), \(when)")
                         + (record.reason.map { ": \(oneLine($0))" } ?? ""))
        case .failed:
            parts.append("\(record.status.mark) failed, \(record.actor ?? "?"), \(when)" + (record.reason.map { ": \(oneLine($0))" } ?? ""))
        case .pending, .active:
            return nil
        }
        if let last = record.commands.last {
            parts.append("command exit \(last.exitCode.map(String.init) ?? (last.timedOut ? "timeout" : "-"))")
        }
        let signers = (state.signatures[step.id] ?? []).map { "\($0.signer) (\($0.role))" }
        if !signers.isEmpty { parts.append("signed by " + signers.joined(separator: ", ")) }
        for waiver in state.waivers[step.id] ?? [] {
            parts.append("waived by \(waiver.actor) (\(waiver.role)): \(oneLine(waiver.reason))")
        }
        for grant in state.exceptions[step.id] ?? [] {
            parts.append("calendar exception by \(grant.actor): \(oneLine(grant.text))")
        }
        for note in record.notes { parts.append("note by \(note.actor): \(oneLine(note.text))") }
        // Names, reasons and notes show as typed: never as HTML or a line of their own.
        return MarkdownText.inline(parts.joined(separator: "; "))
    }

    /// The trail bullet of a step a completed run moved past with goto and never settled.
    static let neverDoneTrail = MarkdownText.inline("\(RunState.neverDoneMark) \(RunState.neverDoneText)")

    /// Renders `source` (the runbook file's bytes) for the run `state`.
    public static func render(source: [UInt8], runbook: Runbook, state: RunState) -> [UInt8] {
        var bytes = source
        var trails: [Int: [(column: Int, boxLine: Int, text: String)]] = [:]
        for step in runbook.steps where step.origin == nil {
            let status = state.record(step.id).status
            if let box = step.boxOffset, box < bytes.count {
                let ticked = bytes[box] == UInt8(ascii: "x") || bytes[box] == UInt8(ascii: "X")
                if status == .done && !ticked { bytes[box] = UInt8(ascii: "x") }
                if status != .done && ticked { bytes[box] = UInt8(ascii: " ") }
            }
            if let line = step.trailLine, let column = step.trailColumn,
               let text = trail(for: step, in: state) ?? (state.isNeverDone(step, in: runbook) ? neverDoneTrail : nil) {
                trails[line, default: []].append((column, step.line, text))
            }
        }
        guard !trails.isEmpty else { return bytes }
        let lines = lineRanges(bytes)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + trails.count * 80)
        for (index, range) in lines.enumerated() {
            out += bytes[range]
            guard let entries = trails[index + 1] else { continue }
            let ending: [UInt8] = range.count >= 2 && bytes[range.upperBound - 2] == 0x0D ? [0x0D, 0x0A] : [0x0A]
            if out.last != 0x0A { out += ending }
            for entry in entries {
                let prefixLine = lines[min(max(entry.boxLine, 1), lines.count) - 1]
                out += prefix(bytes[prefixLine], column: entry.column)
                out += Array("- \(entry.text)".utf8) + ending
            }
        }
        return out
    }

    /// Each line's byte range, its line ending included.
    static func lineRanges(_ bytes: [UInt8]) -> [Range<Int>] {
        var ranges: [Range<Int>] = []
        var start = 0
        for (i, byte) in bytes.enumerated() where byte == 0x0A {
            ranges.append(start..<(i + 1))
            start = i + 1
        }
        if start < bytes.count { ranges.append(start..<bytes.count) }
        return ranges
    }

    /// The container prefix of a line up to the item's content column: block-quote markers and
    /// tabs kept, list markers and everything else turned into spaces.
    static func prefix(_ line: ArraySlice<UInt8>, column: Int) -> [UInt8] {
        line.prefix(max(0, column - 1)).map { $0 == UInt8(ascii: ">") || $0 == 0x09 ? $0 : 0x20 }
    }

    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).joined(separator: " ").trimmed
    }

    /// `2026-11-22 05:14 UTC`.
    static func format(_ date: Date) -> String { Timestamp.plain(date).prefix(16) + " UTC" }
}
