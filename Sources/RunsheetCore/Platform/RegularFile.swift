import Foundation

/// Opening the files runsheet keeps as its own (journals, lock files, output files): never through
/// a symbolic link, never blocking on a FIFO or a device, and only when the file is a regular file.
/// Anything else is refused before a byte is read or written.
public enum RegularFile {
    /// Opens `path` with `flags` (O_NOFOLLOW, O_NONBLOCK and O_CLOEXEC are added; `mode` applies
    /// when O_CREAT makes the file) and returns the descriptor once `fstat` shows a regular file.
    /// O_NONBLOCK is what keeps the open of a FIFO from waiting for a writer; on a regular file it
    /// changes nothing.
    public static func descriptor(_ path: String, _ flags: Int32, mode: mode_t = 0o600) throws -> Int32 {
        let fd = open(path, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, mode)
        guard fd >= 0 else {
            let code = errno
            // ELOOP: the name is a link; ENXIO: a FIFO without a reader; EISDIR: a directory.
            if code == ELOOP || code == ENXIO || code == EISDIR || code == ENODEV || code == EWOULDBLOCK,
               let kind = otherKind(at: path) {
                throw JournalError.notRegularFile(path: path, kind: kind)
            }
            throw code == ENOENT ? JournalError.notFound(path: path) : JournalError.system(path: path, operation: "open", errno: code)
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let code = errno
            closeFile(fd)
            throw JournalError.system(path: path, operation: "stat", errno: code)
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            closeFile(fd)
            throw JournalError.notRegularFile(path: path, kind: describe(info.st_mode))
        }
        return fd
    }

    /// What is at `path`, not followed through a link, when it is not a regular file ("a symbolic
    /// link", "a FIFO"…); nil when it is a regular file or nothing is there.
    public static func otherKind(at path: String) -> String? {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT != S_IFREG else { return nil }
        return describe(info.st_mode)
    }

    static func describe(_ mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: "a regular file"
        case S_IFLNK: "a symbolic link"
        case S_IFIFO: "a FIFO"
        case S_IFDIR: "a directory"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFSOCK: "a socket"
        default: "not a regular file"
        }
    }
}
