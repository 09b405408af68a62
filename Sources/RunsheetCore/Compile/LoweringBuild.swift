import Foundation
import RunsheetMarkdown

extension Lowering {
    /// Explicit ids first, then text slugs; clashing slugs are qualified by section, then numbered.
    mutating func assignIDs() {
        var taken: [String: Int] = [:]
        for index in steps.indices {
            guard let raw = steps[index].annotations.first(where: { $0.knownKey == .id }) else { continue }
            let id = raw.value.trimmed
            guard AnnotationValue.isStepID(id) else {
                report(.error, .badAnnotation, "step id '\(id)' may hold only lowercase letters, digits, '-', '_' and '.'", line: raw.line, column: raw.column)
                continue
            }
            if let first = taken[id] {
                report(.error, .duplicateID, "step id '\(id)' is already used by the step on line \(steps[first].step.line)", line: raw.line, column: raw.column)
                continue
            }
            taken[id] = index
            steps[index].step.id = id
            steps[index].explicitID = true
        }
        // Steps without an id grouped by slug: groups in order of first appearance, each group's
        // steps chained in order through `nextInGroup`.
        var groupOfSlug: [String: Int] = [:]
        groupOfSlug.reserveCapacity(steps.count)
        var groups: [(slug: String, first: Int, last: Int, count: Int)] = []
        var nextInGroup = [Int](repeating: -1, count: steps.count)
        for index in steps.indices where steps[index].step.id.isEmpty {
            var slug = Slug.stepID(steps[index].step.title)
            if slug.isEmpty { slug = "step" }
            if let group = groupOfSlug[slug] {
                nextInGroup[groups[group].last] = index
                groups[group].last = index
                groups[group].count += 1
            } else {
                groupOfSlug[slug] = groups.count
                groups.append((slug, index, index, 1))
            }
        }
        taken.reserveCapacity(steps.count)
        for (slug, first, _, count) in groups {
            if count == 1 && taken[slug] == nil {
                steps[first].step.id = slug
                taken[slug] = first
                continue
            }
            var counts: [String: Int] = [:]
            var next = first
            while next >= 0 {
                let index = next
                next = nextInGroup[index]
                // Qualify by the parent step, else the section: both survive edits elsewhere.
                let qualifier = steps[index].parentIndex.map { Slug.stepID(steps[$0].step.title, limit: 32) }
                    ?? steps[index].sectionIndex.map { Slug.stepID(sections[$0].title, limit: 32) } ?? ""
                let base = qualifier.isEmpty ? slug : "\(qualifier).\(slug)"
                var id = base
                var n = counts[base, default: 0]
                while taken[id] != nil {
                    n += 1
                    id = "\(base)-\(n + 1)"
                }
                counts[base] = n
                if id != base {
                    report(.warning, .ambiguousID, "several steps read '\(steps[index].step.title)'; this one got the id '\(id)', which changes if they are reordered; add an 'Id:' annotation", line: steps[index].step.line, column: steps[index].step.column)
                }
                taken[id] = index
                steps[index].step.id = id
            }
        }
    }

    /// Assembles the runbook from the drafts (annotations not applied yet).
    mutating func build() -> Runbook {
        var runbook = Self.empty(path: source.path)
        let fileName = Compiler.lastPathComponent(source.path)
        let stem = fileName.hasSuffix(".md") ? String(fileName.dropLast(3)) : fileName
        runbook.id = front.id ?? Slug.stepID(stem, limit: 64)
        runbook.title = front.title ?? sections.first(where: { $0.level == 1 })?.title ?? stem
        runbook.version = front.version
        runbook.owner = front.owner
        runbook.description = front.description
        runbook.releaseClass = front.releaseClass
        runbook.service = front.service
        runbook.environment = front.environment
        runbook.shell = front.shell
        runbook.production = front.production
        runbook.concurrent = front.concurrent
        runbook.components = front.components
        runbook.params = front.params
        runbook.roles = front.roles
        runbook.policy = front.policy
        runbook.calendarPath = front.calendarPath
        runbook.inlineCalendar = front.inlineCalendar
        let sectionIDs = sections.map(\.id)
        runbook.sections = sections.map { draft in
            var section = draft.section
            section.id = draft.id
            section.title = draft.title
            section.level = draft.level
            section.line = draft.line
            section.parent = draft.parent.map { sectionIDs[$0] }
            return section
        }
        runbook.steps.reserveCapacity(steps.count)
        for index in steps.indices {
            var step = steps[index].step
            step.section = steps[index].sectionIndex.map { sectionIDs[$0] }
            if let parent = steps[index].parentIndex {
                step.parent = steps[parent].step.id
                step.depth = steps[parent].step.depth + 1
                steps[index].step.depth = step.depth
            }
            if bodies { step.body = body(ofStep: index) }
            runbook.steps.append(step)
        }
        return runbook
    }

