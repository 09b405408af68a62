extension String {
    /// Leading and trailing spaces, tabs and line breaks removed.
    public var trimmed: String {
        if let range = asciiTrimmedRange() {
            if range.count == utf8.count { return self }
            let start = utf8.index(utf8.startIndex, offsetBy: range.lowerBound)
            return String(self[start..<utf8.index(start, offsetBy: range.count)])
        }
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }

    /// The UTF-8 range `trimmed` keeps, when ASCII bytes on both sides of each cut decide it;
    /// nil when a non-ASCII character borders a cut (it could join the whitespace into one
    /// grapheme, or be whitespace itself), so the character-based path must decide.
    private func asciiTrimmedRange() -> Range<Int>? {
        var copy = self
        return copy.withUTF8 { utf8 -> Range<Int>? in
            func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (0x09...0x0D).contains(b) }
            var start = 0
            while start < utf8.count && isSpace(utf8[start]) { start += 1 }
            if start == utf8.count { return 0..<0 }
            guard utf8[start] < 0x80 else { return nil }
            var end = utf8.count
            while isSpace(utf8[end - 1]) { end -= 1 }
            guard utf8[end - 1] < 0x80 else { return nil }
            return start..<end
        }
    }
}

extension Unicode.Scalar {
    /// Drawn as nothing, or as a blank or an empty box: Unicode's default-ignorable code points
    /// (zero-width space, soft hyphen, joiners...), and look-alikes that are not, such as the
    /// Braille blank, the Hangul fillers, the replacement characters and the musical null noteheads.
    public var drawsNothing: Bool {
        properties.isDefaultIgnorableCodePoint || [0x2800, 0x3164, 0x115F, 0x1160, 0xFFA0, 0xFFFC, 0xFFFD, 0x1D159, 0x1D15A].contains(value)
    }
}

extension String {
    /// Whether the text says nothing a reader could see: it has no letter, digit, punctuation or
    /// symbol that is drawn (`drawsNothing`); white space, marks alone, private-use, unassigned
    /// and noncharacter code points say nothing. A reason, note or comment that is blank is
    /// refused as an empty one is.
    public var isBlank: Bool {
        !unicodeScalars.contains { scalar in
            guard !scalar.drawsNothing else { return false }
            switch scalar.properties.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
                 .decimalNumber, .letterNumber, .otherNumber,
                 .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
                 .initialPunctuation, .finalPunctuation, .otherPunctuation,
                 .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
                return true
            default:
                return false
            }
        }
    }
}
