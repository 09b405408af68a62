// The only file of RunsheetCLI that names the C library: a port to another one changes this file.
// Plain POSIX calls (termios, poll, isatty...) come through Foundation everywhere else.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The C library calls RunsheetCLI makes where a name of its own would hide the C function.
enum LibC {
    static func read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int { readC(fd, buffer, count) }
}

// The C function under a name that LibC's own does not hide.
private func readC(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int { read(fd, buffer, count) }
