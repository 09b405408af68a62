/// Eight bytes of a JSON string tested at once, for the loops that write or read strings and
/// skip, a word at a time, the bytes they need not look at one by one (`RunbookJSON.string`,
/// `FastEventDecoder.string`). Each test says only whether some byte of the word is one it names,
/// which is all a skip needs.
enum JSONWord {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highs: UInt64 = 0x8080_8080_8080_8080

    /// Whether no byte of `word` is a quote, a backslash or below 0x20 (none needs escaping).
    @inline(__always) static func needsNoEscape(_ word: UInt64) -> Bool {
        escapes(word) == 0
    }

    /// `needsNoEscape`, and no byte is past ASCII either.
    @inline(__always) static func plainASCII(_ word: UInt64) -> Bool {
        (escapes(word) | word & highs) == 0
    }

    /// High bits where a byte of `word` may be a quote, a backslash or below 0x20: zero exactly
    /// when none is.
    @inline(__always) private static func escapes(_ word: UInt64) -> UInt64 {
        let quote = word ^ (0x22 &* ones), backslash = word ^ (0x5C &* ones)
        let control = (word &- 0x20 &* ones) & ~word
        return (control | (quote &- ones) & ~quote | (backslash &- ones) & ~backslash) & highs
    }
}
