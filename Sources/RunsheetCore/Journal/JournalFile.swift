import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A problem with a journal file, as a sentence naming the file (and the line when there is one).
public enum JournalError: Error, Equatable, LocalizedError {
    case alreadyExists(path: String)
    case notFound(path: String)
    case empty(path: String)
    case notAnEvent(path: String, line: Int, reason: String)
    case notRunStarted(path: String, type: String)
    case missingSchema(path: String)
    case unsupportedSchema(path: String, schema: String)
    /// A system call failed; `errno` is the C error number.
    case system(path: String, operation: String, errno: Int32)

    public var errorDescription: String? {
        switch self {
        case .alreadyExists(let path):
            "\(path) already exists; a run's journal is created only once, so start the run under a new id."
        case .notFound(let path):
            "\(path) does not exist; a journal is created when its run starts."
        case .empty(let path):
            "\(path) has no events; a journal must start with its run.started event."
        case .notAnEvent(let path, let line, let reason):
            "\(path):\(line): not a journal event (\(reason))."
        case .notRunStarted(let path, let type):
            "\(path):1: the first event is \(type), but a journal must start with run.started."
        case .missingSchema(let path):
            "\(path):1: run.started has no data.schema, so this is not a runsheet journal."
        case .unsupportedSchema(let path, let schema):
            "\(path):1: the journal format is \(schema), but this runsheet reads only \(RunEvent.schema); upgrade runsheet to read it."
        case .system(let path, let operation, let code):
            "\(path): \(operation) failed: \(String(cString: strerror(code)))."
        }
    }
}

/// A partial last line left by a crash in the middle of a write.
public struct TornLine: Sendable, Equatable {
    /// Byte offset where the partial line starts; the file's length once repaired.
    public var offset: Int
    /// Length of the partial line in bytes.
    public var bytes: Int
    /// Where repair saved the partial line (`<journal>.torn-<offset>`); nil if it was only detected.
    public var savedAs: String?
}

/// The events of a journal, in file order, and the torn last line if there was one.
public struct JournalContents: Sendable, Equatable {
    public var events: [RunEvent]
    public var tornLine: TornLine?
}

/// One run's append-only journal: a JSON Lines file of hash-chained `RunEvent`s (docs/JOURNAL.md).
///
/// Each instance keeps one descriptor open for appending. Any number of instances, in any number of
/// processes, may append to the same file: every append holds `flock(LOCK_EX)` while it reads the
/// last event, writes one line in one `write(2)` and calls `fsync`.
public final class JournalFile: @unchecked Sendable {  // mutable state is guarded by `lock`
    public let path: String
    // NSLock rather than Synchronization.Mutex, which needs macOS 15 (the package supports 14).
    // flock locks belong to the open file, so threads sharing this descriptor also need this lock.
    private let lock = NSLock()
    private var descriptor: Int32 = -1
    private var repairs: [TornLine] = []
    /// The file's size after this instance's last append, with that event's seq and hash. While the
    /// file still has that size nobody else has written to it (journals only grow, and only torn
    /// lines written after it are ever cut off), so the next append need not read the last line.
    private var lastAppended: (end: Int, seq: Int, hash: String)?

    /// Opens the existing journal at `path` for appending.
    public init(path: String) throws {
        self.path = path
        descriptor = try Self.openForAppend(path)
    }

    deinit {
        if descriptor >= 0 { closeFile(descriptor) }
    }

    /// The torn last lines this instance cut off (and saved) before appending, oldest first.
    public var repairedTornLines: [TornLine] { lock.withLock { repairs } }

