import Foundation

/// Names that look like another person's: `аlice@example.com` with a Cyrillic `а` is a second
/// person to runsheet and to OpenSSH, and the same person to whoever reads a report. `check` warns
/// about a name that mixes scripts (Latin with Cyrillic or Greek letters) and about two people
/// whose confusable skeletons (common Cyrillic and Greek homoglyphs read as Latin, invisible
/// characters dropped) are equal; where names are shown to be compared, one with characters
/// outside printable ASCII is followed by their code points (`PersonName.shownWithCodePoints`).
public enum LookAlikeNames {
    enum Script { case latin, cyrillic, greek, other }

    static func script(of scalar: Unicode.Scalar) -> Script? {
        guard scalar.properties.isAlphabetic else { return nil }
        switch scalar.value {
        case 0x41...0x5A, 0x61...0x7A, 0xC0...0x24F, 0x1E00...0x1EFF: return .latin
        case 0x370...0x3FF, 0x1F00...0x1FFF: return .greek
        case 0x400...0x52F: return .cyrillic
        default: return .other
        }
    }

    /// Format and invisible characters that change nothing a reader sees.
    public static func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0xAD, 0x34F, 0x61C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B...0x180E, 0x200B...0x200F, 0x2060...0x2064, 0x3164, 0xFE00...0xFE0F, 0xFEFF, 0xFFA0:
            return true
        default:
            return scalar.properties.generalCategory == .format
        }
    }

    /// Invisible characters that shape no text (unlike joiners, direction marks and variation
    /// selectors, which emoji and right-to-left text need): escaped wherever text is shown.
    public static func isAlwaysInvisible(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0xAD, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x200B, 0x2060...0x2064, 0x3164, 0xFEFF, 0xFFA0: true
        default: false
        }
    }

    /// Cyrillic and Greek letters that look like a Latin one.
    static let homoglyphs: [Unicode.Scalar: Character] = {
        let pairs: [(UInt32, Character)] = [
            (0x430, "a"), (0x435, "e"), (0x43E, "o"), (0x440, "p"), (0x441, "c"), (0x443, "y"), (0x445, "x"), (0x455, "s"),
            (0x456, "i"), (0x458, "j"), (0x4BB, "h"), (0x501, "d"), (0x51B, "q"), (0x51D, "w"), (0x410, "a"), (0x412, "b"),
            (0x415, "e"), (0x41A, "k"), (0x41C, "m"), (0x41D, "h"), (0x41E, "o"), (0x420, "p"), (0x421, "c"), (0x422, "t"),
            (0x425, "x"), (0x405, "s"), (0x406, "i"), (0x408, "j"), (0x4C0, "l"), (0x3B1, "a"), (0x3BF, "o"), (0x3C1, "p"),
            (0x3BD, "v"), (0x3C5, "u"), (0x3B9, "i"), (0x3BA, "k"), (0x3C7, "x"), (0x391, "a"), (0x392, "b"), (0x395, "e"),
            (0x396, "z"), (0x397, "h"), (0x399, "i"), (0x39A, "k"), (0x39C, "m"), (0x39D, "n"), (0x39F, "o"), (0x3A1, "p"),
            (0x3A4, "t"), (0x3A5, "y"), (0x3A7, "x"),
        ]
        return Dictionary(uniqueKeysWithValues: pairs.map { (Unicode.Scalar($0.0)!, $0.1) })
    }()

    /// The name as a reader might take it: homoglyphs as Latin, invisible characters dropped, lower case.
    public static func skeleton(_ name: String) -> String {
        var out = ""
        for scalar in name.unicodeScalars where !isInvisible(scalar) {
            if let latin = homoglyphs[scalar] { out.append(latin) } else { out.unicodeScalars.append(scalar) }
        }
        return out.lowercased()
    }

    /// The scripts a name's letters come from, when more than one.
    static func mixedScripts(_ name: String) -> [String]? {
        let scripts = Set(name.unicodeScalars.compactMap(script(of:)))
        guard scripts.count > 1 else { return nil }
        return scripts.map { switch $0 { case .latin: "Latin"; case .cyrillic: "Cyrillic"; case .greek: "Greek"; case .other: "other" } }.sorted()
    }

    /// One person name and where a file names it.
    public struct Mention: Sendable {
        public var name: String
        public var path: String
        public var line: Int
        public var column: Int
    }

    /// Warnings for the names of the repository's roles file and allowed signers file.
    public static func diagnostics(forRunbook path: String, signers: AllowedSigners?, loader: Compiler.Loader = Compiler.disk) -> [Diagnostic] {
        var mentions: [Mention] = []
        if let (roles, _) = RolesFile.load(forRunbook: path, loader: loader) {
            let text = (try? loader(roles.path)).flatMap { String(validating: $0, as: UTF8.self) } ?? ""
            mentions += locate(roles.members.values.flatMap { $0 }, in: text, path: roles.path)
        }
        if let signers {
            let text = (try? loader(signers.path)).flatMap { String(validating: $0, as: UTF8.self) } ?? ""
            let names = signers.entries.flatMap { $0.principals.filter { !$0.hasPrefix("!") && !$0.contains("*") && !$0.contains("?") } }
            mentions += locate(names, in: text, path: signers.path)
        }
        return diagnostics(mentions)
    }

    /// Each distinct name at its first mention in `text` (line and column in characters, 1-based).
    static func locate(_ names: [String], in text: String, path: String) -> [Mention] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }.map { name in
            let found = lines.enumerated().lazy.compactMap { index, line in
                line.range(of: name).map { (index + 1, line.distance(from: line.startIndex, to: $0.lowerBound) + 1) }
            }.first ?? (1, 1)
            return Mention(name: name, path: path, line: found.0, column: found.1)
        }
    }

    static func code(_ mention: Mention) -> DiagnosticCode {
        mention.path.hasSuffix(AllowedSigners.relativePath) ? .allowedSigners : .rolesFile
    }

    static func diagnostics(_ mentions: [Mention]) -> [Diagnostic] {
        var found: [Diagnostic] = []
        var bySkeleton: [String: String] = [:]
        var warned = Set<String>()
        for mention in mentions {
            let shown = PersonName.shownWithCodePoints(mention.name)
            if let scripts = mixedScripts(mention.name), warned.insert("mixed " + mention.name).inserted {
                found.append(Diagnostic(.warning, code(mention), "the name \(shown) mixes \(scripts.joined(separator: " and ")) letters, so it can look like another person's name; write it in one script",
                                        path: mention.path, line: mention.line, column: mention.column))
            }
            let canonical = PersonName.canonical(mention.name)
            let skeleton = skeleton(canonical)
            if let other = bySkeleton[skeleton], other != canonical, warned.insert("alike " + canonical).inserted {
                found.append(Diagnostic(.warning, code(mention), "the name \(shown) looks like \(PersonName.shownWithCodePoints(other)) but is another person to runsheet and OpenSSH; use one spelling, in plain letters",
                                        path: mention.path, line: mention.line, column: mention.column))
            } else if bySkeleton[skeleton] == nil {
                bySkeleton[skeleton] = canonical
            }
        }
        return found
    }
}

extension PersonName {
    /// `name` escaped, followed by the code points of its characters outside printable ASCII and
    /// their 1-based positions: `аlice@example.com (U+0430 at 1)`.
    public static func shownWithCodePoints(_ name: String) -> String {
        // Printable ASCII shows as it is (`status` shows a name on each of tens of thousands of lines).
        if name.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) { return name }
        var points: [String] = []
        for (index, scalar) in name.unicodeScalars.enumerated() where !(0x20...0x7E).contains(scalar.value) {
            points.append("U+" + String(format: "%04X", scalar.value) + " at \(index + 1)")
        }
        // In a name every invisible character is escaped, joiners and marks included.
        var shown = String.UnicodeScalarView()
        for scalar in name.shown.unicodeScalars {
            if scalar.value > 0x7F, LookAlikeNames.isInvisible(scalar) { shown.append(contentsOf: ShownText.escape(scalar).unicodeScalars) } else { shown.append(scalar) }
        }
        return points.isEmpty ? String(shown) : "\(String(shown)) (\(points.joined(separator: ", ")))"
    }
}

extension String {
    /// A person's name as people compare it: escaped, with the code points of anything outside printable ASCII.
    public var shownName: String { PersonName.shownWithCodePoints(self) }
}
