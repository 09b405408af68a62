import Foundation

/// The lease of the one session that drives a run (`run`, `resume`): an exclusive `flock` on the
/// run folder itself, and on the file `lease` in it, held for as long as the session's process
/// lives. The folder's lock is the one that counts: a lease file deleted or replaced under a
/// running session gives the next session a lock of its own, the folder cannot be. The kernel
/// drops it when the process ends, however it ends, so a crash never leaves a stale lease. The
/// file names the holder, so a second session can say who drives the run (docs/JOURNAL.md).
public final class RunLease: @unchecked Sendable {  // immutable after init
    /// The lease file's name inside a run folder.
    public static let fileName = "lease"

    /// Who holds a lease: written into the lease file by its holder.
    public struct Holder: Sendable, Equatable, Codable {
        /// The person as given (`--as`...), and in the canonical form comparisons use.
        public var person: String
        public var canonical: String
        public var host: String
        public var pid: Int
        /// When the session took the lease (journal time format).
        public var since: String

        public init(person: String, canonical: String, host: String, pid: Int, since: String) {
            self.person = person
            self.canonical = canonical
            self.host = host
            self.pid = pid
            self.since = since
        }

        /// "alice (alice@example.com) on ops-1, pid 4242, since 2026-11-22T04:55:01.123Z".
        public var description: String {
            (person == canonical || canonical.isEmpty ? person : "\(person) (\(canonical))") + " on \(host), pid \(pid), since \(since)"
        }
    }

    public enum Failure: Error, Equatable, LocalizedError {
        /// Another session holds the lease; `holder` is nil when its file names nobody yet.
        case held(path: String, holder: Holder?)
        /// The lease path is not a regular file (a link, a FIFO, a directory...).
        case notARegularFile(path: String, what: String)
        case system(path: String, operation: String, errno: Int32)

        public var errorDescription: String? {
            switch self {
            case .held(let path, let holder):
                "\(path) is held by another session" + (holder.map { ": \($0.description)" } ?? "")
            case .notARegularFile(let path, let what):
                "\(path) is \(what), not a regular file; runsheet takes a run's lease only on the file it made, so nothing was written (remove it if no session drives the run)"
            case .system(let path, let operation, let code):
                "\(path): \(operation) failed: \(String(cString: strerror(code)))"
            }
        }
    }

    public let path: String
    private let descriptor: Int32
    /// The run folder, open and locked.
    private let folderDescriptor: Int32

    /// Takes the lease of the run in `folder` for `holder`, or throws `Failure.held` naming the
    /// session that has it, before anything else is written. The lease lasts until this object is
    /// released or the process ends.
    public init(folder: String, holder: Holder) throws {
        path = (folder as NSString).appendingPathComponent(Self.fileName)
        let directory = open(folder, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard directory >= 0 else { throw Failure.system(path: folder, operation: "open", errno: errno) }
        do {
            try Self.lock(directory, path: folder) { Self.probeHolder(at: (folder as NSString).appendingPathComponent(Self.fileName)) }
        } catch {
            closeFile(directory)
            throw error
        }
        folderDescriptor = directory
        var fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0o600)
        var writable = true
        if fd < 0 && errno == EACCES {  // another account's lease file: the lock works on a read-only descriptor too
            fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
            writable = false
        }
        guard fd >= 0 else {
            closeFile(directory)
            throw Self.openFailure(path, errno)
        }
        do {
            try Self.requireRegular(fd, path: path)
            try Self.lock(fd, path: path) { Self.readHolder(fd) }
            if writable {
                var line = try JSONEncoder.sorted.encode(holder)
                line.append(0x0A)
                _ = ftruncate(fd, 0)
                _ = line.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
            }
        } catch {
            closeFile(fd)
            closeFile(directory)
            throw error
        }
        descriptor = fd
    }

    deinit {
        closeFile(descriptor)
        closeFile(folderDescriptor)
    }

    /// Takes an exclusive lock on `fd`, retrying a moment: `status` probes with a shared lock it
    /// lets go at once. Held by another session: `Failure.held` with `holder()`.
    private static func lock(_ fd: Int32, path: String, holder: () -> Holder?) throws {
        var attempts = 0
        while LibC.flock(fd, LOCK_EX | LOCK_NB) != 0 {
            guard errno == EWOULDBLOCK || errno == EINTR else { throw Failure.system(path: path, operation: "flock", errno: errno) }
            attempts += 1
            if attempts > 15 { throw Failure.held(path: path, holder: holder()) }
            usleep(20_000)
        }
    }

    /// The holder a lease file names, read without locking it; nil when there is none.
    private static func probeHolder(at path: String) -> Holder? {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { closeFile(fd) }
        guard (try? requireRegular(fd, path: path)) != nil else { return nil }
        return readHolder(fd)
    }

    /// Whether a session holds the lease of the run in `folder`, and who (nil when its file names
    /// nobody yet). No lease file, or one that is not a regular file, is no lease. Never blocks.
    public static func probe(folder: String) -> (held: Bool, holder: Holder?) {
        let path = (folder as NSString).appendingPathComponent(fileName)
        let directory = open(folder, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if directory >= 0 {
            defer { closeFile(directory) }
            if LibC.flock(directory, LOCK_SH | LOCK_NB) != 0 { return (true, probeHolder(at: path)) }
            _ = LibC.flock(directory, LOCK_UN)
        }
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return (false, nil) }
        defer { closeFile(fd) }
        guard (try? requireRegular(fd, path: path)) != nil else { return (false, nil) }
        if LibC.flock(fd, LOCK_SH | LOCK_NB) == 0 {
            _ = LibC.flock(fd, LOCK_UN)
            return (false, nil)
        }
        return (true, readHolder(fd))
    }

    private static func openFailure(_ path: String, _ code: Int32) -> Failure {
        code == ELOOP ? .notARegularFile(path: path, what: "a symbolic link") : .system(path: path, operation: "open", errno: code)
    }

    private static func requireRegular(_ fd: Int32, path: String) throws {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Failure.system(path: path, operation: "stat", errno: errno) }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return
        case S_IFDIR: throw Failure.notARegularFile(path: path, what: "a directory")
        case S_IFIFO: throw Failure.notARegularFile(path: path, what: "a FIFO")
        default: throw Failure.notARegularFile(path: path, what: "a special file")
        }
    }

    /// The holder the lease file names; nil when it is damaged, or still empty a moment after the
    /// holder took the lock.
    private static func readHolder(_ fd: Int32) -> Holder? {
        if let holder = readHolderOnce(fd) { return holder }
        usleep(50_000)
        return readHolderOnce(fd)
    }

    private static func readHolderOnce(_ fd: Int32) -> Holder? {
        var bytes = [UInt8](repeating: 0, count: 4096)
        let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return try? JSONDecoder().decode(Holder.self, from: Data(bytes[0..<count]))
    }
}

extension JSONEncoder {
    /// Keys sorted, slashes as they are: the lease file reads the same every time.
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
