import Foundation

/// Renders delivery metrics: JSON directly; Markdown (with Mermaid charts), HTML (with inline
/// SVG charts) and CSV through the templates `templates/reports/metrics.FORMAT.mustache`.
public enum MetricsRenderer {
    public enum Format: String, CaseIterable, Sendable {
        case md, html, json, csv
    }

    public static func render(_ metrics: DeliveryMetrics, format: Format, template: String? = nil) throws -> String {
        if format == .json && template == nil { return metrics.json() }
        return try ReportRenderer.renderTemplate(template ?? BuiltinTemplates.metrics[format.rawValue] ?? "", context: context(metrics))
    }

    static func context(_ metrics: DeliveryMetrics) -> [String: Any] {
        var context = ReportRenderer.jsonObject(metrics)
        context["period"] = (metrics.since.flatMap(Timestamp.parse).map { "from " + Timestamp.plain($0) + " UTC " } ?? "")
            + "to " + (Timestamp.parse(metrics.until).map { Timestamp.plain($0) + " UTC" } ?? metrics.until)
        context["hasGroups"] = !metrics.groups.isEmpty
        context["groups"] = metrics.groups.map { group -> [String: Any] in
            [
                "service": group.service, "environment": group.environment, "deployments": group.deployments,
                "measures": group.measures.map { measure -> [String: Any] in
                    [
                        "name": measure.name, "unit": measure.unit, "n": measure.n,
                        "value": text(measure.value, unit: measure.unit), "median": text(measure.median, unit: measure.unit),
                        "p90": text(measure.p90, unit: measure.unit),
                        "csv": [group.service, group.environment, measure.name, measure.unit, String(measure.n),
                                measure.value.map { String($0) } ?? "", measure.median.map(String.init) ?? "", measure.p90.map(String.init) ?? ""]
                            .map(ReportRenderer.csvField).joined(separator: ","),
                    ]
                },
                "mermaid": mermaid(group), "svg": svg(group),
            ]
        }
        let steps = { (list: [DeliveryMetrics.StepStat]) in
            list.map { stat -> [String: Any] in
                [
                    "runbook": stat.runbook, "step": stat.step, "mdStep": MarkdownText.cell(stat.step), "n": stat.n, "failed": stat.failed, "skipped": stat.skipped,
                    "neverDone": stat.neverDone, "neverDoneOf": stat.neverDoneOf,
                    "median": stat.median.map(DurationText.approximate) ?? "–", "p90": stat.p90.map(DurationText.approximate) ?? "–",
                    "estimate": stat.estimate.map(DurationText.format) ?? "–",
                    "over": (stat.median ?? 0) > (stat.estimate ?? Int.max),
                ]
            }
        }
        context["steps"] = steps(metrics.steps)
        context["mostFailed"] = steps(metrics.mostFailed)
        context["mostSkipped"] = steps(metrics.mostSkipped)
        context["hasMostFailed"] = !metrics.mostFailed.isEmpty
        context["hasMostSkipped"] = !metrics.mostSkipped.isEmpty
        context["mostNeverDone"] = steps(metrics.mostNeverDone)
        context["hasMostNeverDone"] = !metrics.mostNeverDone.isEmpty
        context["neverDoneNotCounted"] = metrics.neverDoneNotCounted.map { ["text": $0.text, "mdText": MarkdownText.inline($0.text)] }
        context["neverDoneCSV"] = neverDoneCSV(metrics)
        if let halted = metrics.halted {
            let count = halted.halts ?? 0
            context["halted"] = [
                "problem": halted.problem ?? "", "hasProblem": halted.problem != nil,
                "text": DurationText.format(halted.seconds ?? 0), "halts": count, "plural": count != 1,
                "csv": ["", "", "production halted", "seconds", halted.halts.map(String.init) ?? "", halted.seconds.map(String.init) ?? "", "", ""]
                    .map(ReportRenderer.csvField).joined(separator: ","),
            ] as [String: Any]
        }
        return context
    }

