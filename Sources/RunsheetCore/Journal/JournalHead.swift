import Foundation

/// Bringing a caller's fold of the run up to the journal's head before an append is checked
/// against it (docs/JOURNAL.md, "One writer per run").
extension JournalFile {
    /// Brings `state` up to the journal's last event: nothing to do when it already holds it, the
    /// events after this instance's last append when `state` ends there (`known`), else a fold of
    /// the whole journal. The caller holds `lock` and LOCK_EX.
    func catchUp(_ state: inout RunState, fd: Int32, to last: (end: Int, seq: Int, hash: String),
                 known: (stamp: FileStamp, seq: Int, hash: String)?) throws {
        if state.eventCount == last.seq && state.headHash == last.hash { return }
        if let known, state.eventCount == known.seq, state.headHash == known.hash, known.stamp.size <= last.end {
            var chained = true
            try Self.forEachLine(fd, from: known.stamp.size, to: last.end, path: path) { event in
                chained = chained && event.seq == state.eventCount + 1 && event.prev == state.headHash
                state.apply(event)
            }
            if chained && state.eventCount == last.seq && state.headHash == last.hash { return }
            // Not a continuation of what this instance wrote (a rewrite): the whole journal decides.
        }
        var folded = RunState()
        var first = true
        try Self.forEachLine(fd, from: 0, to: last.end, path: path) { event in
            if first { try Self.checkStart(event, path: path) }
            first = false
            folded.apply(event)
        }
        state = folded
    }

    /// Decodes each complete line between the offsets `from` (a line start) and `to` (just after a
    /// newline), read through `fd`, whose lock the caller holds.
    static func forEachLine(_ fd: Int32, from start: Int, to end: Int, path: String, _ body: (RunEvent) throws -> Void) throws {
        guard end > start else { return }
        var bytes = [UInt8](repeating: 0, count: end - start)
        var filled = 0
        while filled < bytes.count {
            let count = try bytes.withUnsafeMutableBytes { try readAt(fd, $0.baseAddress! + filled, $0.count - filled, start + filled, path: path) }
            guard count > 0 else { throw JournalError.system(path: path, operation: "read", errno: EIO) }
            filled += count
        }
        try bytes.withUnsafeBufferPointer { buffer in
            var lineStart = 0
            for index in 0..<buffer.count where buffer[index] == 0x0A {
                let range = lineStart..<index
                let offset = start + lineStart
                try body(try decodeLine(buffer, range, path: path) { try lineNumber(at: offset, fd: fd, path: path) })
                lineStart = index + 1
            }
        }
    }
}
