/// Text people read, as it may reach a screen, a report or a file: every control character
/// written out as an escape, so a name, note, reason, title or command from a journal or a
/// runbook can never move the cursor, hide text or forge a line. The one escaping function of
/// every view (the walk-through, `status`, `audit`, `verify`, reports, `render`, `update`).
///
/// C0 controls and DEL become `\xHH` (ESC is `\x1b`), with `\n`, `\t` and `\r` for line feed,
/// tab and carriage return; C1 controls (U+0080 to U+009F) become `\u0085` and the like, and
/// the line and paragraph separators (U+2028, U+2029), which break a line on many screens, and
/// the bidirectional embeddings, overrides and isolates (U+202A to U+202E, U+2066 to U+2069),
/// which reorder what follows them on screen, `\u2028`, `\u202e` and the like.
public enum ShownText {
    /// `text` with its control characters escaped; with `keepingLineBreaks`, line feeds and tabs
    /// stay as they are (for text shown over several lines: notes, commands, a step's body).
    public static func escaped(_ text: String, keepingLineBreaks: Bool = false) -> String {
        // Characters that are invisible in any text (a soft hyphen, a zero-width space) are escaped
        // too, never shown raw; joiners, marks and variation selectors that shape text stay (names escape them too).
        func hidden(_ scalar: Unicode.Scalar) -> Bool {
            (isControl(scalar) && !(keepingLineBreaks && isLineBreakOrTab(scalar))) || (scalar.value > 0x7F && LookAlikeNames.isAlwaysInvisible(scalar))
        }
        // Printable ASCII has nothing to escape; its bytes are checked without decoding scalars.
        if text.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) { return text }
        guard text.unicodeScalars.contains(where: hidden) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            guard hidden(scalar) else {
                out.append(scalar)
                continue
            }
            out.append(contentsOf: escape(scalar).unicodeScalars)
        }
        return String(out)
    }

    /// `value` (a report) with every string in it escaped, keys included: on one line, except the
    /// values under the keys in `freeText`, which keep their line feeds and tabs. The values under
    /// the keys in `names` are people's names, shown with the code points of what is not plain
    /// ASCII (`PersonName.shownWithCodePoints`), as `check` and refusals show them. A value that
    /// does not go through `JSONValue` (one with fractions) is returned as it is.
    static func escapingStrings<Value: Codable>(in value: Value, freeText: Set<String>, names: Set<String> = []) -> Value {
        func escaping(_ value: JSONValue, lines: Bool, name: Bool = false) -> JSONValue {
            switch value {
            case .string(let text): .string(name ? PersonName.shownWithCodePoints(text) : escaped(text, keepingLineBreaks: lines))
            case .array(let values): .array(values.map { escaping($0, lines: lines, name: name) })
            case .object(let members):
                .object(Dictionary(members.map { ($0.key.shown, escaping($0.value, lines: freeText.contains($0.key), name: names.contains($0.key))) }, uniquingKeysWith: { a, _ in a }))
            case .int, .bool, .null: value
            }
        }
        guard let encoded = try? JSONValueEncoder.encode(value),
              let decoded = try? JSONValueDecoder.decode(Value.self, from: escaping(encoded, lines: false)) else { return value }
        return decoded
    }

    /// Whether `scalar` is a C0 control, DEL, a C1 control (NEL, U+0085, among them), the line or
    /// paragraph separator (U+2028, U+2029: a line break to many terminals and viewers), or a
    /// bidirectional embedding, override or isolate (it would make `alice` of `\u{202E}ecila` on screen).
    public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || (0x202A...0x202E).contains(scalar.value)
            || (0x2066...0x2069).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029
    }

    static func isLineBreakOrTab(_ scalar: Unicode.Scalar) -> Bool { scalar == "\n" || scalar == "\t" }

    /// How one control character is written: `\n`, `\t`, `\r`, `\x1b`, `\u009b`.
    public static func escape(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "\n": return "\\n"
        case "\t": return "\\t"
        case "\r": return "\\r"
        default:
            let hex = String(scalar.value, radix: 16)
            let padded = String(repeating: "0", count: max(0, 2 - hex.count)) + hex
            return scalar.value < 0x80 ? "\\x" + padded : scalar.value <= 0xFF ? "\\u00" + padded : "\\u" + hex
        }
    }
}

/// Text a person types that others read later (a name, a note, a reason, a comment, an added
/// step's title), checked before anything is written: control characters are refused at input,
/// so a journal written by runsheet never holds one where people read (docs/FORMAT.md, "Text
/// people type").
public enum TypedText {
    public enum Kind: Sendable {
        /// A person's or role's name: one line, no control character at all.
        case name
        /// A step's title: one line, no control character at all.
        case title
        /// Free text (notes, lessons, reasons, comments): line feeds and tabs allowed, no other control character.
        case text
    }

    /// Why `text`, named `what` ("the name given with --as", "the note"), may not be recorded as
    /// `kind`, in one sentence; nil when it may.
    public static func refusal(_ text: String, as kind: Kind, what: String) -> String? {
        let allowsLines = kind == .text
        guard let bad = text.unicodeScalars.first(where: { ShownText.isControl($0) && !(allowsLines && ShownText.isLineBreakOrTab($0)) })
        else { return nil }
        let rule = switch kind {
        case .name: "a name is one line without control characters"
        case .title: "a step's title is one line without control characters"
        case .text: "text may hold line breaks and tabs but no other control character"
        }
        return "\(what) holds \(describe(bad)); \(rule), so that nothing typed can change how a screen or report shows the record"
    }

    /// A control character in words: "a line break", "an escape character (\x1b)".
    static func describe(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "\n": "a line break"
        case "\r": "a carriage return (\\r)"
        case "\t": "a tab"
        case "\u{1B}": "an escape character (\\x1b)"
        default: "the control character \(ShownText.escape(scalar))"
        }
    }
}

extension String {
    /// This text as one line people read: every control character escaped (`ShownText`).
    public var shown: String { ShownText.escaped(self) }
}
