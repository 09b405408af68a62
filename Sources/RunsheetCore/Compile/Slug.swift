/// GitHub's heading anchors and runsheet's step-id slugs.
public enum Slug {
    /// The anchor GitHub gives a heading with this plain text (before de-duplication):
    /// lowercased, punctuation and symbols removed, each space turned into a hyphen.
    public static func githubAnchor(_ text: String) -> String {
        if let ascii = asciiAnchor(text) { return ascii }
        var out = String.UnicodeScalarView()
        func keep(_ scalar: Unicode.Scalar) {
            if scalar.isASCII {
                if let kept = keptASCII(UInt8(scalar.value)) { out.append(Unicode.Scalar(kept)) }
                return
            }
            switch scalar.properties.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
                 .nonspacingMark, .spacingMark, .enclosingMark,
                 .decimalNumber, .letterNumber, .otherNumber:
                out.append(scalar)
            default:
                break
            }
        }
        // `lowercased()` maps each scalar on its own, so ASCII scalars are lowercased here directly
        // and only the others go through their lowercase mapping.
        for scalar in text.unicodeScalars {
            if scalar.isASCII {
                keep((0x41...0x5A).contains(scalar.value) ? Unicode.Scalar(UInt8(scalar.value) | 0x20) : scalar)
            } else {
                for lower in scalar.properties.lowercaseMapping.unicodeScalars { keep(lower) }
            }
        }
        return String(out)
    }

    /// What an ASCII byte becomes in an anchor: letters, digits, `-` and `_` stay, a space turns
    /// into `-`, everything else (punctuation, symbols, controls) goes.
    @inline(__always)
    private static func keptASCII(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x20: 0x2D
        case 0x2D, 0x5F, 0x30...0x39, 0x41...0x5A, 0x61...0x7A: byte
        default: nil
        }
    }

    /// For each ASCII byte of free text: the anchor byte it becomes once lowercased, or 0 when it goes.
    private static let anchorBytes: [UInt8] = (0..<128).map { byte in
        keptASCII((0x41...0x5A).contains(byte) ? UInt8(byte) | 0x20 : UInt8(byte)) ?? 0
    }

    /// The anchor of all-ASCII text, lowercased byte by byte; nil when the text is not ASCII.
    private static func asciiAnchor(_ text: String) -> String? {
        var text = text
        return text.withUTF8 { utf8 -> String? in
            var isASCII = true
            let result = anchorBytes.withUnsafeBufferPointer { table in
                String(unsafeUninitializedCapacity: utf8.count) { out in
                    var n = 0
                    for byte in utf8 {
                        guard byte < 0x80 else { isASCII = false; return 0 }
                        let kept = table[Int(byte)]
                        if kept != 0 {
                            out[n] = kept
                            n += 1
                        }
                    }
                    return n
                }
            }
            return isASCII ? result : nil
        }
    }

    /// A compact id from free text: the GitHub anchor with runs of hyphens folded,
    /// cut to at most `limit` characters at a hyphen.
    public static func stepID(_ text: String, limit: Int = 48) -> String {
        if let ascii = asciiStepID(text, limit: limit, isAnchor: false) { return ascii }
        let anchor = githubAnchor(text)
        if let ascii = asciiStepID(anchor, limit: limit, isAnchor: true) { return ascii }
        var folded = ""
        for ch in anchor {
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

    /// `stepID` in one pass over bytes, for ASCII text (every byte is one character); nil when the
    /// text is not ASCII. `isAnchor` says the text is already an anchor, so only folding and cutting remain.
    private static func asciiStepID(_ text: String, limit: Int, isAnchor: Bool) -> String? {
        var text = text
        return text.withUTF8 { utf8 -> String? in
            var isASCII = true
            let id = anchorBytes.withUnsafeBufferPointer { table in
                String(unsafeUninitializedCapacity: utf8.count) { out in
                    var n = 0
                    for var byte in utf8 {
                        guard byte < 0x80 else { isASCII = false; return 0 }
                        if !isAnchor {
                            byte = table[Int(byte)]
                            if byte == 0 { continue }
                        }
                        if byte == 0x2D && (n == 0 || out[n - 1] == 0x2D) { continue }
                        out[n] = byte
                        n += 1
                    }
                    while n > 0 && out[n - 1] == 0x2D { n -= 1 }
                    guard n > limit else { return n }
                    // Cut at the last hyphen of the first limit + 1 characters, if it is not too early.
                    var hyphen = limit
                    while hyphen >= 0 && out[hyphen] != 0x2D { hyphen -= 1 }
                    if hyphen >= 0 && hyphen >= limit / 2 { return hyphen }
                    var end = limit
                    while end > 0 && out[end - 1] == 0x2D { end -= 1 }
                    return end
                }
            }
            return isASCII ? id : nil
        }
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
    /// True when the UTF-8 bytes `first` and `second` occur back to back.
    func containsUTF8(_ first: UInt8, _ second: UInt8) -> Bool {
        var previous: UInt8?
        for byte in utf8 {
            if previous == first && byte == second { return true }
            previous = byte
        }
        return false
    }

    func trimmingSuffix(_ suffix: Character) -> String {
        var s = self
        while s.last == suffix { s.removeLast() }
        return s
    }
}
