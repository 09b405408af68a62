import Foundation
import Mustache

/// Renders a readiness report: JSON directly, Markdown and HTML through Mustache templates
/// (`templates/reports/readiness.FORMAT.mustache`, or a team's own).
public enum ReadinessRenderer {
    public enum Format: String, CaseIterable, Sendable {
        case md, html, json
    }

    public static func render(_ report: ReadinessReport, format: Format, template: String? = nil) throws -> String {
        // Names, reasons and titles from journals show with their control characters escaped.
        let report = ShownText.escapingStrings(in: report, freeText: ["text", "reasons"], names: ShownText.personNameKeys)
        if format == .json && template == nil { return report.json() }
        return try ReportRenderer.renderTemplate(template ?? BuiltinTemplates.readiness[format.rawValue] ?? "", context: context(report))
    }

    /// The sentence under the decision. GO claims only what GO implies: a waiver, a forced step,
    /// a skip by hand or a failure in a required run, or a calendar exception is an exception.
    static func decisionText(_ report: ReadinessReport) -> String {
        switch report.decision {
        case .go:
            "Every required runbook has a completed, current run whose journal verifies, and the rollback is rehearsed. "
                + "No gate was waived, no step was forced, no required step was skipped by hand or failed, and no change-calendar exception was granted."
        case .noGo:
            "\(report.blockers.count) blocking reason\(report.blockers.count == 1 ? "" : "s") below must be resolved first."
        case .goWithExceptions:
            "Nothing blocks, but \(report.exceptions.count) exception\(report.exceptions.count == 1 ? " was" : "s were") accepted on the way; each is listed with who made it."
        }
    }

