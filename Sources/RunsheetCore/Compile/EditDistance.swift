/// Suggestions for misspelt keys, step ids and file names.
public enum EditDistance {
    /// Levenshtein distance with adjacent transpositions counted as one edit.
    static func distance(_ a: String, _ b: String) -> Int {
        if let a = asciiBytes(a), let b = asciiBytes(b) { return distance(a, b) }
        return distance(Array(a), Array(b))
    }

    private static func distance<Element: Equatable>(_ a: [Element], _ b: [Element]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous2 = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], previous2[j - 2] + 1)
                }
            }
            (previous2, previous, current) = (previous, current, previous2)
        }
        return previous[b.count]
    }

    /// The bytes of a string whose every byte is one character (ASCII without CR LF pairs).
    private static func asciiBytes(_ text: String) -> [UInt8]? {
        isPlainASCII(text) ? Array(text.utf8) : nil
    }

    /// The closest candidate within `maximum` edits, if any.
    public static func closest(to word: String, in candidates: [String], maximum: Int) -> String? {
        let ascii = asciiBytes(word)
        let characters = ascii == nil ? Array(word) : []
        let length = ascii?.count ?? characters.count
        var best: (String, Int)?
        for candidate in candidates {
            // The distance is at least the difference in length: skip candidates that cannot win.
            let limit = min(maximum, (best?.1 ?? Int.max) - 1)
            let d: Int
            if ascii != nil, isPlainASCII(candidate) {
                guard abs(candidate.utf8.count - length) <= limit else { continue }
                var other = candidate
                d = ascii!.withUnsafeBufferPointer { a in other.withUTF8 { asciiDistance(a, $0) } }
            } else {
                let other = Array(candidate)
                guard abs(other.count - length) <= limit else { continue }
                d = distance(ascii.map { Array(String(decoding: $0, as: UTF8.self)) } ?? characters, other)
            }
            if d <= maximum && d < (best?.1 ?? Int.max) { best = (candidate, d) }
        }
        return best?.0
    }

    /// True when every byte is one character: ASCII without a CR LF pair.
    private static func isPlainASCII(_ text: String) -> Bool {
        var previous: UInt8 = 0
        for byte in text.utf8 {
            if byte >= 0x80 || (previous == 0x0D && byte == 0x0A) { return false }
            previous = byte
        }
        return true
    }

    /// `distance` over bytes, with its three rows in one temporary allocation.
    private static func asciiDistance(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        let width = b.count + 1
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: 3 * width) { rows in
            var (previous2, previous, current) = (0, width, 2 * width)
            for j in 0..<width {
                rows[previous2 + j] = 0
                rows[previous + j] = j
            }
            for i in 1...a.count {
                rows[current] = i
                for j in 1...b.count {
                    let cost = a[i - 1] == b[j - 1] ? 0 : 1
                    var value = min(rows[previous + j] + 1, rows[current + j - 1] + 1, rows[previous + j - 1] + cost)
                    if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                        value = min(value, rows[previous2 + j - 2] + 1)
                    }
                    rows[current + j] = value
                }
                (previous2, previous, current) = (previous, current, previous2)
            }
            return rows[previous + b.count]
        }
    }
}
