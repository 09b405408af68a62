import Foundation

extension Lowering {
    /// Finds `needle` in the source from `line` on (at most `span` lines); falls back to `line`, column 1.
    func locate(_ needle: String, from line: Int, span: Int = 200) -> (Int, Int) {
        let last = min(source.lineCount, line + span)
        guard line <= last else { return (line, 1) }
        for l in line...last {
            let text = source.lineText(l)
            if let range = text.range(of: needle) {
                return (l, text.distance(from: text.startIndex, to: range.lowerBound) + 1)
            }
        }
        return (line, 1)
    }

    mutating func checkAnchors(_ runbook: Runbook) {
        let ids = Set(runbook.sections.map { $0.id.lowercased() }).union(extraAnchors)
        let targetLines = Set(targetPositions.map(\.line))
        for link in anchorLinks where !targetLines.contains(link.line) {
            // Plain ASCII without '%' decodes to itself.
            let decoded = link.anchor.utf8.allSatisfy({ $0 < 0x80 && $0 != 0x25 }) ? link.anchor : link.anchor.removingPercentEncoding
            let anchor = (decoded ?? link.anchor).lowercased()
            if !ids.contains(anchor) {
                let near = EditDistance.closest(to: anchor, in: ids.sorted(), maximum: 3).map { "; did you mean '#\($0)'?" } ?? ""
                report(.warning, .danglingLink, "link to '#\(link.anchor)' matches no heading in this file\(near)", line: link.line, column: link.column)
            }
        }
    }

    mutating func checkParameters(_ runbook: Runbook) {
        let declared = Set(front.params.map(\.name))
        var used = Set<String>()
        func scanText(_ text: String, line: Int, span: Int, executable: Bool, shell: String? = nil) {
            for occurrence in Placeholders.scan(text) {
                used.insert(occurrence.name)
                if executable, front.declaresParams, let shell,
                   let problem = PlaceholderSafety.problem(in: text, at: occurrence.range, shell: shell) {
                    let written = String(decoding: Array(text.utf8)[occurrence.range], as: UTF8.self)
                    let (l, c) = locate(written, from: line, span: span)
                    let variable = PlaceholderVariables.builtins[occurrence.name]
                        ?? RunParameters.variables(for: declared)[occurrence.name] ?? PlaceholderVariables.parameterPrefix + occurrence.name
                    report(.error, .unsafePlaceholder, "'\(written)' in a command run by \(shell): \(problem); read the value from the environment variable \(variable) instead", line: l, column: c)
                }
                guard !Placeholders.builtins.contains(occurrence.name), !declared.contains(occurrence.name) else { continue }
                let written = String(decoding: Array(text.utf8)[occurrence.range], as: UTF8.self)
                let (l, c) = locate(written, from: line, span: span)
                if front.declaresParams {
                    let near = EditDistance.closest(to: occurrence.name, in: declared.sorted(), maximum: 2).map { "; did you mean '\($0)'?" } ?? ""
                    report(.error, .undefinedParam, "'{{\(occurrence.name)}}' is not a declared parameter\(near)", line: l, column: c)
                } else if executable {
                    report(.warning, .undeclaredPlaceholder, "'\(written)' in a run block is left as it is because this runbook declares no params; declare '\(occurrence.name)' under params in the front matter", line: l, column: c)
                }
            }
        }
        for index in steps.indices {
            let span = lineSpan(steps[index].node)
            let lines = span.upperBound - span.lowerBound + 1
            let line = steps[index].step.line
            scanText(steps[index].step.title, line: line, span: lines, executable: false)
            if !steps[index].step.body.isEmpty { scanText(steps[index].step.body, line: line, span: lines, executable: false) }
            for command in steps[index].step.commands {
                scanText(command.code, line: command.line, span: command.code.utf8.count + 2, executable: command.run, shell: command.shell)
            }
            for annotation in steps[index].annotations {
                scanText(annotation.value, line: annotation.line, span: 2, executable: false)
            }
        }
        checkConditions(runbook, declared: declared, used: &used)
        for parameter in front.params where !used.contains(parameter.name) {
            let (line, column) = front.paramLines[parameter.name] ?? (1, 1)
            report(.warning, .unusedParam, "parameter '\(parameter.name)' is never used", line: line, column: column)
        }
    }