    /// The step's own Markdown: the item's lines after the marker, less annotations and child steps.
    /// The other lines lose their common indentation (spaces and tabs), and trailing blank lines go.
    func body(ofStep index: Int) -> String {
        guard steps[index].step.kind != .command else { return "" }
        let node = steps[index].node
        let span = lineSpan(node)
        var lines: [(range: Range<Int>, indent: Int, blank: Bool)] = []
        var first: String?
        let paragraph = document[node].firstChild
        var firstLine = span.lowerBound
        if paragraph != MarkdownNode.none {
            let start = document[paragraph].range.start
            firstLine = start.line
            let range = source.lineRange(start.line)
            var from = min(source.offset(line: start.line, byteColumn: start.column), range.upperBound)
            if steps[index].step.boxOffset != nil { from = min(from + 3, range.upperBound) }
            first = String(decoding: source.bytes[from..<range.upperBound], as: UTF8.self).trimmed
        }
        if firstLine < span.upperBound {
            let excluded = steps[index].excludedLines.sorted { $0.lowerBound < $1.lowerBound }
            var nextExcluded = 0
            var excludedThrough = Int.min
            for line in (firstLine + 1)...span.upperBound {
                while nextExcluded < excluded.count && excluded[nextExcluded].lowerBound <= line {
                    excludedThrough = max(excludedThrough, excluded[nextExcluded].upperBound)
                    nextExcluded += 1
                }
                guard excludedThrough < line else { continue }
                let range = source.lineRange(line)
                let (indent, blank) = indentation(range)
                lines.append((range, indent, blank))
            }
        }
        let indent = lines.lazy.filter { !$0.blank }.map(\.indent).min() ?? 0
        while let last = lines.last, last.blank { lines.removeLast() }
        if lines.isEmpty && first?.isEmpty == true { first = nil }
        var out: [UInt8] = []
        if let first { out.append(contentsOf: first.utf8) }
        for (n, line) in lines.enumerated() {
            if n > 0 || first != nil { out.append(0x0A) }
            // The first `indent` characters are single-byte spaces or tabs, so bytes can be dropped.
            out.append(contentsOf: source.bytes[(line.range.lowerBound + min(indent, line.indent))..<line.range.upperBound])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// How many leading characters of a source line are spaces or tabs, and whether it is blank.
    private func indentation(_ range: Range<Int>) -> (indent: Int, blank: Bool) {
        let bytes = source.bytes
        var i = range.lowerBound
        while i < range.upperBound && (bytes[i] == 0x20 || bytes[i] == 0x09) { i += 1 }
        var indent = i - range.lowerBound
        var ascii = true
        var blank = true
        for k in i..<range.upperBound {
            let b = bytes[k]
            if b >= 0x80 {
                ascii = false
            } else if b != 0x20 && !(0x09...0x0D).contains(b) {
                blank = false
                break
            }
        }
        if !ascii {
            // A combining mark can join the last space into one character; let `Character` decide.
            let text = String(decoding: bytes[range], as: UTF8.self)
            indent = text.prefix(while: { $0 == " " || $0 == "\t" }).count
            if blank { blank = text.trimmed.isEmpty }
        }
        return (indent, blank)
    }

    // MARK: - Annotations

    mutating func applyAnnotations(_ runbook: inout Runbook) {
        for (sectionIndex, raw) in sectionAnnotations {
            guard let key = raw.knownKey else { continue }
            switch key {
            case .when: runbook.sections[sectionIndex].when = condition(raw)
            case .onFailure: runbook.sections[sectionIndex].onFailure = target(raw, allowed: [.abort, .continue])
            case .next: runbook.sections[sectionIndex].next = target(raw, allowed: [.end])
            default: break
            }
        }
        for index in steps.indices {
            for raw in steps[index].annotations {
                guard let key = raw.knownKey else { continue }
                apply(key, raw, to: &runbook.steps[index])
            }
        }
    }

    private mutating func apply(_ key: AnnotationKey, _ raw: RawAnnotation, to step: inout Step) {
        func bad(_ message: String, code: DiagnosticCode = .badAnnotation) {
            report(.error, code, "\(key.display): \(message)", line: raw.line, column: raw.column)
        }
        func duration() -> Int? {
            let seconds: Int?
            if let known = readDurations[raw.value] {
                seconds = known
            } else {
                seconds = DurationText.seconds(raw.value)
                readDurations.updateValue(seconds, forKey: raw.value)
            }
            guard let seconds else {
                bad("'\(raw.value)' is not a duration; write e.g. 90s, 5m, 1h30m", code: .badDuration)
                return nil
            }
            return seconds
        }
        switch key {
        case .id: break
        case .estimate: step.estimateSeconds = duration()
        case .timeout: step.timeoutSeconds = duration()
        case .when: step.when = condition(raw)
        case .onFailure: step.onFailure = target(raw, allowed: [.abort, .continue])
        case .onReject: step.onReject = target(raw, allowed: [.abort])
        case .next: step.next = target(raw, allowed: [.end])
        case .signOff:
            switch AnnotationValue.signOff(raw.value) {
            case .success(let rule): step.signOffs.append(rule)
            case .failure(let problem): bad(problem.text)
            }
        case .separation:
            switch AnnotationValue.separation(raw.value) {
            case .success(let kinds): step.separation = kinds
            case .failure(let problem): bad(problem.text)
            }
        case .retries:
            switch AnnotationValue.retries(raw.value) {
            case .success(let retries): step.retries = retries
            case .failure(let problem): bad(problem.text)
            }
        case .poll:
            switch AnnotationValue.poll(raw.value) {
            case .success(let poll): step.poll = poll
            case .failure(let problem): bad(problem.text)
            }
        case .expectExit:
            switch AnnotationValue.exitCodes(raw.value) {
            case .success(let codes): step.expectExit = codes
            case .failure(let problem): bad(problem.text)
            }
        case .expectOutput:
            let output = AnnotationValue.output(raw.value) { pattern in
                if let valid = validPatterns[pattern] { return valid }
                // A placeholder is filled in (escaped) at run time: check the pattern around it.
                let valid = (try? NSRegularExpression(pattern: Placeholders.substitute(pattern) { _ in "x" })) != nil
                validPatterns[pattern] = valid
                return valid
            }
            switch output {
            case .success(let expectation): step.expectOutput = expectation
            case .failure(let problem): bad(problem.text)
            }
        case .include:
            guard let link = raw.link, !link.hasPrefix("#"), !link.contains("://") else {
                bad("link the runbook to include, e.g. [Backup](backup.md)")
                return
            }
            step.include = link.removingPercentEncoding ?? link
        case .role:
            let role = raw.value.trimmed.trimmingQuotes
            guard AnnotationValue.isRoleName(role) else { return bad("'\(raw.value)' is not a role name") }
            step.role = role
        case .lesson:
            let text = raw.value.trimmed
            guard !text.isEmpty else { return bad("write what was learned, e.g. Lesson: drain the queue first") }
            step.lessons.append(text)
        case .production:
            guard let flag = AnnotationValue.flag(raw.value) else { return bad("'\(raw.value)' is not yes or no") }
            step.production = flag
        case .components:
            let names = Inventory.names(raw.value)
            guard !names.isEmpty else { return bad("name the configuration items the step changes, e.g. Components: payments-db, ledger") }
            step.components = (step.components ?? []) + names.filter { !(step.components ?? []).contains($0) }
        }
    }

    private mutating func condition(_ raw: RawAnnotation) -> Condition? {
        let parsed: Result<Condition, Condition.ParseError>
        if let known = readConditions[raw.value] {
            parsed = known
        } else {
            parsed = Result { () throws(Condition.ParseError) in try Condition.parse(raw.value) }
            readConditions[raw.value] = parsed
        }
        do {
            return try parsed.get()
        } catch {
            if case .malformed(let message) = error {
                report(.error, .badCondition, "When: \(message)", line: raw.line, column: raw.column)
            }
            return nil
        }
    }

    private mutating func target(_ raw: RawAnnotation, allowed: [Target]) -> Target? {
        switch AnnotationValue.target(raw, allowed: allowed) {
        case .success(let target):
            targetPositions.append((target, raw.line, raw.column))
            return target
        case .failure(let message):
            report(.error, .badAnnotation, "\(raw.key): \(message.text)", line: raw.line, column: raw.column)
            return nil
        }
    }
}
