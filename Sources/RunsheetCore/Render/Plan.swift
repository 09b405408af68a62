import Foundation

/// The `--dry-run` plan: every step in walk order, resolved (values with control characters shown
/// escaped, `ShownText`), with nothing run.
public enum Plan {
    /// The plan for `runbook` with `values` filled in and the sign-offs `policy` asks of each gate.
    public static func render(_ runbook: Runbook, values: [String: String], policy: ClassPolicy) -> String {
        var lines = ["Plan for \(runbook.title) (\(runbook.path)), class \(runbook.releaseClass.rawValue); nothing will run."]
        var conditionValues = values
        conditionValues["class"] = runbook.releaseClass.rawValue
        let failures = Dictionary(runbook.edges.filter { $0.kind == .failure && $0.to != nil }.map { ($0.from, $0.to!) }, uniquingKeysWith: { a, _ in a })
        var section: String?
        for (n, step) in runbook.steps.enumerated() {
            if step.section != section, let s = runbook.sections.first(where: { $0.id == step.section }) {
                lines.append("")
                lines.append("## \(s.title)" + (s.branch ? "  (entered only on failure or rejection)" : ""))
                section = step.section
            }
            let indent = String(repeating: "  ", count: step.depth)
            let title = Placeholders.display(step.title, params: runbook.params) { values[$0] }.shown
            var line = "\(indent)\(n + 1). [\(step.id)] \(title)"
            if let estimate = step.estimateSeconds { line += "  ~\(DurationText.format(estimate))" }
            if let when = step.when { line += when.holds(in: conditionValues) ? "  (when \(when.text): yes)" : "  (when \(when.text): no, will be skipped)" }
            lines.append(line)
            if step.isGate {
                lines.append(indent + "   gate: " + SignOffRule.summary(policy.rules(for: step)) + (policy.applies(to: step) ? "" : " (does not apply to this class)"))
            }
            for command in step.commands where command.run {
                let shown = ShownText.escaped(Placeholders.display(command.code, params: runbook.params) { values[$0] }, keepingLineBreaks: true)
                for codeLine in shown.split(separator: "\n") { lines.append(indent + "   $ " + codeLine) }
            }
            if let target = failures[step.id] { lines.append(indent + "   on failure → \(target)") }
        }
        let total = runbook.steps.compactMap(\.estimateSeconds).reduce(0, +)
        lines.append("")
        lines.append("\(runbook.steps.count) steps" + (total > 0 ? ", estimated \(DurationText.format(total))" : ""))
        return lines.joined(separator: "\n") + "\n"
    }
}
