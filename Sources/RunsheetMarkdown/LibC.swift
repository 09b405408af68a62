// The only file of RunsheetMarkdown that names the C library: a port to another one changes this file.
#if canImport(Glibc)
internal import Glibc
#elseif canImport(Musl)
internal import Musl
#elseif canImport(Darwin)
internal import Darwin
#endif

/// The C library functions RunsheetMarkdown calls.
enum LibC {
    /// The length in bytes of a NUL-terminated string.
    static func length(of cString: UnsafePointer<CChar>) -> Int { strlen(cString) }
}