    /// The report's JSON fields plus ready-made phrases and Markdown-safe cells.
    static func context(_ report: ReadinessReport) -> [String: Any] {
        var context = ReportRenderer.jsonObject(report)
        func plain(_ time: String?) -> String { time.flatMap(Timestamp.parse).map { Timestamp.plain($0) } ?? time ?? "" }
        context["decisionText"] = decisionText(report)
        context["decisionMark"] = report.decision == .go ? "✅" : report.decision == .noGo ? "⛔" : "⚠️"
        context["targetText"] = report.release.target.flatMap(Timestamp.parse).map { Timestamp.plain($0) + " UTC" } ?? "not set"
        context["classText"] = report.release.releaseClass ?? "not set"
        context["ownerText"] = report.release.owner ?? "not set"
        context["asOfText"] = plain(report.asOf) + " UTC"
            + (report.rewound ? " (given: each journal counts as it stood then)" : " (now: every event counts)")
        if let closure = report.closure {
            context["closedText"] = cell(closure.notCounted.map { "not counted: a closure by \(closure.by) (\($0))" } ?? closure.sentence)
            if closure.notCounted == nil, !closure.followUp.isEmpty {
                let due = "due: " + closure.followUp.joined(separator: "; ")
                let notCounted = closure.pir?.notCounted.map { " (a PIR record by \(closure.pir?.by ?? "") does not count: \($0))" } ?? ""
                context["followUpText"] = cell(closure.pir.flatMap { $0.notCounted == nil ? "PIR " + $0.sentence : nil } ?? due + notCounted)
            }
            if !closure.laterRuns.isEmpty { context["laterRunsText"] = cell(closure.laterRuns.joined(separator: ", ")) }
        }
        context["blockerCount"] = report.blockers.count
        context["hasComponents"] = report.components != nil
        context["components"] = (report.components ?? []).map { component -> [String: Any] in
            ["name": component.name, "mdName": cell(component.name), "owner": component.owner ?? "not listed in the inventory", "mdOwner": cell(component.owner ?? "not listed in the inventory"),
             "owners": component.owners.joined(separator: ", "), "mdOwners": cell(component.owners.joined(separator: ", ")),
             "criticality": component.criticality ?? "unknown", "items": component.items.joined(separator: ", "),
             "mdItems": cell(component.items.joined(separator: ", "))]
        }
        context["exceptionCount"] = report.exceptions.count
        context["hasBlockers"] = !report.blockers.isEmpty
        context["hasExceptions"] = !report.exceptions.isEmpty
        for key in ["blockers", "exceptions"] {
            context[key] = (context[key] as? [[String: Any]] ?? []).map { finding -> [String: Any] in
                var finding = finding
                finding["mdItem"] = cell(finding["item"] as? String ?? "")
                finding["mdText"] = cell(finding["text"] as? String ?? "")
                finding["mdBy"] = cell(finding["by"] as? String ?? "")
                return finding
            }
        }
        context["items"] = zip(report.items, context["items"] as? [[String: Any]] ?? []).map { item, fields -> [String: Any] in
            var fields = fields
            fields["mark"] = item.status == "ready" ? "✓" : item.status == "blocked" ? "✗" : "!"
            fields["mdTitle"] = cell(item.title)
            fields["endedText"] = plain(item.endedAt)
            fields["outcome"] = item.outcome ?? "no run"
            fields["classText"] = classText(item, release: report.release.releaseClass)
            if let change = item.change { fields["mdChange"] = cell(change) }
            return fields
        }
        // The approvals, plan changes and journals of every item, one row each.
        var approvals: [[String: Any]] = []
        var changes: [[String: Any]] = []
        var journals: [[String: Any]] = []
        var seals: [[String: Any]] = []
        for item in report.items {
            let title: [String: Any] = ["item": item.title, "mdItem": cell(item.title), "link": item.link, "run": item.run ?? ""]
            for approver in item.approvers {
                approvals.append(title.merging([
                    "gate": approver.gate, "by": approver.by, "mdBy": cell(approver.by),
                    "role": approver.role, "when": plain(approver.at), "waived": approver.waived,
                    "how": approver.waived ? "WAIVED" : "signed",
                    "text": approver.text ?? "", "mdText": cell(approver.text ?? ""),
                    "signature": approver.key.map { "by \($0), verified" } ?? "none",
                ]) { _, new in new })
            }
            for change in item.changes {
                let reasons = change.reasons.joined(separator: "; ")
                changes.append(title.merging([
                    "when": plain(change.at), "by": change.by, "mdBy": cell(change.by),
                    "reasons": reasons, "mdReasons": cell(reasons),
                ]) { _, new in new })
            }
            for seal in item.seals ?? [] {
                seals.append(title.merging([
                    "by": seal.by, "mdBy": cell(seal.by), "when": plain(seal.at), "seq": seal.seq, "head": seal.head,
                    "how": seal.signed ? "signed" : "UNSIGNED",
                ]) { _, new in new })
            }
            if let run = item.run, let head = item.headHash {
                journals.append(title.merging(["run": run, "events": item.eventCount ?? 0, "head": head]) { _, new in new })
            }
        }
        context["approvals"] = approvals
        context["hasApprovals"] = !approvals.isEmpty
        context["planChanges"] = changes
        context["hasPlanChanges"] = !changes.isEmpty
        context["journals"] = journals
        context["hasJournals"] = !journals.isEmpty
        context["seals"] = seals
        context["hasSeals"] = !seals.isEmpty
        return context
    }

    /// Text safe in a GitHub table cell or list item: no pipes or line breaks, and no HTML, which
    /// GitHub would render (a reason or name is shown as typed, never as markup).
    static func cell(_ text: String) -> String {
        MarkdownText.cell(text)
    }

    /// The run's class, and how it stands against the release's.
    static func classText(_ item: ReadinessReport.Item, release: String?) -> String {
        guard let runClass = item.runClass else { return "" }
        switch item.classCheck {
        case "below": return "\(runClass) (below \(release ?? "?"))"
        case "break-glass": return "\(runClass) (break-glass)"
        default: return runClass
        }
    }
}
