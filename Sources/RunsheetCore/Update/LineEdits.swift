/// Whole-line edits to a file: lines replaced and lines inserted, every other byte kept. Applies
/// them, or writes them as a unified diff that `git apply` and `patch -p1` accept.
public struct LineEdits: Sendable, Equatable {
    /// New text for a line (its ending included), by 1-based line number.
    public private(set) var replacements: [Int: [UInt8]] = [:]
    /// Lines to insert after a line (0: before the first), endings included, in order.
    public private(set) var insertions: [Int: [[UInt8]]] = [:]

    public init() {}

    public var isEmpty: Bool { replacements.isEmpty && insertions.isEmpty }

    public mutating func replace(line: Int, with text: [UInt8]) { replacements[line] = text }

    public mutating func insert(after line: Int, _ text: [UInt8]) { insertions[line, default: []].append(text) }

    /// The file with the edits made.
    public func apply(to source: [UInt8]) -> [UInt8] {
        let lines = Self.lines(source)
        var out: [UInt8] = []
        out.reserveCapacity(source.count + insertions.values.joined().reduce(0) { $0 + $1.count })
        out += (insertions[0] ?? []).joined()
        for (index, line) in lines.enumerated() {
            let number = index + 1
            var text = replacements[number] ?? line
            if let inserted = insertions[number], !inserted.isEmpty {
                if text.last != 0x0A { text += Self.ending(of: lines) }
                out += text
                out += inserted.joined()
            } else {
                out += text
            }
        }
        return out
    }

    /// A unified diff (three lines of context) from `a/path` to `b/path`; empty when nothing changes.
    public func unifiedDiff(source: [UInt8], path: String) -> String {
        let old = Self.lines(source)
        let new = Self.lines(apply(to: source))
        // Each changed block: old lines [start, end) become `added` new lines; blocks in file order.
        struct Block { var start: Int; var end: Int; var lines: [[UInt8]] }
        var blocks: [Block] = []
        let touched = Set(replacements.keys).union(insertions.keys).sorted()
        var newIndex = 0
        var oldIndex = 0
        func copyUnchanged(upTo target: Int) {
            newIndex += target - oldIndex
            oldIndex = target
        }
        for line in touched {
            // Lines before `line` are unchanged; line `line` itself is old index line - 1.
            if line == 0 {
                let count = insertions[0]?.count ?? 0
                blocks.append(Block(start: 0, end: 0, lines: Array(new[newIndex..<(newIndex + count)])))
                newIndex += count
                continue
            }
            copyUnchanged(upTo: line - 1)
            let inserted = insertions[line]?.count ?? 0
            let lineChanged = old[line - 1] != new[newIndex]
            if lineChanged {
                blocks.append(Block(start: line - 1, end: line, lines: Array(new[newIndex..<(newIndex + 1 + inserted)])))
            } else if inserted > 0 {
                blocks.append(Block(start: line, end: line, lines: Array(new[(newIndex + 1)..<(newIndex + 1 + inserted)])))
            }
            newIndex += 1 + inserted
            oldIndex = line
        }
        guard !blocks.isEmpty else { return "" }
        // Group blocks whose context would touch into hunks.
        let context = 3
        var hunks: [[Block]] = []
        for block in blocks {
            if let last = hunks.last?.last, block.start - last.end <= 2 * context {
                hunks[hunks.count - 1].append(block)
            } else {
                hunks.append([block])
            }
        }
        var out = "--- a/\(path)\n+++ b/\(path)\n"
        var shift = 0  // new line number minus old line number before the current hunk
        for hunk in hunks {
            let first = hunk[0], last = hunk[hunk.count - 1]
            let from = max(0, first.start - context)
            let to = min(old.count, last.end + context)
            var body = ""
            var oldCount = 0, newCount = 0
            var cursor = from
            var delta = shift
            for block in hunk {
                for i in cursor..<block.start { body += Self.diffLine(" ", old[i]); oldCount += 1; newCount += 1 }
                for i in block.start..<block.end { body += Self.diffLine("-", old[i]); oldCount += 1 }
                for line in block.lines { body += Self.diffLine("+", line); newCount += 1 }
                delta += block.lines.count - (block.end - block.start)
                cursor = block.end
            }
            for i in cursor..<to { body += Self.diffLine(" ", old[i]); oldCount += 1; newCount += 1 }
            let oldStart = oldCount == 0 ? from : from + 1
            let newStart = newCount == 0 ? from + shift : from + shift + 1
            out += "@@ -\(oldStart),\(oldCount) +\(newStart),\(newCount) @@\n" + body
            shift = delta
        }
        return out
    }

    static func diffLine(_ mark: String, _ line: [UInt8]) -> String {
        let text = String(decoding: line, as: UTF8.self)
        return text.hasSuffix("\n") ? mark + text : mark + text + "\n\\ No newline at end of file\n"
    }

    /// Lines with their endings.
    static func lines(_ bytes: [UInt8]) -> [[UInt8]] {
        ChecklistRenderer.lineRanges(bytes).map { Array(bytes[$0]) }
    }

    /// The file's line ending: CR LF when its first line ends so, else LF.
    static func ending(of lines: [[UInt8]]) -> [UInt8] {
        guard let first = lines.first, first.count >= 2, first.last == 0x0A, first[first.count - 2] == 0x0D else { return [0x0A] }
        return [0x0D, 0x0A]
    }
}
