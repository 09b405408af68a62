/// Text from a journal or a run placed in Markdown people read (the run report, a rendered
/// checklist): control characters escaped as everywhere (`ShownText`), and the characters that
/// would turn it into HTML or table syntax written so that it shows as typed. A note
/// `<script>alert(1)</script> | x` stays that text, one cell, on GitHub and in any renderer.
public enum MarkdownText {
    /// Inline text (a checklist's trail bullet): one line, `&`, `<` and `>` as entities.
    public static func inline(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in ShownText.escaped(text) {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            default: out.append(character)
            }
        }
        return out
    }

    /// One table cell: inline text with `\` and `|` escaped (GitHub splits cells on a bare `|`
    /// even inside code) and line breaks joined with a space.
    public static func cell(_ text: String) -> String {
        let line = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        var out = ""
        out.reserveCapacity(line.utf8.count)
        for character in inline(line) {
            switch character {
            case "\\": out += "\\\\"
            case "|": out += "\\|"
            default: out.append(character)
            }
        }
        return out
    }
}
