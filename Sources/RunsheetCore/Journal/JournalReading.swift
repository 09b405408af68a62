import Foundation

/// The end of a journal, read backwards in growing chunks so appending never reads the whole file.
struct JournalTail {
    var size: Int
    /// The last complete line (without its newline) and where it starts.
    var lastLine: (bytes: [UInt8], offset: Int)?
    var torn: (offset: Int, bytes: [UInt8])?
    /// The last line is a whole event whose newline is missing (it is an event, not a torn line).
    var missingNewline = false

    init(fd: Int32, path: String) throws {
        size = try JournalFile.size(of: fd, path: path)
        var window: [UInt8] = []  // the file's bytes from `start` to `size`
        var start = size
        var chunk = 4096
        /// The offset of the last newline before `limit`, reading further back as needed.
        func newline(before limit: Int) throws -> Int? {
            var position = limit - 1
            while true {
                while position >= start {
                    if window[position - start] == 0x0A { return position }
                    position -= 1
                }
                guard start > 0 else { return nil }
                let count = min(chunk, start)
                var more = [UInt8](repeating: 0, count: count)
                let got = try more.withUnsafeMutableBytes { try JournalFile.readAt(fd, $0.baseAddress!, count, start - count, path: path) }
                guard got == count else { throw JournalError.system(path: path, operation: "read", errno: EIO) }
                window = more + window
                start -= count
                chunk *= 2
            }
        }
        let lastNewline = try newline(before: size)
        let tornStart = (lastNewline ?? -1) + 1
        if tornStart < size { torn = (tornStart, Array(window[(tornStart - start)...])) }
        if let (offset, bytes) = torn, bytes.withUnsafeBufferPointer(JournalFile.isEvent) {
            (lastLine, torn, missingNewline) = ((bytes, offset), nil, true)
        } else if let lastNewline {
            let lineStart = (try newline(before: lastNewline) ?? -1) + 1
            lastLine = (Array(window[(lineStart - start)..<(lastNewline - start)]), lineStart)
        }
    }
}

/// Closes a descriptor; a free function because `JournalFile.close()` hides the C one inside the class.
func closeFile(_ fd: Int32) {
    _ = close(fd)
}

/// A whole journal in memory with its line boundaries, read under a lock (exclusive when repairing).
///
/// A torn line is only a last line that is not a whole event: one that decodes as an event is a
/// line whether or not its newline made it to the disk.
struct JournalSnapshot {
    var bytes: [UInt8]
    /// Byte ranges of the complete lines, without their newlines.
    var lines: [Range<Int>]
    var torn: TornLine?

    init(path: String, repair: Bool) throws {
        let fd = try RegularFile.descriptor(path, repair ? O_RDWR : O_RDONLY)
        defer { closeFile(fd) }
        (bytes, lines, torn) = try JournalFile.withFileLock(fd, repair ? LOCK_EX : LOCK_SH, path: path) {
            let size = try JournalFile.size(of: fd, path: path)
            // Read into uninitialised memory: zeroing a long journal first costs as much as reading it.
            let bytes = try [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
                if size >= 4 << 20 { LibC.preferLargePages(buffer.baseAddress!, size) }
                while initialized < size {
                    let count = try JournalFile.readAt(fd, buffer.baseAddress! + initialized, size - initialized, initialized, path: path)
                    if count == 0 { break }
                    initialized += count
                }
            }
            let (lines, complete) = Self.lines(of: bytes)
            var torn: TornLine?
            if complete < bytes.count {
                torn = TornLine(offset: complete, bytes: bytes.count - complete, savedAs: nil)
                if repair { torn = try JournalFile.repair(fd, path: path, offset: complete, bytes: Array(bytes[complete...])) }
            }
            return (bytes, lines, torn)
        }
    }

    /// A journal already in memory (a run fetched from the PostgreSQL store): its lines and torn
    /// last line found exactly as in a file; nothing is repaired.
    init(bytes: [UInt8]) {
        self.bytes = bytes
        let complete: Int
        (lines, complete) = Self.lines(of: bytes)
        torn = complete < bytes.count ? TornLine(offset: complete, bytes: bytes.count - complete, savedAs: nil) : nil
    }

    /// The byte ranges of the complete lines of `bytes`, without their newlines, and where the
    /// complete lines end (a last line without its newline counts when it is a whole event).
    static func lines(of bytes: [UInt8]) -> (lines: [Range<Int>], complete: Int) {
        let terminated = (bytes.lastIndex(of: 0x0A) ?? -1) + 1
        let unterminatedEvent = terminated < bytes.count
            && bytes.withUnsafeBufferPointer { JournalFile.isEvent(UnsafeBufferPointer(rebasing: $0[terminated...])) }
        let complete = unterminatedEvent ? bytes.count : terminated
        var lines: [Range<Int>] = []
        lines.reserveCapacity(complete / 256)
        bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var lineStart = 0
            // memchr finds each newline many bytes at a time.
            while lineStart < terminated, let found = memchr(base + lineStart, 0x0A, terminated - lineStart) {
                let index = base.distance(to: UnsafeRawPointer(found))
                lines.append(lineStart..<index)
                lineStart = index + 1
            }
        }
        if unterminatedEvent { lines.append(terminated..<complete) }
        return (lines, complete)
    }
}
