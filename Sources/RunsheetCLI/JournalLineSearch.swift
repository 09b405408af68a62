import Foundation

/// Finds lines of a journal in memory by a fragment of their bytes without going through every
/// line: a search over the whole journal, and only the lines a fragment falls in are cut out
/// (a run of 100,000 events is searched in a few milliseconds instead of copied line by line).
enum JournalLineSearch {
    /// The first line (after any empty ones) and every later line holding one of `fragments`,
    /// each once, in journal order; without the newline.
    static func firstAndContaining(_ fragments: [[UInt8]], in journal: [UInt8]) -> [ArraySlice<UInt8>] {
        lines(fragments, in: journal, first: true)
    }

    /// `firstAndContaining` over a journal in pieces of whole lines (`RunStore.journal`), which
    /// joined make the journal: the first line of the first piece, then the lines of each piece
    /// holding a fragment, in order.
    static func firstAndContaining(_ fragments: [[UInt8]], in pieces: [[UInt8]]) -> [ArraySlice<UInt8>] {
        pieces.indices.flatMap { index in lines(fragments, in: pieces[index], first: index == 0) }
    }

    private static func lines(_ fragments: [[UInt8]], in journal: [UInt8], first: Bool) -> [ArraySlice<UInt8>] {
        journal.withUnsafeBufferPointer { buffer -> [ArraySlice<UInt8>] in
            guard let base = buffer.baseAddress else { return [] }
            let count = buffer.count
            var start = 0
            while start < count && base[start] == 0x0A { start += 1 }
            guard start < count else { return [] }
            func lineStart(_ at: Int) -> Int {
                var index = at
                while index > 0 && base[index - 1] != 0x0A { index -= 1 }
                return index
            }
            func lineEnd(_ at: Int) -> Int {
                guard let found = memchr(base + at, 0x0A, count - at) else { return count }
                return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            }
            // memchr to each place of an uncommon byte of the fragment (a quote or a letter is
            // everywhere in JSON; a full stop is not), memcmp for the whole fragment around it.
            func find(_ fragment: [UInt8], from: Int) -> Int? {
                let anchor = fragment.firstIndex(of: UInt8(ascii: ".")) ?? fragment.count - 1
                var at = from + anchor
                while count - at >= fragment.count - anchor, let found = memchr(base + at, Int32(fragment[anchor]), count - at - (fragment.count - anchor) + 1) {
                    let index = base.distance(to: found.assumingMemoryBound(to: UInt8.self)) - anchor
                    if fragment.withUnsafeBufferPointer({ memcmp(base + index, $0.baseAddress!, $0.count) }) == 0 { return index }
                    at = index + anchor + 1
                }
                return nil
            }
            var starts: Set<Int> = first ? [start] : []
            for fragment in fragments where !fragment.isEmpty {
                var from = start
                while from < count, let at = find(fragment, from: from) {
                    let line = lineStart(at)
                    starts.insert(line)
                    from = lineEnd(at) + 1
                }
            }
            return starts.sorted().map { journal[$0..<lineEnd($0)] }
        }
    }
}