    /// Creates the journal with its first event, which must be `run.started` with a known
    /// `data.schema`. Fails if the file exists. Returns the event as written (seq 1, sealed).
    ///
    /// The journal appears complete or not at all, even if the process is killed: the line is
    /// written and synced under a temporary name, then `link(2)`ed to `path`, which fails if
    /// `path` exists (so creation is exclusive, like `O_CREAT|O_EXCL`).
    @discardableResult
    public static func create(at path: String, first: RunEvent) throws -> RunEvent {
        try checkStart(first, path: path)
        let (sealed, line) = try seal(first, seq: 1, after: "")
        let staging = "\(path).creating-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(staging, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw JournalError.system(path: path, operation: "create", errno: errno) }
        defer {
            closeFile(fd)
            _ = unlink(staging)
        }
        try line.withUnsafeBytes { try writeAll(fd, $0, path: staging) }
        try sync(fd, path: staging)
        guard link(staging, path) == 0 else {
            throw errno == EEXIST ? JournalError.alreadyExists(path: path) : JournalError.system(path: path, operation: "create", errno: errno)
        }
        _ = unlink(staging)
        do {
            try syncDirectory(of: path)
        } catch {
            _ = unlink(path)  // a journal whose directory entry may not survive a crash was never created
            throw error
        }
        return sealed
    }

    /// Seals `event` after the journal's last event (seq + 1, prev = its hash), appends it durably
    /// and returns it as written. A torn last line is first saved and cut off (see `repairedTornLines`).
    @discardableResult
    public func append(_ event: RunEvent) throws -> RunEvent {
        try lock.withLock {
            if descriptor < 0 { descriptor = try Self.openForAppend(path) }
            let fd = descriptor
            return try Self.withFileLock(fd, LOCK_EX, path: path) {
                let last = try lastEvent(fd)
                let (sealed, line) = try Self.seal(event, seq: last.seq + 1, after: last.hash)
                lastAppended = nil
                do {
                    try line.withUnsafeBytes { try Self.writeAll(fd, $0, path: path) }
                    try Self.sync(fd, path: path)
                } catch {
                    // After a failed write or fsync the event may be partly or wholly on disk: cut it
                    // off, so that an append that throws never leaves its event in the journal.
                    _ = ftruncate(fd, off_t(last.end))
                    _ = fsync(fd)
                    throw error
                }
                lastAppended = (last.end + line.count, sealed.seq, sealed.hash)
                return sealed
            }
        }
    }

    /// Where the journal ends and the seq and hash of its last event, repairing a torn last line
    /// first. The caller holds `lock` and LOCK_EX.
    private func lastEvent(_ fd: Int32) throws -> (end: Int, seq: Int, hash: String) {
        if let known = lastAppended, try Self.size(of: fd, path: path) == known.end { return known }
        let tail = try JournalTail(fd: fd, path: path)
        var end = tail.size
        if let torn = tail.torn {
            repairs.append(try Self.repair(fd, path: path, offset: torn.offset, bytes: torn.bytes))
            end = torn.offset
        }
        guard let last = tail.lastLine else { throw JournalError.empty(path: path) }
        let lastLineNumber = { [path] in try Self.lineNumber(at: last.offset, fd: fd, path: path) }
        let previous = try last.bytes.withUnsafeBufferPointer { buffer in
            try Self.decodeLine(buffer, 0..<buffer.count, path: path, line: lastLineNumber)
        }
        guard previous.seq >= 1, previous.seq < Int.max else {
            throw JournalError.notAnEvent(path: path, line: try lastLineNumber(), reason: "seq \(previous.seq) is out of range")
        }
        return (end, previous.seq, previous.hash)
    }

