/// How a command is laid out on a narrow screen: it breaks only at spaces outside quotes, so
/// every word stays whole where it can be copied, and a mark in the margin (never in the command
/// text) says how a line goes on. Only a word wider than the screen is cut, with its own mark.
enum CommandLayout {
    /// How a line of the layout follows the one before it.
    enum Continuation: Equatable {
        /// The first line of one of the command's own lines.
        case start
        /// The command goes on after a space.
        case afterSpace
        /// A word too wide for the screen goes on.
        case insideWord

        /// The margin mark: `↪` after a space, `⋯` inside a word.
        var mark: String {
            switch self {
            case .start: "$"
            case .afterSpace: "↪"
            case .insideWord: "⋯"
            }
        }
    }

    /// `line` (one line of a command, no newline) broken into pieces at most `columns` wide.
    static func wrap(_ line: String, columns: Int) -> [(continuation: Continuation, text: String)] {
        let columns = max(1, columns)
        var out: [(continuation: Continuation, text: String)] = []
        var current = ""
        var used = 0
        var continuation = Continuation.start
        func flush(next: Continuation) {
            out.append((continuation, current))
            current = ""
            used = 0
            continuation = next
        }
        for (word, space) in words(line) {
            let length = TerminalColumns.width(word)
            if used > 0, used + length > columns {
                flush(next: .afterSpace)
            }
            if length > columns - used {
                // Only a word wider than a whole line is cut.
                let pieces = TerminalColumns.chunks(word, columns)
                for (index, piece) in pieces.enumerated() {
                    if index > 0 { flush(next: .insideWord) }
                    current += piece
                    used += TerminalColumns.width(piece)
                }
            } else {
                current += word
                used += length
            }
            if !space.isEmpty {
                let spaceWidth = TerminalColumns.width(space)
                if used + spaceWidth <= columns {
                    current += space
                    used += spaceWidth
                } else {
                    // The spaces a line ends with are where it breaks; the next word starts the next line.
                    flush(next: .afterSpace)
                }
            }
        }
        if !current.isEmpty || out.isEmpty { out.append((continuation, current)) }
        // Spaces a line ends with are not shown: they are the break.
        return out.map { ($0.continuation, String($0.text.reversed().drop { $0 == " " }.reversed())) }
            .enumerated().filter { $0.offset == 0 || !$0.element.1.isEmpty }.map(\.element)
    }

    /// The words of a shell command line with the spaces after each: a space inside '…' or "…",
    /// or after a backslash, belongs to its word.
    static func words(_ line: String) -> [(word: String, space: String)] {
        var words: [(word: String, space: String)] = []
        var word = ""
        var space = ""
        var quote: Character?
        var escaped = false
        for character in line {
            if escaped {
                word.append(character)
                escaped = false
                continue
            }
            if let open = quote {
                word.append(character)
                if character == open { quote = nil } else if character == "\\" && open == "\"" { escaped = true }
                continue
            }
            if character == " " || character == "\t" {
                space.append(character)
                continue
            }
            if !space.isEmpty {
                words.append((word, space))
                word = ""
                space = ""
            }
            word.append(character)
            if character == "'" || character == "\"" { quote = character } else if character == "\\" { escaped = true }
        }
        if !word.isEmpty || !space.isEmpty { words.append((word, space)) }
        return words
    }

    /// A command's screen lines, indented by two: `$` starts each of its lines, a dim `↪` or `⋯`
    /// in the margin marks a line that goes on from the one before.
    static func screenLines(_ command: String, width: Int, style: Style) -> [String] {
        var out: [String] = []
        for line in command.split(separator: "\n") {
            for piece in wrap(String(line), columns: width - 4) {
                let margin = piece.continuation == .start ? "  $ " : "  " + style.dim(piece.continuation.mark) + " "
                out.append(margin + style.cyan(piece.text))
            }
        }
        return out
    }
}
