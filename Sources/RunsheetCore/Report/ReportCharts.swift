import Foundation

/// Timelines of a run's steps: a Mermaid Gantt chart for Markdown, an inline SVG for HTML.
enum ReportCharts {
    /// Settled steps with both times, in the order they were worked on: each bar is the visit
    /// that settled the step, from when the operator came to it for the last time.
    static func timed(_ report: RunReport) -> [(step: RunReport.Step, start: Date, end: Date)] {
        report.steps.compactMap { step -> (RunReport.Step, Date, Date)? in
            guard step.status != "pending", step.status != "active", step.status != RunReport.neverDoneStatus,
                  let start = (step.visitedAt ?? step.startedAt).flatMap(Timestamp.parse), let end = step.endedAt.flatMap(Timestamp.parse) else { return nil }
            return (step, start, max(start, end))
        }.sorted { ($0.1, $0.0.id) < ($1.1, $1.0.id) }
    }

    /// A Mermaid `gantt` block body (without the fences).
    static func gantt(_ report: RunReport) -> String {
        var lines = ["gantt", "    title \(clean(report.run.title)) (\(report.run.outcome))",
                     "    dateFormat YYYY-MM-DD HH:mm:ss", "    axisFormat %H:%M:%S"]
        var section: String?
        for (index, entry) in timed(report).enumerated() {
            let name = entry.step.section ?? "Steps"
            if name != section {
                lines.append("    section \(clean(name))")
                section = name
            }
            let tag = entry.step.status == "failed" ? "crit, " : entry.step.status == "skipped" ? "" : "done, "
            // Mermaid draws a zero-length bar as nothing; a step shorter than a second gets one second.
            let end = max(entry.end, entry.start.addingTimeInterval(1))
            lines.append("    \(clean(entry.step.title)) :\(tag)s\(index + 1), \(mermaidTime(entry.start)), \(mermaidTime(end))")
        }
        return lines.joined(separator: "\n")
    }

    /// A self-contained SVG: one bar per step on a shared time axis, coloured by outcome.
    static func svgTimeline(_ report: RunReport) -> String {
        let entries = timed(report)
        let rowHeight = 22, labelWidth = 260, chartWidth = 560, top = 24
        let height = top + max(1, entries.count) * rowHeight + 8
        var svg = ["<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(labelWidth + chartWidth + 20)\" height=\(quote(height)) viewBox=\"0 0 \(labelWidth + chartWidth + 20) \(height)\" role=\"img\" aria-label=\"Step timeline\">"]
        guard let first = entries.map(\.start).min(), let last = entries.map(\.end).max() else {
            svg.append("<text x=\"0\" y=\"16\" font-size=\"12\">No step has finished yet.</text></svg>")
            return svg.joined(separator: "\n")
        }
        let span = max(1, last.timeIntervalSince(first))
        svg.append("<text x=\"\(labelWidth)\" y=\"14\" font-size=\"11\" fill=\"#555\">\(escape(mermaidTime(first))) UTC</text>")
        svg.append("<text x=\"\(labelWidth + chartWidth)\" y=\"14\" font-size=\"11\" fill=\"#555\" text-anchor=\"end\">+\(DurationText.format(Int(span.rounded())))</text>")
        for (row, entry) in entries.enumerated() {
            let y = top + row * rowHeight
            let x = labelWidth + Int((entry.start.timeIntervalSince(first) / span * Double(chartWidth)).rounded())
            let width = max(2, Int((entry.end.timeIntervalSince(entry.start) / span * Double(chartWidth)).rounded()))
            let colour = entry.step.status == "failed" ? "#c62828" : entry.step.status == "skipped" ? "#9e9e9e" : "#2e7d32"
            let label = entry.step.title.count > 40 ? String(entry.step.title.prefix(39)) + "…" : entry.step.title
            svg.append("<text x=\"0\" y=\"\(y + 15)\" font-size=\"12\">\(escape(label))</text>")
            svg.append("<rect x=\"\(x)\" y=\"\(y + 4)\" width=\"\(width)\" height=\"14\" fill=\"\(colour)\"><title>\(escape(entry.step.id)): \(entry.step.status), \(entry.step.durationSeconds.map(DurationText.format) ?? "")</title></rect>")
        }
        svg.append("</svg>")
        return svg.joined(separator: "\n")
    }

    static func quote(_ value: Int) -> String { "\"\(value)\"" }

    /// Mermaid splits task lines on `:`, `;` and `#`; they become spaces.
    /// A label Mermaid reads as text: its syntax characters (`:`, `;`, `#`, line breaks) become
    /// spaces, and `<`, `>` and `&`, which a renderer could take as HTML, look-alikes (‹ › ＆).
    static func clean(_ text: String) -> String {
        String(text.map { character -> Character in
            switch character {
            case ":", ";", "#", "\n", "\r": " "
            case "<": "‹"
            case ">": "›"
            case "&": "＆"
            default: character
            }
        })
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func mermaidTime(_ date: Date) -> String { Timestamp.plain(date) }
}
