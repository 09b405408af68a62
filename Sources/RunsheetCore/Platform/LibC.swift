// The only file of RunsheetCore that names the C library or calls what only some C libraries
// have: a port to another one changes this file. Plain POSIX calls (open, stat, fsync,
// posix_spawn...) come through Foundation everywhere else.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The C library calls RunsheetCore makes where a name of its own would hide the C function, or
/// where C libraries differ.
enum LibC {
    static func read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int { readC(fd, buffer, count) }

    static func write(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int { writeC(fd, buffer, count) }

    @discardableResult
    static func close(_ fd: Int32) -> Int32 { closeC(fd) }

    /// `flock(2)`, a BSD call outside POSIX: a lock on the open file, shared by its descriptors.
    static func flock(_ fd: Int32, _ operation: Int32) -> Int32 { flockC(fd, operation) }

    /// A file's modification time from `stat`, whose field is named differently on Darwin.
    static func modificationTime(_ info: stat) -> (seconds: Int, nanoseconds: Int) {
        #if canImport(Darwin)
        (Int(info.st_mtimespec.tv_sec), Int(info.st_mtimespec.tv_nsec))
        #else
        (Int(info.st_mtim.tv_sec), Int(info.st_mtim.tv_nsec))
        #endif
    }

    /// Asks for 2 MiB pages where a buffer of several MiB has whole ones (`madvise(MADV_HUGEPAGE)`,
    /// Linux, heeded when transparent huge pages are `always` or `madvise`): reading a long journal
    /// then takes one page fault per 2 MiB instead of one per 4 KiB. Only a hint; nothing else changes.
    static func preferLargePages(_ buffer: UnsafeMutableRawPointer, _ count: Int) {
        #if os(Linux)
        let large = 2 << 20
        let start = (Int(bitPattern: buffer) + large - 1) & ~(large - 1)
        let end = (Int(bitPattern: buffer) + count) & ~(large - 1)
        guard end > start, let aligned = UnsafeMutableRawPointer(bitPattern: start) else { return }
        _ = madvise(aligned, end - start, MADV_HUGEPAGE)
        #endif
    }

    private typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
    private typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    /// `pipe2(ends, O_CLOEXEC)`, falling back to `pipe` + `FD_CLOEXEC` where `pipe2` is missing.
    /// (glibc declares `pipe2` only under `_GNU_SOURCE`, which Swift's Glibc module does not define.)
    static func pipeCloseOnExec(_ ends: UnsafeMutablePointer<Int32>) -> Int32 {
        if let symbol = dlsym(nil, "pipe2") {
            return unsafeBitCast(symbol, to: Pipe2.self)(ends, O_CLOEXEC)
        }
        guard pipe(ends) == 0 else { return -1 }
        _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
        return 0
    }

    private typealias OpenPT = @convention(c) (Int32) -> Int32
    private typealias PTControl = @convention(c) (Int32) -> Int32
    private typealias PTSName = @convention(c) (Int32, UnsafeMutablePointer<CChar>, Int) -> Int32

    /// A new pseudo-terminal: the master's descriptor (close-on-exec) and the slave's path, from
    /// `posix_openpt`, `grantpt`, `unlockpt` and `ptsname_r` (declared only under `_XOPEN_SOURCE`
    /// or `_GNU_SOURCE`, which Swift's Glibc module does not define); nil with errno set when
    /// the system has none to give.
    static func openPseudoTerminal() -> (master: Int32, slavePath: String)? {
        guard let open = dlsym(nil, "posix_openpt"), let grant = dlsym(nil, "grantpt"),
              let unlock = dlsym(nil, "unlockpt"), let name = dlsym(nil, "ptsname_r") else {
            errno = ENOSYS
            return nil
        }
        let master = unsafeBitCast(open, to: OpenPT.self)(O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard master >= 0 else { return nil }
        var path = [CChar](repeating: 0, count: 256)
        guard unsafeBitCast(grant, to: PTControl.self)(master) == 0, unsafeBitCast(unlock, to: PTControl.self)(master) == 0,
              unsafeBitCast(name, to: PTSName.self)(master, &path, path.count) == 0 else {
            let saved = errno
            _ = closeC(master)
            errno = saved
            return nil
        }
        return (master, String(cString: path))
    }

    /// `POSIX_SPAWN_SETSID` (glibc 2.26+, musl): the child starts a new session, and so may take a
    /// controlling terminal. Declared only under `_GNU_SOURCE`.
    static let spawnSetSID: Int32 = 0x80

    /// `posix_spawn_file_actions_addchdir_np` (glibc 2.29+, also under `_GNU_SOURCE`); -1 when
    /// the C library has none.
    static func addChdir(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ path: String) -> Int32 {
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addchdir_np") else { return -1 }
        return unsafeBitCast(symbol, to: AddChdir.self)(actions, path)
    }
}

// The C functions under names that LibC's own do not hide.
private func readC(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int { read(fd, buffer, count) }
private func writeC(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int { write(fd, buffer, count) }
private func closeC(_ fd: Int32) -> Int32 { close(fd) }
private func flockC(_ fd: Int32, _ operation: Int32) -> Int32 { flock(fd, operation) }