    private static func openForAppend(_ path: String) throws -> Int32 {
        let fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC)
        guard fd >= 0 else {
            throw errno == ENOENT ? JournalError.notFound(path: path) : JournalError.system(path: path, operation: "open", errno: errno)
        }
        return fd
    }

    /// Closes the descriptor; a later `append` opens it again.
    public func close() {
        lock.withLock {
            if descriptor >= 0 { closeFile(descriptor) }
            descriptor = -1
            lastAppended = nil
        }
    }

    /// Reads every event under a shared lock. A torn last line is reported; with `repair` it is
    /// saved to `<path>.torn-<offset>` and cut off (under an exclusive lock) before returning.
    public static func read(at path: String, repair: Bool = false) throws -> JournalContents {
        var events: [RunEvent] = []
        let torn = try forEachEvent(at: path, repair: repair, expecting: { events.reserveCapacity($0) }) { events.append($0) }
        return JournalContents(events: events, tornLine: torn)
    }

    /// Folds every event into the run's state without keeping the events, which is all status,
    /// resume and the run catalog need: on a long journal it is faster and uses far less memory.
    public static func state(at path: String, repair: Bool = false) throws -> (state: RunState, tornLine: TornLine?) {
        var state = RunState()
        let torn = try forEachEvent(at: path, repair: repair) { state.apply($0) }
        return (state, torn)
    }

    /// Reads the journal as `read` does and hands each event to `body` in order; returns the torn
    /// last line, if any. `expecting` learns the number of events first.
    static func forEachEvent(at path: String, repair: Bool, expecting: (Int) -> Void = { _ in },
                             _ body: (RunEvent) throws -> Void) throws -> TornLine? {
        let snapshot = try JournalSnapshot(path: path, repair: repair)
        expecting(snapshot.lines.count)
        try snapshot.bytes.withUnsafeBufferPointer { buffer in
            for (index, range) in snapshot.lines.enumerated() {
                let event = try decodeLine(buffer, range, path: path) { index + 1 }
                if index == 0 { try checkStart(event, path: path) }
                try body(event)
            }
        }
        return snapshot.torn
    }

    // MARK: - Format

    /// Whether this runsheet reads journals of `schema`: `runsheet.journal/1` or `runsheet.journal/1.<minor>`.
    public static func supports(schema: String) -> Bool {
        let prefix = "runsheet.journal/"
        guard schema.hasPrefix(prefix) else { return false }
        let version = schema.dropFirst(prefix.count)
        let major = version.prefix { $0 != "." }
        let minor = version.dropFirst(major.count)
        return major == "1" && (minor.isEmpty || (minor.count > 1 && minor.dropFirst().allSatisfy { ("0"..."9").contains($0) }))
    }

    static func checkStart(_ first: RunEvent, path: String) throws {
        guard first.type == .runStarted else { throw JournalError.notRunStarted(path: path, type: first.type.rawValue) }
        guard let schema = first.data["schema"]?.string else { throw JournalError.missingSchema(path: path) }
        guard supports(schema: schema) else { throw JournalError.unsupportedSchema(path: path, schema: schema) }
    }

    /// Decodes the line at `range`: the fast decoder first, `JSONDecoder` for anything it declines.
    static func decodeLine(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, path: String,
                           line: () throws -> Int) throws -> RunEvent {
        if let event = FastEventDecoder.decode(buffer, range) { return event }
        switch slowDecode(Data(buffer[range])) {
        case .success(let event): return event
        case .failure(let reason): throw JournalError.notAnEvent(path: path, line: try line(), reason: reason.text)
        }
    }

    struct LineFailure: Error { var text: String }

    static func slowDecode(_ line: Data) -> Result<RunEvent, LineFailure> {
        if line.isEmpty { return .failure(LineFailure(text: "empty line")) }
        do {
            return .success(try JSONDecoder().decode(RunEvent.self, from: line))
        } catch let error as DecodingError {
            return .failure(LineFailure(text: describe(error, line: line)))
        } catch {
            return .failure(LineFailure(text: "\(error)"))
        }
    }

    private static func describe(_ error: DecodingError, line: Data) -> String {
        func name(_ path: [any CodingKey]) -> String {
            path.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "no \"\(name(context.codingPath + [key]))\" field"
        case .valueNotFound(_, let context):
            return "\"\(name(context.codingPath))\" is null"
        case .typeMismatch(_, let context):
            return context.codingPath.isEmpty ? "not a JSON object" : "\"\(name(context.codingPath))\" has the wrong type"
        case .dataCorrupted(let context):
            struct TypeOnly: Decodable { var type: String }
            if name(context.codingPath) == "type", let type = try? JSONDecoder().decode(TypeOnly.self, from: line).type {
                return "unknown event type \"\(type)\""
            }
            return context.codingPath.isEmpty ? "invalid JSON" : "invalid value for \"\(name(context.codingPath))\""
        @unknown default:
            return "invalid JSON"
        }
    }

    /// `event.sealed(seq:after:)` and its line (canonical JSON and a newline), encoding once instead of twice.
    static func seal(_ event: RunEvent, seq: Int, after previous: String) throws -> (event: RunEvent, line: [UInt8]) {
        var sealed = event
        sealed.seq = seq
        sealed.prev = previous
        sealed.hash = ""
        let unsealed = try sealed.canonicalBytes()
        sealed.hash = SHA256Hex.of(unsealed)
        var line = try filling(hash: sealed.hash, into: unsealed) ?? sealed.canonicalBytes()
        line.append(0x0A)
        return (sealed, line)
    }

    /// The canonical encoding of an event with `hash` set, made from its encoding with `"hash":""`.
    ///
    /// The last `"hash":""` in that encoding is the top-level field: only host, prev, seq, step, time,
    /// type and via follow it, and a quote inside their string values is always escaped.
    static func filling(hash: String, into unsealed: [UInt8]) -> [UInt8]? {
        let marker = Array(#""hash":"""#.utf8)
        guard unsealed.count >= marker.count,
              let start = stride(from: unsealed.count - marker.count, through: 0, by: -1).first(where: {
                  unsealed[$0..<($0 + marker.count)].elementsEqual(marker)
              })
        else { return nil }
        var line = unsealed
        line.insert(contentsOf: hash.utf8, at: start + marker.count - 1)
        return line
    }

    // MARK: - System calls

    static func withFileLock<Result>(_ fd: Int32, _ mode: Int32, path: String, _ body: () throws -> Result) throws -> Result {
        while flock(fd, mode) != 0 {
            guard errno == EINTR else { throw JournalError.system(path: path, operation: "flock", errno: errno) }
        }
        defer { _ = flock(fd, LOCK_UN) }
        return try body()
    }

    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws {
        var written = 0
        while written < bytes.count {
            let result = write(fd, bytes.baseAddress! + written, bytes.count - written)
            if result < 0 {
                guard errno == EINTR else { throw JournalError.system(path: path, operation: "write", errno: errno) }
                continue
            }
            guard result > 0 else { throw JournalError.system(path: path, operation: "write", errno: EIO) }
            written += result
        }
    }

    static func sync(_ fd: Int32, path: String) throws {
        while fsync(fd) != 0 {
            guard errno == EINTR else { throw JournalError.system(path: path, operation: "fsync", errno: errno) }
        }
    }

    /// Makes a new directory entry durable: without this, a crash can lose a file whose data was synced.
    static func syncDirectory(of path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let target = directory.isEmpty ? "." : directory
        let fd = open(target, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw JournalError.system(path: target, operation: "open", errno: errno) }
        defer { closeFile(fd) }
        try sync(fd, path: target)
    }

    /// Saves a torn last line beside the journal, then cuts it off. The caller holds LOCK_EX.
    static func repair(_ fd: Int32, path: String, offset: Int, bytes: [UInt8]) throws -> TornLine {
        var copyPath = "\(path).torn-\(offset)"
        var copy = open(copyPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        var attempt = 1
        while copy < 0 && errno == EEXIST && attempt < 100 {  // an earlier crash tore the same offset
            attempt += 1
            copyPath = "\(path).torn-\(offset)-\(attempt)"
            copy = open(copyPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        }
        guard copy >= 0 else { throw JournalError.system(path: copyPath, operation: "create", errno: errno) }
        defer { closeFile(copy) }
        try bytes.withUnsafeBytes { try writeAll(copy, $0, path: copyPath) }
        try sync(copy, path: copyPath)
        try syncDirectory(of: copyPath)
        guard ftruncate(fd, off_t(offset)) == 0 else { throw JournalError.system(path: path, operation: "truncate", errno: errno) }
        try sync(fd, path: path)
        return TornLine(offset: offset, bytes: bytes.count, savedAs: copyPath)
    }

    /// The 1-based line number of the line starting at `offset`; only for error messages.
    private static func lineNumber(at offset: Int, fd: Int32, path: String) throws -> Int {
        var line = 1, position = 0
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while position < offset {
            let count = try chunk.withUnsafeMutableBytes { try readAt(fd, $0.baseAddress!, min($0.count, offset - position), position, path: path) }
            if count == 0 { break }
            line += chunk[0..<count].reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
            position += count
        }
        return line
    }

    static func readAt(_ fd: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int, _ offset: Int, path: String) throws -> Int {
        while true {
            let result = pread(fd, buffer, count, off_t(offset))
            if result >= 0 { return result }
            guard errno == EINTR else { throw JournalError.system(path: path, operation: "read", errno: errno) }
        }
    }

    static func size(of fd: Int32, path: String) throws -> Int {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw JournalError.system(path: path, operation: "stat", errno: errno) }
        return Int(info.st_size)
    }
}

/// The end of a journal, read backwards in growing chunks so appending never reads the whole file.
struct JournalTail {
    var size: Int
    /// The last complete line (without its newline) and where it starts.
    var lastLine: (bytes: [UInt8], offset: Int)?
    var torn: (offset: Int, bytes: [UInt8])?

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
        if let lastNewline {
            let lineStart = (try newline(before: lastNewline) ?? -1) + 1
            lastLine = (Array(window[(lineStart - start)..<(lastNewline - start)]), lineStart)
        }
    }
}

