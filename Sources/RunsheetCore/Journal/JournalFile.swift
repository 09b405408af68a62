import Foundation
import Synchronization

/// A problem with a journal file, as a sentence naming the file (and the line when there is one).
public enum JournalError: Error, Equatable, LocalizedError {
    case alreadyExists(path: String)
    case notFound(path: String)
    case empty(path: String)
    case notAnEvent(path: String, line: Int, reason: String)
    case notRunStarted(path: String, type: String)
    case missingSchema(path: String)
    case unsupportedSchema(path: String, schema: String)
    /// The journal at the path is not the file this session opened: it was moved or replaced.
    case replaced(path: String)
    /// A system call failed; `errno` is the C error number.
    case system(path: String, operation: String, errno: Int32)
    /// The path is a symbolic link, a FIFO, a device or a directory (`kind` says which).
    case notRegularFile(path: String, kind: String)

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
            "\(path):1: the journal format is \(schema), but this runsheet reads only \(JournalFormat.readableDescription); upgrade runsheet to read it."
        case .system(let path, let operation, let code):
            "\(path): \(operation) failed: \(String(cString: strerror(code)))."
        case .replaced(let path):
            "\(path) was moved or replaced while this session had it open, so nothing was written; another journal must not go on beside it ('runsheet verify' the one there)."
        case .notRegularFile(let path, let kind):
            "\(path) is \(kind), not a regular file; runsheet reads and writes its journals, lock and output files only as regular files, never through a link, so it left it untouched."
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
    /// Where the journal first stops verifying, when it was read with `verifiedRead`; nil if it verifies.
    public var problem: JournalProblem?
}

/// A run's state folded from its journal while the hash chain was checked, in the same pass.
public struct JournalFold: Sendable {
    public var state: RunState
    public var tornLine: TornLine?
    /// Where the journal first stops verifying; nil when every line checks out. The state still
    /// holds every event, so a command that only shows it can show it with a warning.
    public var problem: JournalProblem?
}

/// One run's append-only journal: a JSON Lines file of hash-chained `RunEvent`s (docs/JOURNAL.md).
///
/// Each instance keeps one descriptor open for appending. Any number of instances, in any number of
/// processes, may append to the same file: every append holds `flock(LOCK_EX)` while it reads the
/// last event, writes one line in one `write(2)` and calls `fsync`.
public final class JournalFile: @unchecked Sendable {  // mutable state is guarded by `lock`
    public let path: String
    // flock locks belong to the open file, so threads sharing this descriptor also need this lock.
    private let lock = Mutex(())
    private var descriptor: Int32 = -1
    private var repairs: [TornLine] = []
    /// The file's size and modification time after this instance's last append, with that event's
    /// seq and hash. While `fstat` still shows them nobody else has written to the file (journals
    /// only grow, only torn lines written after that point are ever cut off, and a rewrite in place
    /// changes the time), so the next append need not read the last line.
    private var lastAppended: (stamp: FileStamp, seq: Int, hash: String)?
    /// The run as of this instance's last `append(_:)`, which checks events against it; the
    /// callers of `append(_:onto:check:)` keep their own.
    private var head: RunState?

    /// Opens the existing journal at `path` for appending.
    public init(path: String) throws {
        self.path = path
        descriptor = try Self.openForAppend(path)
    }

    deinit {
        if descriptor >= 0 { closeFile(descriptor) }
    }

