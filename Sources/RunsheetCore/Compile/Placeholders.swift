/// `{{name}}` placeholders in commands, step text and annotation values.
public enum Placeholders {
    /// Built-in names, always available.
    public static let builtins = ["run.id", "run.dir", "runbook.dir", "runbook.path", "class", "actor"]

    public struct Occurrence: Sendable, Equatable {
        /// The name inside the braces, trimmed.
        public var name: String
        /// Byte range of the whole `{{ ... }}` in the scanned text.
        public var range: Range<Int>
    }

    public static func isParameterName(_ name: String) -> Bool {
        if name.utf8.allSatisfy({ $0 < 0x80 }) {
            func isLetter(_ b: UInt8) -> Bool { (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) }
            guard let first = name.utf8.first, first == 0x5F || isLetter(first) else { return false }
            return name.utf8.allSatisfy { $0 == 0x5F || $0 == 0x2D || isLetter($0) || (0x30...0x39).contains($0) }
        }
        guard let first = name.unicodeScalars.first, first == "_" || first.properties.isAlphabetic else { return false }
        return name.unicodeScalars.allSatisfy { $0 == "_" || $0 == "-" || $0.properties.isAlphabetic || ("0"..."9").contains($0) }
    }

    /// Every `{{name}}` whose name is a parameter name or a built-in. `${{ ... }}` (GitHub Actions) and
    /// dotted names other than built-ins (Go templates, `env.X`) are not placeholders.
    public static func scan(_ text: String) -> [Occurrence] {
        var text = text
        return text.withUTF8 { bytes in
            var result: [Occurrence] = []
            var i = 0
            while i + 1 < bytes.count {
                guard bytes[i] == 0x7B, bytes[i + 1] == 0x7B else { i += 1; continue }
                if i > 0 && bytes[i - 1] == 0x24 { i += 2; continue }  // ${{
                var j = i + 2
                while j + 1 < bytes.count && !(bytes[j] == 0x7D && bytes[j + 1] == 0x7D) && bytes[j] != 0x0A && j - i < 80 {
                    j += 1
                }
                guard j + 1 < bytes.count, bytes[j] == 0x7D, bytes[j + 1] == 0x7D else { i += 2; continue }
                let name = String(decoding: UnsafeBufferPointer(rebasing: bytes[(i + 2)..<j]), as: UTF8.self).trimmed
                if isParameterName(name) || builtins.contains(name) {
                    result.append(Occurrence(name: name, range: i..<(j + 2)))
                }
                i = j + 2
            }
            return result
        }
    }

    /// Text as an operator may see it: placeholders filled through `value`, secret parameters masked.
    public static func display(_ text: String, params: [Parameter], value: (String) -> String?) -> String {
        guard text.contains("{{") else { return text }
        return substitute(text) { name in
            if params.contains(where: { $0.name == name && $0.secret }) { return ShellQuoting.mask }
            return value(name)
        }
    }

    /// Replaces each known placeholder through `value`; unknown names are left as written.
    public static func substitute(_ text: String, _ value: (String) -> String?) -> String {
        let occurrences = scan(text)
        guard !occurrences.isEmpty else { return text }
        let bytes = Array(text.utf8)
        var out: [UInt8] = []
        var last = 0
        for occurrence in occurrences {
            out.append(contentsOf: bytes[last..<occurrence.range.lowerBound])
            if let replacement = value(occurrence.name) {
                out.append(contentsOf: replacement.utf8)
            } else {
                out.append(contentsOf: bytes[occurrence.range])
            }
            last = occurrence.range.upperBound
        }
        out.append(contentsOf: bytes[last...])
        return String(decoding: out, as: UTF8.self)
    }
}