    private mutating func checkConditions(_ runbook: Runbook, declared: Set<String>, used: inout Set<String>) {
        var conditions: [(Condition, Int, Int)] = []
        for index in steps.indices {
            guard let when = runbook.steps[index].when,
                  let raw = steps[index].annotations.first(where: { $0.knownKey == .when }) else { continue }
            conditions.append((when, raw.line, raw.column))
        }
        for (sectionIndex, raw) in sectionAnnotations where raw.knownKey == .when {
            if let when = runbook.sections[sectionIndex].when { conditions.append((when, raw.line, raw.column)) }
        }
        let parameters = Dictionary(front.params.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for (condition, line, column) in conditions {
            for clause in condition.clauses {
                if clause.name == "class" {
                    for value in clause.values where ReleaseClass(rawValue: value) == nil {
                        report(.error, .badCondition, "When: '\(value)' is not a release class (standard, normal, emergency, major)", line: line, column: column)
                    }
                    continue
                }
                used.insert(clause.name)
                guard let parameter = parameters[clause.name] else {
                    let near = EditDistance.closest(to: clause.name, in: declared.sorted() + ["class"], maximum: 2).map { "; did you mean '\($0)'?" } ?? ""
                    report(.error, .undefinedParam, "When: '\(clause.name)' is not a declared parameter\(near)", line: line, column: column)
                    continue
                }
                if let choices = parameter.choices, parameter.type == .choice {
                    for value in clause.values where !choices.contains(value) {
                        report(.error, .badCondition, "When: '\(value)' is not a choice of '\(parameter.name)' (\(choices.joined(separator: ", ")))", line: line, column: column)
                    }
                }
            }
        }
    }

    /// Checks roles, and returns every role declared in the front matter or the roles file; an
    /// empty set when the roles file is there but says nothing that could be read (its own error
    /// is reported), so no role is called undeclared for that.
    @discardableResult
    mutating func checkRoles(_ runbook: Runbook, rolesFile: RolesFile?, rolesFileUnread: Bool) -> Set<String> {
        if rolesFileUnread { return [] }
        var declared = Set(front.roles)
        declared.formUnion(rolesFile?.roles ?? [])
        for index in steps.indices {
            for raw in steps[index].annotations {
                let roles: [String]
                switch raw.knownKey {
                case .signOff:
                    guard case .success(let rule) = AnnotationValue.signOff(raw.value) else { continue }
                    roles = rule.roles
                case .role:
                    roles = [raw.value.trimmed.trimmingQuotes]
                default:
                    continue
                }
                for role in roles where !declared.contains(role) {
                    let hint = declared.isEmpty
                        ? "declare it under 'roles' in the front matter or in \(RolesFile.relativePath)"
                        : (EditDistance.closest(to: role, in: declared.sorted(), maximum: 2).map { "did you mean '\($0)'?" }
                            ?? "declared roles are \(declared.sorted().joined(separator: ", "))")
                    report(.error, .undeclaredRole, "role '\(role)' is not declared; \(hint)", line: raw.line, column: raw.column)
                }
            }
        }
        return declared
    }

    /// Checks the class policy (front matter and `.runsheet/policy.yaml`) and the change calendar,
    /// as `governance` (loaded for this runbook) has them, and that the front matter stands on the
    /// repository's floor: its class is one the repository allows, its policy only raises the
    /// repository's, its calendar names no exception roles.
    mutating func checkGovernance(_ runbook: Runbook, governance: Governance, declared: Set<String>) {
        let (line, column) = front.policyPosition
        governance.policy.check(against: runbook, declaredRoles: declared) { report(.error, .badPolicy, $0, line: line, column: column) }
        checkFloor(runbook, repository: governance.repositoryPolicy)
        checkInitiators(runbook, governance: governance, declared: declared)
        checkItems(runbook, governance: governance, declared: declared)
        let production = runbook.production || runbook.steps.contains(where: \.production)
        guard production || runbook.calendarPath != nil || runbook.inlineCalendar != nil, let calendar = governance.calendar else { return }
        for role in calendar.exceptionRoles where !declared.isEmpty && !declared.contains(role) {
            report(.warning, .undeclaredRole, "the calendar's exception role '\(role)' is not declared, so nobody can grant an exception", line: 1, column: 1)
        }
        if let roles = calendar.runbookExceptionRoles {
            let (line, column) = front.calendarPosition ?? (1, 1)
            report(.error, .weakensGovernance, "the calendar named here sets exception-roles (\(roles.joined(separator: ", "))); only the repository calendar (\(ChangeCalendar.relativePath)) says who may grant exceptions (now \(calendar.exceptionRoles.joined(separator: " or ")))", line: line, column: column)
        }
    }

    /// The front matter's class and policy against the repository's (or the built-in) floor.
    private mutating func checkFloor(_ runbook: Runbook, repository: Policy?) {
        if let allowed = repository?.allowedClasses, !allowed.contains(runbook.releaseClass) {
            let (line, column) = front.classPosition ?? (1, 1)
            let written = front.classPosition == nil ? " (the default, as the front matter names none)" : ""
            report(.error, .weakensGovernance, "class '\(runbook.releaseClass.rawValue)'\(written) is not one \(Policy.relativePath) allows runbooks to declare (\(allowed.map(\.rawValue).joined(separator: ", ")))", line: line, column: column)
        }
        for weakening in PolicyFloor.weakenings(of: runbook.policy, below: Policy.floor(repository: repository), in: runbook) {
            let (line, column) = front.policyKeys[weakening.key] ?? front.policyKeys[weakening.key.components(separatedBy: ".")[0]] ?? front.policyPosition
            report(.error, .weakensGovernance, weakening.message, line: line, column: column)
        }
    }
}
