/// GitHub's heading anchors and runsheet's step-id slugs.
public enum Slug {
    /// The anchor GitHub gives a heading with this plain text (before de-duplication):
    /// lowercased, punctuation and symbols removed, each space turned into a hyphen.
    public static func githubAnchor(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.lowercased().unicodeScalars {
            switch scalar {
            case " ": out.append("-")
            case "-", "_": out.append(scalar)
            default:
                switch scalar.properties.generalCategory {
                case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
                     .nonspacingMark, .spacingMark, .enclosingMark,
                     .decimalNumber, .letterNumber, .otherNumber:
                    out.append(scalar)
                default:
                    break
                }
            }
        }
        return String(out)
    }

    /// A compact id from free text: the GitHub anchor with runs of hyphens folded,
    /// cut to at most `limit` characters at a hyphen.
    public static func stepID(_ text: String, limit: Int = 48) -> String {
        var folded = ""
        for ch in githubAnchor(text) {
            if ch == "-" && (folded.isEmpty || folded.last == "-") { continue }
            folded.append(ch)
        }
        while folded.last == "-" { folded.removeLast() }
        guard folded.count > limit else { return folded }
        let cut = String(folded.prefix(limit + 1))
        if let hyphen = cut.lastIndex(of: "-"), cut.distance(from: cut.startIndex, to: hyphen) >= limit / 2 {
            return String(cut[..<hyphen])
        }
        return String(folded.prefix(limit)).trimmingSuffix("-")
    }
}

/// Hands out GitHub-style unique anchors: `a`, `a-1`, `a-2`.
struct AnchorAllocator {
    private var used: [String: Int] = [:]

    mutating func unique(_ base: String) -> String {
        var slug = base
        if let count = used[base] {
            var n = count
            repeat {
                n += 1
                slug = "\(base)-\(n)"
            } while used[slug] != nil
            used[base] = n
        }
        used[slug] = used[slug] ?? 0
        return slug
    }
}

extension String {
    func trimmingSuffix(_ suffix: Character) -> String {
        var s = self
        while s.last == suffix { s.removeLast() }
        return s
    }

    /// Leading and trailing spaces, tabs and line breaks removed.
    var trimmed: String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
