/// Where a placeholder may stand in a command that runs, for each `shell:` (docs/FORMAT.md,
/// "Placeholders in commands"). sh-family shells take a value as data in every context
/// (`BourneSubstitution`); fish and PowerShell only as a bare word, outside quotes, since the value
/// is written into the command as one single-quoted word; for any other program runsheet knows no
/// quoting rules, and a placeholder is refused.
public enum PlaceholderSafety {
    /// Why the placeholder at `range` (bytes of `code`) is not safe when `shell` runs `code`, or nil.
    public static func problem(in code: String, at range: Range<Int>, shell: String) -> String? {
        switch ShellDialect(shell: shell) {
        case .bourne: return nil
        case .fish, .powerShell:
            return isBare(Array(code.utf8), range, dialect: ShellDialect(shell: shell)) ? nil
                : "only a placeholder that stands alone as a word, outside quotes, is safe in a command run by \(shell)"
        case .other:
            return "runsheet knows no quoting rules for \(shell), so a value could run as code there"
        }
    }

    /// Whether the bytes at `range` stand alone as a word outside quotes and comments: the start of
    /// the code, a line or a blank before it; the end, a line end, a blank or `;` after it.
    static func isBare(_ bytes: [UInt8], _ range: Range<Int>, dialect: ShellDialect) -> Bool {
        let escape: UInt8 = dialect == .powerShell ? UInt8(ascii: "`") : UInt8(ascii: "\\")
        var quote: UInt8?
        var index = 0
        var wordStart = true
        while index < range.lowerBound {
            let byte = bytes[index]
            if let open = quote {
                if byte == escape && (open == UInt8(ascii: "\"") || dialect == .fish) {
                    index += 2
                    continue
                }
                if byte == open {
                    // PowerShell writes a quote inside single quotes twice.
                    if dialect == .powerShell, open == UInt8(ascii: "'"), index + 1 < range.lowerBound, bytes[index + 1] == open {
                        index += 2
                        continue
                    }
                    quote = nil
                }
                index += 1
                wordStart = false
                continue
            }
            switch byte {
            case escape:
                index += 2
                wordStart = false
                continue
            case UInt8(ascii: "'"), UInt8(ascii: "\""):
                quote = byte
            case UInt8(ascii: "#") where wordStart:
                // A comment to the end of the line.
                while index < range.lowerBound, bytes[index] != UInt8(ascii: "\n") { index += 1 }
                wordStart = true
                continue
            default: break
            }
            wordStart = [UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: ";")].contains(byte)
            index += 1
        }
        guard quote == nil, index == range.lowerBound, wordStart else { return false }
        guard range.upperBound < bytes.count else { return true }
        return [UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: ";")].contains(bytes[range.upperBound])
    }
}