    /// CSV rows: per step some run left never done, `,,never done: RUNBOOK/STEP,runs,OF,COUNT,,`;
    /// per run not judged, `,,never done not counted: run RUN,,,,,`.
    static func neverDoneCSV(_ metrics: DeliveryMetrics) -> [String] {
        let steps = metrics.steps.filter { $0.neverDone > 0 }.map { stat in
            ["", "", "never done: \(stat.runbook)/\(stat.step)", "runs", String(stat.neverDoneOf), String(stat.neverDone), "", ""]
        }
        let runs = metrics.neverDoneNotCounted.map { ["", "", "never done not counted: run \($0.run)", "", "", "", "", ""] }
        return (steps + runs).map { $0.map(ReportRenderer.csvField).joined(separator: ",") }
    }

    static func text(_ value: Double?, unit: String) -> String {
        guard let value else { return "–" }
        let number = value == value.rounded() ? String(Int(value)) : String(format: "%.2f", value)
        return unit == "percent" ? number + " %" : number
    }

    static func text(_ value: Int?, unit: String) -> String {
        guard let value else { return "–" }
        return unit == "seconds" ? DurationText.approximate(value) : String(value)
    }

    /// A Mermaid bar chart of deployments per week, with failed ones as a line.
    static func mermaid(_ group: DeliveryMetrics.Group) -> String {
        let weeks = group.weeks
        let top = max(1, weeks.map(\.deployments).max() ?? 1)
        return """
            xychart-beta
                title "\(group.service) / \(group.environment): deployments per week"
                x-axis [\(weeks.map { "\"\($0.week)\"" }.joined(separator: ", "))]
                y-axis "deployments" 0 --> \(top)
                bar [\(weeks.map { String($0.deployments) }.joined(separator: ", "))]
                line [\(weeks.map { String($0.failed) }.joined(separator: ", "))]
            """
    }

    /// The same chart as inline SVG: grey bars for deployments, red for the failed part.
    static func svg(_ group: DeliveryMetrics.Group) -> String {
        let weeks = group.weeks
        let top = max(1, weeks.map(\.deployments).max() ?? 1)
        let barWidth = 34, gap = 8, height = 120, left = 30, bottom = 34
        let width = left + weeks.count * (barWidth + gap) + gap
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height + bottom)\" role=\"img\" aria-label=\"deployments per week\">"
        out += "<line x1=\"\(left)\" y1=\"\(height)\" x2=\"\(width)\" y2=\"\(height)\" stroke=\"#999\"/>"
        out += "<text x=\"0\" y=\"12\" font-size=\"11\" fill=\"#555\">\(top)</text><text x=\"0\" y=\"\(height)\" font-size=\"11\" fill=\"#555\">0</text>"
        for (index, week) in weeks.enumerated() {
            let x = left + gap + index * (barWidth + gap)
            let total = week.deployments * (height - 10) / top
            let failed = week.failed * (height - 10) / top
            out += "<rect x=\"\(x)\" y=\"\(height - total)\" width=\"\(barWidth)\" height=\"\(total)\" fill=\"#90a4ae\"><title>\(week.week): \(week.deployments) deployments, \(week.failed) failed</title></rect>"
            if failed > 0 { out += "<rect x=\"\(x)\" y=\"\(height - failed)\" width=\"\(barWidth)\" height=\"\(failed)\" fill=\"#c62828\"/>" }
            out += "<text x=\"\(x + barWidth / 2)\" y=\"\(height + 14)\" font-size=\"10\" text-anchor=\"middle\" fill=\"#333\">\(week.deployments)</text>"
            out += "<text x=\"\(x + barWidth / 2)\" y=\"\(height + 28)\" font-size=\"9\" text-anchor=\"middle\" fill=\"#555\">\(week.week.dropFirst(5))</text>"
        }
        return out + "</svg>"
    }
}
