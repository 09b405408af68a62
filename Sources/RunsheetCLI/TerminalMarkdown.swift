import RunsheetMarkdown

/// Renders a step's Markdown for a terminal: emphasis, code, links and lists, wrapped to a width.
enum TerminalMarkdown {
    static func render(_ markdown: String, width: Int, style: Style) -> [String] {
        let document = CommonMarkParser.parse(markdown)
        var lines: [String] = []
        renderBlocks(document, document.root, indent: "", width: max(width, 20), style: style, into: &lines)
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines
    }

    private static func renderBlocks(_ d: MarkdownDocument, _ parent: Int32, indent: String, width: Int, style: Style, into lines: inout [String]) {
        // Block nesting is bounded by what a step body holds; depth is capped to stay on screen.
        guard indent.count < 40 else { return }
        for block in d.children(parent) {
            let node = d[block]
            switch node.kind {
            case .paragraph, .heading:
                var text = inline(d, block, style: style)
                if node.kind == .heading { text = style.bold(text) }
                lines += wrap(text, width: width - indent.count).map { indent + $0 }
            case .codeBlock:
                // Blocks marked `run` are shown apart, with their values substituted.
                if d.info(block).split(separator: " ").dropFirst().contains("run") || d.info(block) == "run" { continue }
                for line in d.literal(block).split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
                    lines.append(indent + "  " + style.cyan(String(line)))
                }
            case .list:
                var number = Int(node.level)
                for item in d.children(block) {
                    let bullet = node.ordered ? "\(number). " : "• "
                    number += 1
                    var inner: [String] = []
                    renderBlocks(d, item, indent: "", width: width - indent.count - bullet.count, style: style, into: &inner)
                    for (i, line) in inner.enumerated() {
                        lines.append(indent + (i == 0 ? bullet : String(repeating: " ", count: bullet.count)) + line)
                    }
                }
            case .blockQuote:
                var inner: [String] = []
                renderBlocks(d, block, indent: "", width: width - indent.count - 2, style: style, into: &inner)
                lines += inner.map { indent + style.dim("│ ") + $0 }
            case .htmlBlock:
                continue
            case .thematicBreak:
                lines.append(indent + String(repeating: "─", count: min(20, width)))
            default:
                lines.append(indent + d.plainText(block))
            }
        }
    }

    /// Inline content with ANSI styles; links show their target after the text.
    static func inline(_ d: MarkdownDocument, _ block: Int32, style: Style) -> String {
        var out = ""
        func walk(_ node: Int32, depth: Int) {
            for child in d.children(node) {
                let n = d[child]
                switch n.kind {
                case .text: out += d.literal(child)
                case .softBreak, .lineBreak: out += " "
                case .code: out += style.cyan(d.literal(child))
                case .emphasis, .strong:
                    var inner = ""
                    swap(&inner, &out)
                    if depth < 50 { walk(child, depth: depth + 1) }
                    swap(&inner, &out)
                    out += style.bold(inner)
                case .link:
                    if depth < 50 { walk(child, depth: depth + 1) }
                    let url = d.info(child)
                    if !url.isEmpty && !url.hasPrefix("#") { out += style.dim(" <\(url)>") }
                case .image:
                    out += "[image: " + d.plainText(child) + "]"
                case .htmlInline: continue
                default:
                    if depth < 50 { walk(child, depth: depth + 1) }
                }
            }
        }
        walk(block, depth: 0)
        return out
    }

    /// Word-wraps text that may contain ANSI escapes; escapes take no columns.
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var current = ""
        var visible = 0
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            let length = visibleLength(String(word))
            if visible > 0 && visible + 1 + length > width {
                lines.append(current)
                current = ""
                visible = 0
            }
            if visible > 0 {
                current += " "
                visible += 1
            }
            current += word
            visible += length
        }
        if !current.isEmpty || lines.isEmpty { lines.append(current) }
        return lines
    }

    static func visibleLength(_ text: String) -> Int {
        var count = 0
        var inEscape = false
        for scalar in text.unicodeScalars {
            if inEscape {
                if scalar == "m" { inEscape = false }
            } else if scalar == "\u{1B}" {
                inEscape = true
            } else {
                count += 1
            }
        }
        return count
    }
}
