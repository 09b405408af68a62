/// How many terminal columns text takes, the way terminals count (wcwidth): East Asian wide and
/// fullwidth characters and emoji shown as pictures take two, combining marks and ANSI escapes none.
/// A Swift `Character` is not a column: counting characters lets a line of CJK or emoji overflow.
enum TerminalColumns {
    static func width(of character: Character) -> Int {
        let scalars = character.unicodeScalars
        guard let first = scalars.first else { return 0 }
        if first.value < 0x20 || (0x7F..<0xA0).contains(first.value) { return 0 }
        if isWide(first.value) || first.properties.isEmojiPresentation { return 2 }
        // A text-style emoji followed by VARIATION SELECTOR-16 is drawn as a picture, two columns.
        if first.properties.isEmoji && scalars.contains("\u{FE0F}") { return 2 }
        switch first.properties.generalCategory {
        case .nonspacingMark, .enclosingMark, .format: return 0
        default: return 1
        }
    }

    /// East Asian Width W or F (Unicode 15), other than emoji, which `isEmojiPresentation` covers.
    static func isWide(_ value: UInt32) -> Bool {
        switch value {
        case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF,
             0xA000...0xA4CF, 0xA960...0xA97F, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE10...0xFE19,
             0xFE30...0xFE6F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x16FE0...0x18CFF, 0x1AFF0...0x1B2FF,
             0x1F200...0x1F2FF, 0x20000...0x2FFFD, 0x30000...0x3FFFD:
            true
        default:
            false
        }
    }

    /// The columns `text` takes on screen; ANSI escape sequences (`ESC [ ... m`) take none.
    static func width(_ text: String) -> Int {
        var columns = 0
        var escape = EscapeScanner()
        for character in text where !escape.consumes(character) { columns += width(of: character) }
        return columns
    }

    /// `text` cut to at most `columns` columns, ending in "…" when cut. Escapes are kept, and a
    /// cut line that had any ends with a reset, so a style never runs on past it.
    static func fit(_ text: String, _ columns: Int) -> String {
        guard width(text) > columns else { return text }
        var out = ""
        var used = 0
        var styled = false
        var escape = EscapeScanner()
        for character in text {
            if escape.consumes(character) {
                out.append(character)
                styled = true
                continue
            }
            let next = width(of: character)
            if used + next > max(0, columns - 1) { break }
            out.append(character)
            used += next
        }
        return out + "…" + (styled ? "\u{1B}[0m" : "")
    }

    /// `text` broken into pieces of at most `columns` columns each (at least one character each);
    /// escapes stay where they were, so the pieces put together are `text` again.
    static func chunks(_ text: String, _ columns: Int) -> [String] {
        var pieces: [String] = []
        var current = ""
        var used = 0
        var escape = EscapeScanner()
        for character in text {
            if escape.consumes(character) {
                current.append(character)
                continue
            }
            let next = width(of: character)
            if used > 0 && used + next > columns {
                pieces.append(current)
                current = ""
                used = 0
            }
            current.append(character)
            used += next
        }
        if !current.isEmpty || pieces.isEmpty { pieces.append(current) }
        return pieces
    }

    /// Recognises the characters of CSI escape sequences (`ESC [` parameters, final byte).
    struct EscapeScanner {
        private var state = 0  // 0 text, 1 after ESC, 2 inside CSI

        mutating func consumes(_ character: Character) -> Bool {
            switch state {
            case 1:
                state = character == "[" ? 2 : 0
                return true
            case 2:
                if let value = character.unicodeScalars.first?.value, (0x40...0x7E).contains(value) { state = 0 }
                return true
            default:
                if character == "\u{1B}" {
                    state = 1
                    return true
                }
                return false
            }
        }
    }
}
