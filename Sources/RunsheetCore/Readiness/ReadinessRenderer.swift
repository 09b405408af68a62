import Foundation
import Mustache

/// Renders a readiness report: JSON directly, Markdown and HTML through Mustache templates
/// (`templates/reports/readiness.FORMAT.mustache`, or a team's own).
public enum ReadinessRenderer {
    public enum Format: String, CaseIterable, Sendable {
        case md, html, json
    }

    public static func render(_ report: ReadinessReport, format: Format, template: String? = nil) throws -> String {
        if format == .json && template == nil { return report.json() }
        return try ReportRenderer.renderTemplate(template ?? BuiltinTemplates.readiness[format.rawValue] ?? "", context: context(report))
    }

    /// The report's JSON fields plus ready-made phrases and Markdown-safe cells.
    static func context(_ report: ReadinessReport) -> [String: Any] {
        var context = ReportRenderer.jsonObject(report)
        let decisionText: String
        switch report.decision {
        case .go: decisionText = "Every required runbook has a completed, current run, the rollback is rehearsed, and nothing was waived."
        case .noGo: decisionText = "\(report.blockers.count) blocking reason\(report.blockers.count == 1 ? "" : "s") below must be resolved first."
        case .goWithExceptions: decisionText = "Nothing blocks, but \(report.exceptions.count) exception\(report.exceptions.count == 1 ? " was" : "s were") accepted on the way; each is listed with who made it."
        }
        context["decisionText"] = decisionText
        context["decisionMark"] = report.decision == .go ? "✅" : report.decision == .noGo ? "⛔" : "⚠️"
        context["targetText"] = report.release.target.flatMap(Timestamp.parse).map { Timestamp.plain($0) + " UTC" } ?? "not set"
        context["classText"] = report.release.releaseClass ?? "not set"
        context["ownerText"] = report.release.owner ?? "not set"
        context["asOfText"] = Timestamp.parse(report.asOf).map { Timestamp.plain($0) + " UTC" } ?? report.asOf
        context["blockerCount"] = report.blockers.count
        context["exceptionCount"] = report.exceptions.count
        context["hasBlockers"] = !report.blockers.isEmpty
        context["hasExceptions"] = !report.exceptions.isEmpty
        for key in ["blockers", "exceptions"] {
            context[key] = (context[key] as? [[String: Any]] ?? []).map { finding -> [String: Any] in
                var finding = finding
                finding["mdItem"] = ReportRenderer.markdownCell(finding["item"] as? String ?? "")
                finding["mdText"] = ReportRenderer.markdownCell(finding["text"] as? String ?? "")
                return finding
            }
        }
        context["items"] = (context["items"] as? [[String: Any]] ?? []).map { item -> [String: Any] in
            var item = item
            let status = item["status"] as? String ?? ""
            item["mark"] = status == "ready" ? "✓" : status == "blocked" ? "✗" : "!"
            item["mdTitle"] = ReportRenderer.markdownCell(item["title"] as? String ?? "")
            item["endedText"] = (item["endedAt"] as? String).flatMap(Timestamp.parse).map { Timestamp.plain($0) } ?? ""
            if item["outcome"] == nil { item["outcome"] = "no run" }
            return item
        }
        return context
    }
}
