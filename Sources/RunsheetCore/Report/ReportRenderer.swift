import Foundation
import Mustache

/// Renders a run report through a Mustache template: the built-in one for the format (a copy of
/// `templates/reports/run.FORMAT.mustache`) or a team's own.
public enum ReportRenderer {
    public enum Format: String, CaseIterable, Sendable {
        case md, html, json, junit, csv
    }

    public struct TemplateError: Error, LocalizedError {
        public var message: String
        public var errorDescription: String? { message }
    }

    /// The report in `format`; `template` is the text of a template to use instead of the built-in one.
    public static func render(_ report: RunReport, format: Format, template: String? = nil) throws -> String {
        if format == .json && template == nil { return report.json() }
        return try renderTemplate(template ?? BuiltinTemplates.run[format.rawValue] ?? "", context: context(report, format: format))
    }

    /// Renders Mustache `text` with `context`; a template that does not parse is a `TemplateError`.
    public static func renderTemplate(_ text: String, context: [String: Any]) throws -> String {
        _ = markdownContentType
        let parsed: MustacheTemplate
        do {
            parsed = try MustacheTemplate(string: text)
        } catch {
            throw TemplateError(message: "the template is not valid Mustache: \(error)")
        }
        return parsed.render(context)
    }

    /// `{{% CONTENT_TYPE: MARKDOWN}}`: every `{{value}}` is written as one Markdown table cell
    /// (`MarkdownText.cell`: no HTML, no `|`, no line break); `{{{value}}}` is written as it is.
    private static let markdownContentType: Void = MustacheContentTypes.register(MarkdownContentType(), named: "MARKDOWN")

    struct MarkdownContentType: MustacheContentType {
        func escapeText(_ text: String) -> String { MarkdownText.cell(text) }
    }