    /// The torn last lines this instance cut off (and saved) before appending, oldest first.
    public var repairedTornLines: [TornLine] { lock.withLock { _ in repairs } }

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
        let fd = open(staging, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
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
    /// The event is first checked against the run as the journal stands (`RunState.refusal(of:)`);
    /// one that no longer applies throws `AppendRefusal` and is not written.
    @discardableResult
    public func append(_ event: RunEvent) throws -> RunEvent {
        try lock.withLock { _ in
            var head = self.head ?? RunState()
            self.head = nil  // one reference, so applying the event changes it in place
            defer { self.head = head }
            return try appendLocked(event, onto: &head) { _ in }
        }
    }

    /// Appends `event` as `append(_:)` does, checked against the run as the journal stands under its
    /// lock: `state` is the caller's fold of the journal, brought up to the journal's head first (only
    /// the events written since are read when this instance wrote the last event `state` holds; the
    /// whole journal otherwise), then `RunState.refusal(of:)` and `check` may refuse the event by
    /// throwing. On return `state` holds every event up to and including the one written; after a
    /// refusal, every event up to the head.
    @discardableResult
    public func append(_ event: RunEvent, onto state: inout RunState, check: (RunState) throws -> Void = { _ in }) throws -> RunEvent {
        try lock.withLock { _ in
            head = nil  // the caller's state is the one kept up to date now
            return try appendLocked(event, onto: &state, check: check)
        }
    }

    /// The caller holds `lock`.
    private func appendLocked(_ event: RunEvent, onto state: inout RunState, check: (RunState) throws -> Void) throws -> RunEvent {
        if descriptor < 0 { descriptor = try Self.openForAppend(path) }
        let fd = descriptor
        return try Self.withFileLock(fd, LOCK_EX, path: path) {
            try requireStillAtPath(fd)
            let known = lastAppended
            let last = try lastEvent(fd)
            try catchUp(&state, fd: fd, to: last, known: known)
            if let refusal = state.refusal(of: event) { throw refusal }
            try check(state)
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
            state.apply(sealed)
            // The event is on disk: a failing fstat only costs the next append a read of the end.
            if let stamp = try? FileStamp(fd, path: path), stamp.size == last.end + line.count {
                lastAppended = (stamp, sealed.seq, sealed.hash)
            }
            return sealed
        }
    }

    /// Refuses to append when the file this instance has open is no longer the one at `path` (the
    /// journal, or its run folder, was moved or replaced while a session held it): the event would
    /// land in a journal nobody reads, beside another that goes on.
    private func requireStillAtPath(_ fd: Int32) throws {
        var open = stat(), named = stat()
        guard fstat(fd, &open) == 0 else { throw JournalError.system(path: path, operation: "stat", errno: errno) }
        guard lstat(path, &named) == 0, open.st_dev == named.st_dev, open.st_ino == named.st_ino else {
            throw JournalError.replaced(path: path)
        }
    }

    /// Where the journal ends and the seq and hash of its last event, repairing a torn last line
    /// first. The caller holds `lock` and LOCK_EX.
    private func lastEvent(_ fd: Int32) throws -> (end: Int, seq: Int, hash: String) {
        // seq Int.max takes the long way, which reports it.
        if let known = lastAppended, known.seq < Int.max, try FileStamp(fd, path: path) == known.stamp {
            return (known.stamp.size, known.seq, known.hash)
        }
        let tail = try JournalTail(fd: fd, path: path)
        var end = tail.size
        if let torn = tail.torn {
            repairs.append(try Self.repair(fd, path: path, offset: torn.offset, bytes: torn.bytes))
            end = torn.offset
        }
        if tail.missingNewline {  // the last event is whole but its newline was lost: end its line first
            try [UInt8(0x0A)].withUnsafeBytes { try Self.writeAll(fd, $0, path: path) }
            try Self.sync(fd, path: path)
            end += 1
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
        try RegularFile.descriptor(path, O_RDWR | O_APPEND)
    }

    /// Closes the descriptor; a later `append` opens it again.
    public func close() {
        lock.withLock { _ in
            if descriptor >= 0 { closeFile(descriptor) }
            descriptor = -1
            lastAppended = nil
            head = nil
        }
    }

    /// Reads every event under a shared lock. A torn last line is reported; with `repair` it is
    /// saved to `<path>.torn-<offset>` and cut off (under an exclusive lock) before returning.
    public static func read(at path: String, repair: Bool = false) throws -> JournalContents {
        var events: [RunEvent] = []
        let (torn, _) = try forEachEvent(at: path, repair: repair, verify: false, expecting: { events.reserveCapacity($0) }) { event, _ in events.append(event) }
        return JournalContents(events: events, tornLine: torn)
    }

    /// Reads every event as `read` does and checks the hash chain in the same pass: the first
    /// line that does not verify is in `problem`, and the events are all there still.
    public static func verifiedRead(at path: String, repair: Bool = false) throws -> JournalContents {
        var events: [RunEvent] = []
        let (torn, problem) = try forEachEvent(at: path, repair: repair, verify: true, expecting: { events.reserveCapacity($0) }) { event, _ in events.append(event) }
        return JournalContents(events: events, tornLine: torn, problem: problem)
    }

    /// Folds every event into the run's state without keeping the events, which is all status,
    /// resume and the run catalog need: on a long journal it is faster and uses far less memory.
    public static func state(at path: String, repair: Bool = false) throws -> (state: RunState, tornLine: TornLine?) {
        var state = RunState()
        let (torn, _) = try forEachEvent(at: path, repair: repair, verify: false, readsPayloads: true) { state.apply($0, payload: $1) }
        return (state, torn)
    }

    /// Folds the journal as `state` does and checks the hash chain in the same pass: what every
    /// command that decides or shows something from a run reads.
    public static func verifiedState(at path: String, repair: Bool = false) throws -> JournalFold {
        var state = RunState()
        let (torn, problem) = try forEachEvent(at: path, repair: repair, verify: true, readsPayloads: true) { state.apply($0, payload: $1) }
        return JournalFold(state: state, tornLine: torn, problem: problem)
    }

    /// Reads the journal as `read` does and hands each event to `body` in order; returns the torn
    /// last line, if any. `expecting` learns the number of events first. With `verify`, each line
    /// is checked as it is read (`ChainCheck`); at the first that does not check out, the whole
    /// file is examined once to say why (`JournalVerifier`), and the rest is read unchecked.
    /// With `readsPayloads`, for a fold that keeps no event, `body` is handed the payload where the
    /// decoder read it from the line (and the event's `data` is then empty: `decodeLineFolded`).
    static func forEachEvent(at path: String, repair: Bool, verify: Bool, readsPayloads: Bool = false, expecting: (Int) -> Void = { _ in },
                             _ body: (RunEvent, EventPayload?) throws -> Void) throws -> (torn: TornLine?, problem: JournalProblem?) {
        try forEachEvent(in: JournalSnapshot(path: path, repair: repair), path: path, verify: verify, readsPayloads: readsPayloads, expecting: expecting, body)
    }

    /// `forEachEvent(at:…)` over a journal already read; `path` names it in what is thrown and found.
    static func forEachEvent(in snapshot: JournalSnapshot, path: String, verify: Bool, readsPayloads: Bool = false, expecting: (Int) -> Void = { _ in },
                             _ body: (RunEvent, EventPayload?) throws -> Void) throws -> (torn: TornLine?, problem: JournalProblem?) {
        if verify && snapshot.lines.isEmpty { throw JournalError.empty(path: path) }
        expecting(snapshot.lines.count)
        var lines = JournalLineCheck(path: path, verify: verify, readsPayloads: readsPayloads)
        var problem: JournalProblem?
        try snapshot.bytes.withUnsafeBufferPointer { buffer in
            for range in snapshot.lines {
                let (event, payload, finding) = try lines.next(buffer, range)
                switch finding {
                case .chain?:
                    problem = try JournalVerifier.firstProblem(in: snapshot, path: path)
                        ?? JournalProblem(kind: .altered, line: lines.count, seq: event.seq, message: "it does not follow the line before it in the hash chain")
                case .signed(let found)?: problem = found
                case nil: break
                }
                try body(event, payload)
            }
        }
        return (snapshot.torn, problem)
    }

    // MARK: - Format

    /// Whether this runsheet reads journals of `schema` (see `JournalFormat`): `runsheet.journal/1`,
    /// or `runsheet.journal/1.<minor>` up to the minor version it knows.
    public static func supports(schema: String) -> Bool {
        JournalFormat(schema: schema)?.isReadable ?? false
    }

    static func checkStart(_ first: RunEvent, path: String) throws {
        guard case .runStarted(let started)? = try? first.payload() else {
            throw JournalError.notRunStarted(path: path, type: first.type.rawValue)
        }
        guard !started.schema.isEmpty else { throw JournalError.missingSchema(path: path) }
        guard supports(schema: started.schema) else { throw JournalError.unsupportedSchema(path: path, schema: started.schema) }
    }

    /// Decodes the line at `range` as `decodeLine` does, and says where its hash value is when
    /// the line is in canonical form (see `FastEventDecoder.decodeChecked`).
    static func decodeLineChecked(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, path: String,
                                  after previous: (time: String, hash: String)? = nil,
                                  line: () throws -> Int) throws -> (event: RunEvent, hashValue: Range<Int>?) {
        if let decoded = FastEventDecoder.decodeChecked(buffer, range, after: previous) { return decoded }
        return (try decodeLine(buffer, range, path: path, line: line), nil)
    }

    /// `decodeLineChecked` for a fold that keeps no event: the payload too, where the decoder read
    /// it from the line (`FastEventDecoder.decodeFolded`), and then the event's `data` is empty.
    static func decodeLineFolded(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, path: String,
                                 after previous: (time: String, hash: String)?,
                                 line: () throws -> Int) throws -> (event: RunEvent, hashValue: Range<Int>?, payload: EventPayload?) {
        if let decoded = FastEventDecoder.decodeFolded(buffer, range, after: previous) { return decoded }
        return (try decodeLine(buffer, range, path: path, line: line), nil, nil)
    }

    /// Whether `bytes` are one whole event (not necessarily one that verifies).
    static func isEvent(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        FastEventDecoder.decode(bytes, 0..<bytes.count) != nil || (try? slowDecode(Data(bytes)).get()) != nil
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
        while LibC.flock(fd, mode) != 0 {
            guard errno == EINTR else { throw JournalError.system(path: path, operation: "flock", errno: errno) }
        }
        defer { _ = LibC.flock(fd, LOCK_UN) }
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
        var copy = open(copyPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        var attempt = 1
        while copy < 0 && errno == EEXIST && attempt < 100 {  // an earlier crash tore the same offset
            attempt += 1
            copyPath = "\(path).torn-\(offset)-\(attempt)"
            copy = open(copyPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
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
    static func lineNumber(at offset: Int, fd: Int32, path: String) throws -> Int {
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
        try FileStamp(fd, path: path).size
    }
}

/// A file's size and modification time, from `fstat`.
struct FileStamp: Equatable {
    var size: Int
    var seconds: Int
    var nanoseconds: Int

    init(_ fd: Int32, path: String) throws {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw JournalError.system(path: path, operation: "stat", errno: errno) }
        size = Int(info.st_size)
        (seconds, nanoseconds) = LibC.modificationTime(info)
    }
}