/// Closes a descriptor; a free function because `JournalFile.close()` hides the C one inside the class.
private func closeFile(_ fd: Int32) {
    _ = close(fd)
}

/// A whole journal in memory with its line boundaries, read under a lock (exclusive when repairing).
struct JournalSnapshot {
    var bytes: [UInt8]
    /// Byte ranges of the complete lines, without their newlines.
    var lines: [Range<Int>]
    var torn: TornLine?

    init(path: String, repair: Bool) throws {
        let fd = open(path, (repair ? O_RDWR : O_RDONLY) | O_CLOEXEC)
        guard fd >= 0 else {
            throw errno == ENOENT ? JournalError.notFound(path: path) : JournalError.system(path: path, operation: "open", errno: errno)
        }
        defer { closeFile(fd) }
        (bytes, lines, torn) = try JournalFile.withFileLock(fd, repair ? LOCK_EX : LOCK_SH, path: path) {
            let size = try JournalFile.size(of: fd, path: path)
            var bytes = [UInt8](repeating: 0, count: size)
            var filled = 0
            while filled < size {
                let count = try bytes.withUnsafeMutableBytes { try JournalFile.readAt(fd, $0.baseAddress! + filled, size - filled, filled, path: path) }
                if count == 0 { break }
                filled += count
            }
            bytes.removeSubrange(filled...)
            let complete = (bytes.lastIndex(of: 0x0A) ?? -1) + 1
            var torn: TornLine?
            if complete < bytes.count {
                torn = TornLine(offset: complete, bytes: bytes.count - complete, savedAs: nil)
                if repair { torn = try JournalFile.repair(fd, path: path, offset: complete, bytes: Array(bytes[complete...])) }
            }
            var lines: [Range<Int>] = []
            lines.reserveCapacity(complete / 256)
            bytes.withUnsafeBufferPointer { buffer in
                var lineStart = 0
                for index in 0..<complete where buffer[index] == 0x0A {
                    lines.append(lineStart..<index)
                    lineStart = index + 1
                }
            }
            return (bytes, lines, torn)
        }
    }
}

