import RunsheetMarkdown

/// Renders a step's Markdown for a terminal: emphasis, code, links and lists, wrapped to a width.
/// Text shows with its control characters escaped (`ShownText`), those a character reference
/// such as `&#27;` makes included.
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
                    for piece in TerminalColumns.chunks(String(line).shown, max(1, width - indent.count - 2)) {
                        lines.append(indent + "  " + style.cyan(piece))
                    }
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
                lines.append(indent + d.plainText(block).shown)
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
                case .text: out += d.literal(child).shown
                case .softBreak, .lineBreak: out += " "
                case .code: out += style.cyan(d.literal(child).shown)
                case .emphasis, .strong:
                    var inner = ""
                    swap(&inner, &out)
                    if depth < 50 { walk(child, depth: depth + 1) }
                    swap(&inner, &out)
                    out += style.bold(inner)
                case .link:
                    if depth < 50 { walk(child, depth: depth + 1) }
                    let url = d.info(child)
                    if !url.isEmpty && !url.hasPrefix("#") { out += style.dim(" <\(url.shown)>") }
                case .image:
                    out += "[image: " + d.plainText(child).shown + "]"
                case .htmlInline: continue
                default:
                    if depth < 50 { walk(child, depth: depth + 1) }
                }
            }
        }
        walk(block, depth: 0)
        return out
    }

    /// Word-wraps text that may contain ANSI escapes to `width` terminal columns; escapes take
    /// none. A word wider than a line (a URL, CJK text without spaces) is broken where it reaches the edge.
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var current = ""
        var visible = 0
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            for piece in TerminalColumns.chunks(String(word), max(1, width)) {
                let length = TerminalColumns.width(piece)
                if visible > 0 && visible + 1 + length > width {
                    lines.append(current)
                    current = ""
                    visible = 0
                }
                if visible > 0 {
                    current += " "
                    visible += 1
                }
                current += piece
                visible += length
            }
        }
        if !current.isEmpty || lines.isEmpty { lines.append(current) }
        return lines
    }
}