    /// A Codable value as the dictionaries and arrays templates walk.
    static func jsonObject<T: Encodable>(_ value: T) -> [String: Any] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data()
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
    }

    /// The values templates see: the report's JSON fields, plus ready-made pieces per format.
    static func context(_ report: RunReport, format: Format) -> [String: Any] {
        var context = jsonObject(report)
        let run = report.run
        var steps = context["steps"] as? [[String: Any]] ?? []
        for (index, step) in report.steps.enumerated() {
            var extra: [String: Any] = [
                "number": index + 1,
                "mark": mark(step, at: run.at),
                "duration": step.durationSeconds.map(DurationText.format) ?? "",
                "estimate": step.estimateSeconds.map(DurationText.format) ?? "",
                "overEstimate": (step.durationSeconds ?? 0) > (step.estimateSeconds ?? Int.max),
                "failed": step.status == "failed",
                "neverDoneStep": step.status == RunReport.neverDoneStatus,
                "skipped": step.status == "skipped",
                "open": step.status == "pending" || step.status == "active",
                "exitCodes": step.commands.map { $0.exit.map(String.init) ?? ($0.timedOut ? "timeout" : "-") }.joined(separator: ", "),
                "who": step.actor ?? "",
                "when": step.endedAt.map(shortTime) ?? "",
                "seconds": String(format: "%.3f", Double(step.durationSeconds ?? 0)),
            ]
            let detail = details(step)
            if !detail.isEmpty { extra["details"] = detail }
            extra["mdTitle"] = markdownCell(step.title)
            extra["mdDetails"] = markdownCell(details(step))
            let exits: String = step.commands.map { $0.exit.map(String.init) ?? "" }.joined(separator: " ")
            let signers: String = step.signOffs.map { "\($0.actor) (\($0.role ?? ""))" }.joined(separator: "; ")
            let notes: String = step.notes.map { $0.text ?? "" }.joined(separator: "; ")
            // New columns go last, so a sheet that reads columns by position keeps working.
            let signatures: String = step.signOffs.map { "\($0.actor): \($0.signature?.text ?? "no SSH signature")" }.joined(separator: "; ")
            let comments: String = step.signOffs.compactMap { entry in entry.text.map { "\(entry.actor) (\(entry.role ?? "")): \($0)" } }.joined(separator: "; ")
            let exceptions: String = step.exceptions.map { "\($0.actor) (\($0.role ?? "")) at \($0.time): \($0.text ?? "")" }.joined(separator: "; ")
            var fields: [String] = [step.id, step.title, step.section ?? "", step.status, step.actor ?? ""]
            fields += [step.startedAt ?? "", step.endedAt ?? "", step.durationSeconds.map(String.init) ?? ""]
            fields += [step.estimateSeconds.map(String.init) ?? "", step.reason ?? "", exits, signers, notes, step.branch ?? ""]
            let forced = step.forced.map { forced in
                "\(forced.by) at \(forced.at): \(forced.reason)" + (forced.overrode.isEmpty ? "" : " (overrode exit \(StepForced.exitCodes(forced.overrode)))")
            } ?? ""
            let waivers = (step.waivers ?? []).map { "\($0.actor) (\($0.role)) at \($0.time): \($0.reason); it needed \($0.unmet)" }.joined(separator: "; ")
            fields += [comments, exceptions, forced, waivers, step.mayHaveRun?.text ?? "", signatures]
            fields.append(run.changeRecord ?? "")  // the run's change record, on every row so a sheet can filter by it
            if let unfinished = step.mayHaveRun { extra["mayHaveRunText"] = unfinished.text }
            extra["csv"] = fields.map(csvField).joined(separator: ",")
            steps[index].merge(extra) { _, new in new }
        }
        context["steps"] = steps
        let failed = report.steps.filter { $0.status == "failed" }.count
        let skipped = report.steps.filter { $0.status == "skipped" }.count
        let neverDone = report.steps.filter { $0.status == RunReport.neverDoneStatus }.count
        context["summary"] = [
            "done": report.steps.filter { $0.status == "done" }.count, "failed": failed, "skipped": skipped,
            // A never-done step is a failure to JUnit: the run ended without it.
            "neverDone": neverDone, "hasNeverDone": neverDone > 0, "failures": failed + neverDone,
            "open": report.steps.filter { $0.status == "pending" || $0.status == "active" }.count, "total": report.steps.count,
            // Once the run has ended, a step it never reached (a branch not taken) is not open.
            "openLabel": run.outcome == "in progress" ? "open" : "not reached",
            "notRun": report.steps.filter { $0.status != "done" && $0.status != "failed" && $0.status != RunReport.neverDoneStatus }.count,
            "duration": (run.durationSeconds.map(DurationText.format) ?? "") + (run.pausedSeconds > 0 ? " (plus \(DurationText.format(run.pausedSeconds)) paused)" : ""), "seconds": String(format: "%.3f", Double(run.durationSeconds ?? 0)),
            "params": run.params.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "),
            "actors": run.actors.joined(separator: ", "), "commit": run.gitCommit ?? "not recorded",
            "completed": run.outcome == "completed",
            "followUp": report.followUp.map(followUpText) ?? "",
            "signOffs": report.steps.flatMap { step in step.signOffs.map { ["step": step.id, "actor": $0.actor, "role": $0.role ?? "", "time": $0.time, "comment": ($0.text ?? "") + ($0.stale == nil ? "" : " (no longer counts: the plan changed)"),
                                                                     "signature": $0.signature?.text ?? "no SSH signature"] } },
        ] as [String: Any]
        let forced = report.steps.filter { $0.forced != nil }.count
        let waived = report.steps.filter { $0.waivers?.isEmpty == false }.count
        context["hasOverrides"] = forced + waived > 0
        context["overrides"] = [forced > 0 ? "\(forced) forced" : nil, waived > 0 ? "\(waived) gate\(waived == 1 ? "" : "s") waived" : nil]
            .compactMap { $0 }.joined(separator: ", ")
        context["planChanges"] = (run.changes ?? []).map { "\($0.time) by \($0.actor): \($0.reasons.joined(separator: "; "))" }
        context["hasSignOffs"] = report.steps.contains { !$0.signOffs.isEmpty }
        context["csvHeader"] = "step,title,section,status,actor,started,ended,duration_seconds,estimate_seconds,reason,exit_codes,sign_offs,notes,branch,sign_off_comments,calendar_exceptions,forced,waivers,may_have_run,sign_off_signatures,change"
        context["gantt"] = ReportCharts.gantt(report)
        context["svgTimeline"] = ReportCharts.svgTimeline(report)
        return context
    }

    /// The step's mark: ↺ approval lapsed, ⚠ forced, ⊘ never done, ▶ only on the open step the
    /// run is at; a step it has not settled elsewhere is ·, whether ahead or moved past.
    static func mark(_ step: RunReport.Step, at current: String?) -> String {
        if step.approvalLapsed == true { return "↺" }
        if step.forced != nil { return "⚠" }
        if step.status == RunReport.neverDoneStatus { return RunState.neverDoneMark }
        guard let status = RunState.StepStatus(rawValue: step.status) else { return "·" }
        if status.isSettled { return status.mark }
        return step.id == current ? RunState.StepStatus.active.mark : RunState.StepStatus.pending.mark
    }

    static func followUpText(_ followUp: RunReport.FollowUpStatus) -> String {
        switch followUp.status {
        case "done": "done by \(followUp.by ?? "?") at \(followUp.at ?? "?")"
        case "overdue": "missing, OVERDUE since \(followUp.due ?? "?")"
        default: "missing, due \(followUp.due ?? "?")"
        }
    }

    /// Reason, notes, sign-offs, exceptions and branch in one line.
    static func details(_ step: RunReport.Step) -> String {
        var parts: [String] = []
        if step.approvalLapsed == true { parts.append("APPROVAL LAPSED: the gate must be approved again") }
        if let never = step.neverDone { parts.append(never) }
        if let moved = step.movedPast { parts.append(moved) }
        if let unfinished = step.mayHaveRun { parts.append(unfinished.text) }
        if let awaiting = step.awaitingDecision { parts.append(awaiting) }
        if let forced = step.forced {
            let codes = StepForced.exitCodes(forced.overrode)
            parts.append("FORCED done by \(forced.by): \(forced.reason)" + (codes.isEmpty ? "" : " (overrode exit \(codes))"))
        } else if let reason = step.reason {
            parts.append(reason)
        }
        for waiver in step.waivers ?? [] {
            parts.append("WAIVED by \(waiver.actor) (\(waiver.role)): \(waiver.reason); it needed \(waiver.unmet)" + (waiver.stale.map { " (no longer counts: \($0))" } ?? ""))
        }
        if !step.signOffs.isEmpty {
            parts.append("signed by " + step.signOffs.map { "\($0.actor) (\($0.role ?? "")\($0.stale == nil ? "" : ", no longer counts: the plan changed"); \($0.signature?.text ?? "no SSH signature"))" }.joined(separator: ", "))
        }
        for rejection in step.rejections { parts.append("rejected by \(rejection.actor): \(rejection.text ?? "")") }
        for exception in step.exceptions { parts.append("calendar exception by \(exception.actor): \(exception.text ?? "")") }
        for note in step.notes { parts.append("note (\(note.actor)): \(note.text ?? "")") }
        if let branch = step.branch { parts.append("→ \(branch)") }
        return parts.joined(separator: "; ").split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    /// Text safe inside a GitHub table cell.
    static func markdownCell(_ text: String) -> String { MarkdownText.cell(text) }

    /// RFC 4180: quoted when it holds a comma, quote or line break.
    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// `05:14:03` from an ISO timestamp.
    static func shortTime(_ timestamp: String) -> String {
        guard let t = timestamp.firstIndex(of: "T") else { return timestamp }
        return String(timestamp[timestamp.index(after: t)...].prefix(8))
    }
}