/// Decodes one journal line without Foundation's `JSONDecoder`, which is about ten times slower.
///
/// It accepts a strict subset of JSON (integers only, no duplicate keys, valid UTF-8) and returns
/// nil for anything else; the caller then decodes that line with `JSONDecoder`. So every event it
/// returns is exactly the one `JSONDecoder` would return, and every error comes from `JSONDecoder`.
struct FastEventDecoder {
    private let base: UnsafePointer<UInt8>
    private var index: Int
    private let end: Int
    private var depth = 0

    static func decode(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> RunEvent? {
        guard let base = buffer.baseAddress, range.upperBound <= buffer.count else { return nil }
        var decoder = FastEventDecoder(base: base, index: range.lowerBound, end: range.upperBound)
        return decoder.event()
    }

    private init(base: UnsafePointer<UInt8>, index: Int, end: Int) {
        self.base = base
        self.index = index
        self.end = end
    }

    /// The byte at the cursor, or 0 at the end (a raw 0 is never valid JSON outside a string).
    @inline(__always) private var current: UInt8 { index < end ? base[index] : 0 }

    @inline(__always) private mutating func consume(_ byte: UInt8) -> Bool {
        guard current == byte else { return false }
        index += 1
        return true
    }

    @inline(__always) private mutating func skipSpace() {
        while index < end, base[index] == 0x20 || base[index] == 0x09 || base[index] == 0x0D || base[index] == 0x0A {
            index += 1
        }
    }

    private mutating func event() -> RunEvent? {
        skipSpace()
        guard consume(UInt8(ascii: "{")) else { return nil }
        var seq: Int?, type: EventType?, data: [String: JSONValue]?
        var time: String?, actor: String?, host: String?, via: String?, prev: String?, hash: String?
        var step: String?, stepSeen = false
        repeat {
            skipSpace()
            guard let key = string() else { return nil }
            skipSpace()
            guard consume(UInt8(ascii: ":")) else { return nil }
            skipSpace()
            // A repeated field is left to JSONDecoder, which keeps the first.
            switch key {
            case "seq": guard seq == nil, let value = integer() else { return nil }; seq = value
            case "time": guard time == nil, let value = string() else { return nil }; time = value
            case "type":
                guard type == nil, let value = string(), let known = EventType(rawValue: value) else { return nil }
                type = known
            case "actor": guard actor == nil, let value = string() else { return nil }; actor = value
            case "host": guard host == nil, let value = string() else { return nil }; host = value
            case "via": guard via == nil, let value = string() else { return nil }; via = value
            case "prev": guard prev == nil, let value = string() else { return nil }; prev = value
            case "hash": guard hash == nil, let value = string() else { return nil }; hash = value
            case "step":
                guard !stepSeen else { return nil }
                stepSeen = true
                if current == UInt8(ascii: "n") {
                    guard literal("null") else { return nil }
                } else {
                    guard let value = string() else { return nil }
                    step = value
                }
            case "data":
                guard data == nil, current == UInt8(ascii: "{"), case .object(let value)? = value() else { return nil }
                data = value
            default:
                // JSONDecoder ignores unknown keys but still requires valid JSON.
                guard value() != nil else { return nil }
            }
            skipSpace()
        } while consume(UInt8(ascii: ","))
        guard consume(UInt8(ascii: "}")) else { return nil }
        skipSpace()
        guard index == end, let seq, let time, let type, let actor, let host, let via, let data, let prev, let hash
        else { return nil }
        return RunEvent(seq: seq, time: time, type: type, actor: actor, host: host, via: via, step: step,
                        data: data, prev: prev, hash: hash)
    }

    private mutating func value() -> JSONValue? {
        switch current {
        case UInt8(ascii: "\""): return string().map(JSONValue.string)
        case UInt8(ascii: "{"): return object()
        case UInt8(ascii: "["): return array()
        case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
        case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
        case UInt8(ascii: "n"): return literal("null") ? .null : nil
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return integer().map(JSONValue.int)
        default: return nil
        }
    }

    private mutating func object() -> JSONValue? {
        guard depth < 64, consume(UInt8(ascii: "{")) else { return nil }
        depth += 1
        defer { depth -= 1 }
        var members: [String: JSONValue] = [:]
        skipSpace()
        if consume(UInt8(ascii: "}")) { return .object(members) }
        repeat {
            skipSpace()
            guard let key = string() else { return nil }
            skipSpace()
            guard consume(UInt8(ascii: ":")) else { return nil }
            skipSpace()
            guard let member = value(), members.updateValue(member, forKey: key) == nil else { return nil }
            skipSpace()
        } while consume(UInt8(ascii: ","))
        return consume(UInt8(ascii: "}")) ? .object(members) : nil
    }

    private mutating func array() -> JSONValue? {
        guard depth < 64, consume(UInt8(ascii: "[")) else { return nil }
        depth += 1
        defer { depth -= 1 }
        var elements: [JSONValue] = []
        skipSpace()
        if consume(UInt8(ascii: "]")) { return .array(elements) }
        repeat {
            skipSpace()
            guard let element = value() else { return nil }
            elements.append(element)
            skipSpace()
        } while consume(UInt8(ascii: ","))
        return consume(UInt8(ascii: "]")) ? .array(elements) : nil
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard end - index >= count else { return false }
        for offset in 0..<count where base[index + offset] != word.utf8Start[offset] { return false }
        index += count
        return true
    }

    /// An integer without fraction or exponent that fits `Int`; "-0" and leading zeros are left to JSONDecoder.
    private mutating func integer() -> Int? {
        let negative = consume(UInt8(ascii: "-"))
        let start = index
        var value = 0  // accumulated negatively so Int.min fits
        while index < end, base[index] >= UInt8(ascii: "0"), base[index] <= UInt8(ascii: "9") {
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = times10.subtractingReportingOverflow(Int(base[index] &- UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            value = next
            index += 1
        }
        let digits = index - start
        guard digits > 0, base[start] != UInt8(ascii: "0") || (digits == 1 && !negative) else { return nil }
        switch current {
        case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): return nil
        default: break
        }
        if negative { return value }
        return value == Int.min ? nil : -value
    }

    private mutating func string() -> String? {
        guard consume(UInt8(ascii: "\"")) else { return nil }
        let start = index
        var ascii = true
        while index < end {
            let byte = base[index]
            if byte == UInt8(ascii: "\"") {
                let bytes = UnsafeBufferPointer(start: base + start, count: index - start)
                index += 1
                return ascii ? String(decoding: bytes, as: UTF8.self) : Self.validUTF8(bytes)
            }
            if byte == UInt8(ascii: "\\") { return escapedString(from: start) }
            if byte < 0x20 { return nil }
            if byte >= 0x80 { ascii = false }
            index += 1
        }
        return nil
    }

    private mutating func escapedString(from start: Int) -> String? {
        var bytes = Array(UnsafeBufferPointer(start: base + start, count: index - start))
        while index < end {
            let byte = base[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""): return bytes.withUnsafeBufferPointer(Self.validUTF8)
            case 0..<0x20: return nil
            case UInt8(ascii: "\\"):
                let escape = current
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): bytes.append(escape)
                case UInt8(ascii: "b"): bytes.append(0x08)
                case UInt8(ascii: "f"): bytes.append(0x0C)
                case UInt8(ascii: "n"): bytes.append(0x0A)
                case UInt8(ascii: "r"): bytes.append(0x0D)
                case UInt8(ascii: "t"): bytes.append(0x09)
                case UInt8(ascii: "u"):
                    guard var scalar = hex4() else { return nil }
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard consume(UInt8(ascii: "\\")), consume(UInt8(ascii: "u")), let low = hex4(),
                              (0xDC00..<0xE000).contains(low) else { return nil }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { return nil }
                    UTF8.encode(unicode) { bytes.append($0) }
                default: return nil
                }
            default: bytes.append(byte)
            }
        }
        return nil
    }

    private mutating func hex4() -> UInt32? {
        guard end - index >= 4 else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = base[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// The string if the bytes are valid UTF-8; `String(decoding:)` repairs, so a repaired string differs.
    private static func validUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        let text = String(decoding: bytes, as: UTF8.self)
        return text.utf8.elementsEqual(bytes) ? text : nil
    }
}
