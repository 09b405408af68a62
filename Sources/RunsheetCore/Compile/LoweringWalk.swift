import RunsheetMarkdown

extension Lowering {
    static let shellLanguages: Set<String> = ["sh", "bash", "shell", "zsh", "ksh", "fish", "console", "shell-session", "pwsh", "powershell"]

    /// Pass 2: sections, steps, their annotations and commands, in one pre-order sweep.
    mutating func walk(stepNodes isStep: [Bool]) {
        let ends = subtreeEnds()
        let count = Int32(document.nodes.count)
        let hasSteps = isStep.contains(true)
        var openSteps: [(end: Int32, step: Int)] = []
        var openSections: [Int] = []
        var anchors = AnchorAllocator()
        var lastParagraph: Int32 = MarkdownNode.none
        /// Nodes to skip: section annotation lists.
        var skipUntil: Int32 = 0
        /// Lists already searched for a known annotation key (a list of unknown keys would be searched once per item).
        var knownAnnotationLists: [Int32: Bool] = [:]
        var i: Int32 = 0
        while i < count {
            defer { i += 1 }
            while let top = openSteps.last, top.end <= i { openSteps.removeLast() }
            if i < skipUntil { continue }
            let node = document[i]
            switch node.kind {
            case .heading:
                var title = document.plainText(i).trimmed
                while let top = openSections.last, sections[top].level >= Int(node.level) { openSections.removeLast() }
                var id = anchors.unique(Slug.githubAnchor(title))
                // Hugo, kramdown and pandoc accept `{#custom-id}`; GitHub shows it as text and slugs it.
                if title.hasSuffix("}"), let open = title.range(of: "{#", options: .backwards) {
                    let custom = String(title[open.upperBound...].dropLast())
                    if !custom.isEmpty, !custom.contains(" ") {
                        extraAnchors.insert(id)
                        id = custom
                        title = String(title[..<open.lowerBound]).trimmed
                    }
                }
                sections.append(SectionDraft(id: id, title: title, level: Int(node.level), line: node.range.start.line, parent: openSections.last))
                openSections.append(sections.count - 1)
                lastParagraph = MarkdownNode.none
                skipUntil = sectionAnnotationList(after: i, section: sections.count - 1, ends: ends)
            case .item where isStep[Int(i)]:
                let parentIndex = openSteps.last?.step
                if let parentIndex {
                    steps[parentIndex].excludedLines.append(lineSpan(i))
                }
                steps.append(makeStep(i, section: openSections.last, parent: parentIndex))
                reportAnnotationsInTitle(item: i)
                openSteps.append((ends[Int(i)], steps.count - 1))
            case .item:
                // A bullet directly under a step may be an annotation of that step.
                guard let owner = openSteps.last?.step else { break }
                guard document[node.parent].parent == steps[owner].node else {
                    reportNestedGovernance(item: i)
                    break
                }
                guard let annotation = annotation(of: i) else {
                    reportGovernanceLookalike(item: i)
                    break
                }
                let normalized = annotation.normalizedKey
                if annotation.knownKey != nil {
                    steps[owner].annotations.append(annotation)
                    let span = lineSpan(i)
                    steps[owner].excludedLines.append(span)
                    let key = document[document[i].firstChild].range.start
                    steps[owner].step.annotationAnchor = AnnotationAnchor(line: span.upperBound, prefixLine: key.line, column: key.column, verbatim: true)
                    if annotation.knownKey == .estimate {
                        steps[owner].step.estimateLine = span.count == 1 ? key.line : nil
                    }
                } else if let near = AnnotationKey.suggestion(for: normalized) {
                    if near.governs {
                        report(.error, .unknownAnnotation, "unknown annotation '\(annotation.key)'; did you mean '\(near.display)'? A misspelt governance key would drop its rule", line: annotation.line, column: annotation.column)
                    } else {
                        report(.warning, .unknownAnnotation, "unknown annotation '\(annotation.key)'; did you mean '\(near.display)'?", line: annotation.line, column: annotation.column)
                    }
                } else if let key = AnnotationKey.governanceLookalike(annotation.key + ":") {
                    report(.error, .unknownAnnotation, "'\(annotation.key)' looks like the governance key '\(key.display)' but is not one; write it as '\(key.display): value' (a misspelt governance key would drop its rule)", line: annotation.line, column: annotation.column)
                } else if listHasKnownAnnotation(node.parent, cache: &knownAnnotationLists) {
                    report(.warning, .unknownAnnotation, "unknown annotation '\(annotation.key)' among annotations; known keys are \(AnnotationKey.allCases.map(\.display).joined(separator: ", "))", line: annotation.line, column: annotation.column)
                }
            case .codeBlock:
                let info = document.info(i).trimmed
                let words = info.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
                let runFlag = words.dropFirst().contains("run") || words.first == "run"
                let language = words.first == "run" ? nil : words.first
                let shell = language.flatMap { Self.shellLanguages.contains($0) && !["console", "shell-session", "shell"].contains($0) ? $0 : nil } ?? front.shell
                let interactive = words.dropFirst().contains("interactive") || words.first == "interactive"
                if interactive && !runFlag {
                    // Only a block that runs can be given the terminal; said where the flag is written.
                    report(.error, .interactiveWithoutRun, "the flag 'interactive' needs 'run' beside it (```bash run interactive```): only a block that runs can be given the terminal",
                           at: node.range.start)
                }
                let command = Command(language: language == "interactive" ? nil : language, shell: shell, code: document.literal(i),
                                      run: runFlag, interactive: interactive && runFlag, line: node.range.start.line)
                // Annotations indented too far become an indented code block: say so for governance keys.
                if openSteps.last != nil, info.isEmpty {
                    for (offset, line) in document.literal(i).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                        guard let key = AnnotationKey.governanceBullet(line) else { continue }
                        report(.error, .unknownAnnotation, "this '\(key.display)' line is indented so far that it is a code block, not an annotation, and its rule would be dropped; indent it as the step's other annotations", line: node.range.start.line + offset, column: 1)
                    }
                }
                if let owner = openSteps.last?.step {
                    steps[owner].step.commands.append(command)
                } else if !hasSteps, runFlag || language.map(Self.shellLanguages.contains) == true {
                    var draft = makeCommandStep(i, command: command, title: commandTitle(lastParagraph, code: command.code), section: openSections.last)
                    draft.step.commands = [command]
                    steps.append(draft)
                }
            case .paragraph:
                let parentKind = document[node.parent].kind
                if parentKind == .document || parentKind == .blockQuote { lastParagraph = i }
            case .link:
                // Only a URL whose first byte is '#' can start with the character "#".
                guard document.bytes(node.info).first == 0x23 else { break }
                let url = document.info(i)
                if url.hasPrefix("#") && url.count > 1 {
                    let position = node.range.start
                    anchorLinks.append((String(url.dropFirst()), position.line, source.characterColumn(line: position.line, byteColumn: position.column)))
                }
            default:
                break
            }
        }
    }

    /// The inclusive line span of a node, with cmark's trailing "line:0" ends pulled back.
    func lineSpan(_ index: Int32) -> ClosedRange<Int> {
        let range = document[index].range
        var end = range.end.line
        if range.end.column == 0 && end > range.start.line { end -= 1 }
        return range.start.line...max(range.start.line, end)
    }

    /// Reports a governance annotation indented so far that it became part of the step's title
    /// paragraph (a continuation line), where its rule would be dropped.
    mutating func reportAnnotationsInTitle(item: Int32) {
        let paragraph = document[item].firstChild
        guard paragraph != MarkdownNode.none, document[paragraph].kind == .paragraph else { return }
        let span = lineSpan(paragraph)
        guard span.upperBound > span.lowerBound else { return }
        for line in (span.lowerBound + 1)...span.upperBound {
            guard let key = AnnotationKey.governanceBullet(Substring(source.lineText(line))) else { continue }
            report(.error, .unknownAnnotation, "this '\(key.display)' line is indented so far that it continues the step's title instead of being an annotation, and its rule would be dropped; indent it as the step's other annotations",
                   line: line, column: 1)
        }
    }

    /// Reports a governance annotation nested in another bullet of a step (under a `Note:`, say):
    /// GitHub shows it as if it applied, but only a step's direct sub-bullets are its annotations.
    mutating func reportNestedGovernance(item: Int32) {
        guard let (_, start, text) = lead(of: item) else { return }
        let key = annotation(of: item)?.knownKey.flatMap { $0.governs ? $0 : nil } ?? AnnotationKey.governanceLookalike(text)
        guard let key else { return }
        report(.error, .unknownAnnotation, "this '\(key.display)' bullet is nested inside another bullet, so it is not an annotation of the step and its rule would be dropped; make it a direct sub-bullet of the step",
               line: start.line, column: source.characterColumn(line: start.line, byteColumn: start.column))
    }

    /// Reports an item under a step that looks like a governance annotation but does not parse as one.
    mutating func reportGovernanceLookalike(item: Int32) {
        guard let (_, start, text) = lead(of: item) else { return }
        guard let key = AnnotationKey.governanceLookalike(text) else { return }
        report(.error, .unknownAnnotation, "'\(text.trimmed)' looks like the governance annotation '\(key.display)' but is not written as one; write '\(key.display): value' (one space after the colon, no emphasis) or its rule is dropped",
               line: start.line, column: source.characterColumn(line: start.line, byteColumn: start.column))
    }

    /// An item's first paragraph, where it starts, and the rest of that line from there, read
    /// from the source bytes.
    func lead(of item: Int32) -> (paragraph: Int32, start: SourcePosition, text: String)? {
        let paragraph = document[item].firstChild
        guard paragraph != MarkdownNode.none, document[paragraph].kind == .paragraph else { return nil }
        let start = document[paragraph].range.start
        let lineRange = source.lineRange(start.line)
        let from = min(source.offset(line: start.line, byteColumn: start.column), lineRange.upperBound)
        return (paragraph, start, String(decoding: source.bytes[from..<lineRange.upperBound], as: UTF8.self))
    }

    /// `Key: value` from an item's first paragraph, read from the source bytes.
    func annotation(of item: Int32) -> RawAnnotation? {
        guard let (paragraph, start, first) = lead(of: item) else { return nil }
        var text = first
        let span = lineSpan(paragraph)
        if span.upperBound > span.lowerBound {
            for line in (span.lowerBound + 1)...span.upperBound {
                text += " " + source.lineText(line).trimmed
            }
        }
        guard let (key, value) = AnnotationValue.split(text) else { return nil }
        var link: String?
        var c = document[paragraph].firstChild
        while c != MarkdownNode.none {
            if document[c].kind == .link { link = document.info(c); break }
            c = document[c].nextSibling
        }
        return RawAnnotation(key: key, value: value, link: link, line: start.line,
                             column: source.characterColumn(line: start.line, byteColumn: start.column))
    }

    func listHasKnownAnnotation(_ list: Int32, cache: inout [Int32: Bool]) -> Bool {
        if let known = cache[list] { return known }
        let known = listHasKnownAnnotation(list)
        cache[list] = known
        return known
    }

    func listHasKnownAnnotation(_ list: Int32) -> Bool {
        for item in document.children(list) {
            if let a = annotation(of: item), a.knownKey != nil { return true }
        }
        return false
    }

    /// Reads the leading `Key: value` items of a bullet list right after a heading as section
    /// annotations. Returns the node index up to which the walk should skip (annotation items).
    mutating func sectionAnnotationList(after heading: Int32, section: Int, ends: [Int32]) -> Int32 {
        let next = document[heading].nextSibling
        guard next != MarkdownNode.none, document[next].kind == .list, !document[next].ordered else { return 0 }
        var found: [RawAnnotation] = []
        var lastItem: Int32 = MarkdownNode.none
        for item in document.children(next) {
            guard taskBox(item) == nil, let a = annotation(of: item),
                  let key = a.knownKey, AnnotationKey.sectionKeys.contains(key)
            else { break }
            found.append(a)
            lastItem = item
        }
        guard !found.isEmpty else { return 0 }
        for a in found { sectionAnnotations.append((section, a)) }
        return ends[Int(lastItem)]
    }

    func makeStep(_ item: Int32, section: Int?, parent: Int?) -> StepDraft {
        let node = document[item]
        let box = taskBox(item)
        var text: [UInt8] = []
        if node.firstChild != MarkdownNode.none { document.appendPlainText(node.firstChild, to: &text) }
        let title: String
        let kind: Step.Kind = box != nil ? .task : .procedure
        var checked = false
        if let box {
            checked = source.bytes[box] != 0x20
            // The marker's three characters are three bytes when they and the byte after are ASCII (no CR LF).
            if text.count >= 3, text[..<min(4, text.count)].allSatisfy({ $0 < 0x80 }), !text[..<3].contains(0x0D) {
                title = String(decoding: text[3...], as: UTF8.self)
            } else {
                title = String(String(decoding: text, as: UTF8.self).dropFirst(3))
            }
        } else {
            title = String(decoding: text, as: UTF8.self)
        }
        let start = node.range.start
        let step = Step(
            id: "", title: title.trimmed, kind: kind, checked: checked,
            section: nil, parent: nil, depth: 0, line: start.line,
            column: source.characterColumn(line: start.line, byteColumn: start.column),
            boxOffset: box, body: "", estimateSeconds: nil, when: nil, commands: [], timeoutSeconds: nil,
            retries: nil, poll: nil, expectExit: [0], expectOutput: nil, signOffs: [], separation: [],
            onFailure: nil, onReject: nil, next: nil, role: nil, production: false, include: nil, origin: nil)
        var draft = StepDraft(node: item, step: step, sectionIndex: section, parentIndex: parent)
        let paragraph = node.firstChild
        if node.kind == .item, paragraph != MarkdownNode.none, document[paragraph].kind == .paragraph {
            draft.step.trailLine = lineSpan(paragraph).upperBound
            draft.step.trailColumn = document[paragraph].range.start.column
            draft.step.annotationAnchor = AnnotationAnchor(line: lineSpan(paragraph).upperBound, prefixLine: start.line,
                                                           column: document[paragraph].range.start.column, verbatim: false)
        }
        if node.kind == .item { draft.step.endLine = lineSpan(item).upperBound }
        return draft
    }

    func makeCommandStep(_ block: Int32, command: Command, title: String, section: Int?) -> StepDraft {
        var draft = makeStep(block, section: section, parent: nil)
        draft.step.kind = .command
        draft.step.title = title
        return draft
    }

    /// The closest preceding paragraph's first sentence, else the command's first line.
    func commandTitle(_ paragraph: Int32, code: String) -> String {
        if paragraph != MarkdownNode.none {
            var text = document.plainText(paragraph).trimmed
            // Foundation's search is slow; without the bytes ". " there is nothing for it to find.
            if text.containsUTF8(0x2E, 0x20), let stop = text.range(of: ". ") {
                text = String(text[..<stop.lowerBound])
            }
            while text.last == ":" || text.last == "." { text.removeLast() }
            if !text.isEmpty { return text.count > 80 ? String(text.prefix(79)) + "…" : text }
        }
        let first = code.split(separator: "\n").first.map { String($0).trimmed } ?? "command"
        let line = first.isEmpty ? "command" : first
        return "Run " + (line.count > 72 ? String(line.prefix(71)) + "…" : line)
    }
}
