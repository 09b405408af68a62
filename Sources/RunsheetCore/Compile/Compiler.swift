import Foundation
import RunsheetMarkdown

/// A compiled runbook with everything found wrong with it.
public struct CompileResult: Sendable {
    public var runbook: Runbook
    public var diagnostics: [Diagnostic]

    public var errors: [Diagnostic] { diagnostics.filter { $0.severity == .error } }
    public var hasErrors: Bool { diagnostics.contains { $0.severity == .error } }
}

/// Compiles Markdown runbooks into step graphs.
public struct Compiler: Sendable {
    /// Reads a file's bytes; includes are resolved through it too.
    public typealias Loader = @Sendable (String) throws -> [UInt8]
    /// Reads files from disk: the loader every caller gets unless it injects its own.
    public static let disk: Loader = { try FileReader.read($0) }

    let loader: Loader

    public init(loader: @escaping Loader = Compiler.disk) {
        self.loader = loader
    }

    /// Reads and compiles the file at `path`. Read failures are thrown; everything else is a diagnostic.
    public func compile(path: String) throws -> CompileResult {
        compile(path: path, bytes: try loader(path))
    }

    /// Reads and checks the file at `path`: the diagnostics of `compile(path:)`, without working
    /// out what no check reads (step bodies). Read failures are thrown.
    public func diagnostics(path: String) throws -> [Diagnostic] {
        compile(path: path, bytes: try loader(path), including: [], bodies: false).diagnostics
    }

    /// Compiles bytes that were read from `path`.
    public func compile(path: String, bytes: [UInt8]) -> CompileResult {
        // The include stack starts empty: the file's canonical path is worked out only if it includes another.
        compile(path: path, bytes: bytes, including: [])
    }

    func compile(path: String, bytes: [UInt8], including stack: [String], bodies: Bool = true) -> CompileResult {
        if let problem = SourceFile.encodingProblem(in: bytes) {
            let source = SourceFile(path: path, bytes: [])
            var runbook = Lowering.empty(path: path)
            runbook.title = (path as NSString).lastPathComponent
            let diagnostic: Diagnostic
            switch problem {
            case .nulByte(let offset):
                let (line, column) = Self.position(of: offset, in: bytes)
                diagnostic = Diagnostic(.error, .binaryFile, "this is a binary file, not Markdown (NUL byte at byte offset \(offset))", path: path, line: line, column: column)
            case .invalidUTF8(let offset):
                let (line, column) = Self.position(of: offset, in: bytes)
                diagnostic = Diagnostic(.error, .invalidUTF8, String(format: "invalid UTF-8 at byte offset %d (byte 0x%02X); save the file as UTF-8", offset, bytes[offset]), path: path, line: line, column: column)
            }
            _ = source
            return CompileResult(runbook: runbook, diagnostics: [diagnostic])
        }
        let source = SourceFile(path: path, bytes: bytes)
        var lowering = Lowering(source: source, compiler: self, includeStack: stack, bodies: bodies)
        return lowering.run()
    }

    /// `NSString.lastPathComponent`, without bridging when a plain `/` clearly ends the directory part.
    static func lastPathComponent(_ path: String) -> String {
        let utf8 = path.utf8
        guard let last = utf8.last, last != 0x2F else { return (path as NSString).lastPathComponent }
        guard let slash = utf8.lastIndex(of: 0x2F) else { return path }
        // ASCII on both sides, so the slash is a character of its own (not joined to a neighbour).
        let after = utf8.index(after: slash)
        guard utf8[after] < 0x80, slash == utf8.startIndex || utf8[utf8.index(before: slash)] < 0x80 else {
            return (path as NSString).lastPathComponent
        }
        return String(path[after...])
    }

    static func canonical(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
    }

    /// Line and character column of a byte offset in raw bytes that may not be valid UTF-8.
    static func position(of offset: Int, in bytes: [UInt8]) -> (Int, Int) {
        var line = 1
        var column = 1
        var i = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        while i < offset {
            if bytes[i] == 0x0A {
                line += 1
                column = 1
            } else if bytes[i] & 0xC0 != 0x80 {
                column += 1
            }
            i += 1
        }
        return (line, column)
    }
}

/// Reads regular files only, so a FIFO or device never blocks a command.
public enum FileReader {
    public enum ReadError: Error, Equatable, LocalizedError {
        case notFound(String)
        /// A symbolic link whose target does not exist: something is there, but nothing to read.
        case brokenLink(String, target: String)
        case notRegularFile(String)
        case unreadable(String, String)

        public var errorDescription: String? {
            switch self {
            case .notFound(let path): "\(path): no such file"
            case .brokenLink(let path, let target): "\(path): no such file: it is a symbolic link to \(target), which does not exist"
            case .notRegularFile(let path): "\(path): not a regular file"
            case .unreadable(let path, let reason): "\(path): cannot read: \(reason)"
            }
        }
    }

    public static func read(_ path: String) throws -> [UInt8] {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let failure = errno
            if failure == ENOENT, let target = brokenLinkTarget(path) { throw ReadError.brokenLink(path, target: target) }
            if failure == ENOENT || failure == ENOTDIR { throw ReadError.notFound(path) }
            throw ReadError.unreadable(path, String(cString: strerror(failure)))
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw ReadError.notRegularFile(path) }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ReadError.unreadable(path, String(cString: strerror(errno))) }
        defer { close(fd) }
        // Read straight into a buffer of the file's size (and one byte more, to see the end); a file
        // that grew since the stat is read on in chunks.
        var atEnd = false
        var result = try [UInt8](unsafeUninitializedCapacity: max(Int(info.st_size), 0) + 1) { buffer, count in
            while count < buffer.count {
                let n = LibC.read(fd, buffer.baseAddress! + count, buffer.count - count)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ReadError.unreadable(path, String(cString: strerror(errno)))
                }
                if n == 0 { atEnd = true; break }
                count += n
            }
        }
        if atEnd { return result }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { LibC.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ReadError.unreadable(path, String(cString: strerror(errno)))
            }
            if n == 0 { break }
            result.append(contentsOf: chunk[0..<n])
        }
        return result
    }

    /// Where a symbolic link at `path` points, when there is one; asked only after `stat` found nothing.
    static func brokenLinkTarget(_ path: String) -> String? {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink(path, &buffer, buffer.count - 1)
        guard count >= 0 else { return "?" }
        return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// What a path that is not a regular file is, for messages: "a directory", or nil when it cannot be told.
    public static func kind(of path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: return "a directory"
        case S_IFIFO: return "a FIFO"
        case S_IFSOCK: return "a socket"
        case S_IFCHR, S_IFBLK: return "a device"
        default: return nil
        }
    }
}
