import Foundation
import RunsheetCore

/// The keys under every step screen, wrapped onto as many lines as the width needs so that none
/// is lost (`?` and `q` above all), the help screen wrapped and paged, and `c`, which prints the
/// step's commands whole for copying.
extension WalkThrough {
    /// The key bar's items; `[w]ait` only at a gate, the scroll keys only when the step's body is
    /// taller than the screen.
    func keyBarItems(gate: Bool, scrolls: Bool = false) -> [String] {
        ["[d]one", "[r]un", "[s]kip", "[f]ail", "[n]ote", "[l]esson", "[a]dd", "[b]ack", "[g]oto"]
            + (gate ? ["[w]ait"] : []) + (scrolls ? ["[j/k PgDn/PgUp] scroll"] : [])
            + ["[Tab/o] steps", "[c]opy", "[x]abort", "[?]help", "[q]uit"]
    }

    /// The key bar, items two spaces apart, a new line wherever the next item would not fit.
    func keyBar(width: Int, gate: Bool, scrolls: Bool = false) -> [String] {
        Self.wrapItems(keyBarItems(gate: gate, scrolls: scrolls), separator: "  ", width: width)
    }

    /// `items` joined by `separator`, a new line wherever the next item would not fit; an item is
    /// never broken (one wider than the line has a line of its own). A separator ends its line.
    static func wrapItems(_ items: [String], separator: String, width: Int) -> [String] {
        var lines: [String] = []
        var current = ""
        let trimmedSeparator = String(separator.reversed().drop { $0 == " " }.reversed())
        for (index, item) in items.enumerated() {
            let end = index == items.count - 1 ? "" : trimmedSeparator
            if !current.isEmpty, TerminalColumns.width(current + separator + item + end) > width {
                lines.append(current + trimmedSeparator)
                current = ""
            }
            current += (current.isEmpty ? "" : separator) + item
        }
        lines.append(current)
        return lines
    }

    /// The help text wrapped to `width`: each action's description goes on under itself (beside
    /// the action when there is room, under it when the screen is narrow).
    func helpLines(width: Int) -> [String] {
        let column = 18
        var entries: [(head: String, text: String)] = []
        for line in Self.help.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix(String(repeating: " ", count: column)), !entries.isEmpty {
                entries[entries.count - 1].text += " " + line.trimmed
            } else if line.hasPrefix("  "), line.count > column {
                entries.append((String(line.prefix(column)), String(line.dropFirst(column))))
            } else {
                entries.append((line, ""))
            }
        }
        var out: [String] = []
        for (head, text) in entries {
            if text.isEmpty {
                out += TerminalMarkdown.wrap(head, width: width)
            } else if width - column >= 24 {
                let wrapped = TerminalMarkdown.wrap(text, width: width - column)
                out += wrapped.enumerated().map { ($0.offset == 0 ? head : String(repeating: " ", count: column)) + $0.element }
            } else {
                out.append(String(head.reversed().drop { $0 == " " }.reversed()))
                out += TerminalMarkdown.wrap(text, width: width - 6).map { "      " + $0 }
            }
        }
        return out
    }

    /// Shows the help a page at a time: any key turns the page, Esc or q closes it.
    func showHelp() throws {
        let width = max(40, min(terminal.width, 120))
        let lines = helpLines(width: width)
        let room = max(5, terminal.height - 3)
        let pages = stride(from: 0, to: lines.count, by: room).map { Array(lines[$0..<min(lines.count, $0 + room)]) }
        for (number, page) in pages.enumerated() {
            let last = number == pages.count - 1
            let footer = last ? "press any key" : "page \(number + 1)/\(pages.count) · any key: more · q: close"
            terminal.write("\u{1B}[H\u{1B}[2J" + page.joined(separator: "\r\n") + "\r\n\r\n" + style.dim(footer))
            // A wake-up (a resize, a change to the run's folder) is no key: wait for one.
            var key: Key?
            while key == nil { key = try terminal.readKey(timeout: 3600) }
            if key == .escape || key == .character("q") { return }
        }
    }

    /// Prints the step's commands as they run (secrets masked), each whole on its own lines, with
    /// nothing around them, outside the full screen so the terminal can select and copy them.
    func showCommands() throws -> String {
        guard let step = engine.currentStep, !engine.runnableCommands.isEmpty else { return "This step has no command marked to run." }
        terminal.restore()
        var text = "\u{1B}[H\u{1B}[2J" + "Commands of step '\(step.id)', whole, for copying:\n"
        for command in step.commands where command.run {
            text += "\n" + engine.display(command) + "\n"
        }
        terminal.write(text + "\n" + style.dim("press any key") + "\n")
        terminal.enterRawMode()
        while try terminal.readKey(timeout: 3600) == nil {}
        return ""
    }
}
