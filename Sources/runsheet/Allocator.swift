// The only file of the executable that names the C library: how this program uses the allocator.
#if canImport(Glibc)
import Glibc
#endif
import RunsheetMarkdown

/// glibc allocator settings for the whole program; a no-op with another C library.
enum Allocator {
    #if canImport(Glibc)
    // mallopt and malloc_trim are in <malloc.h>, which the Glibc module does not export;
    // M_MXFAST is 1 there.
    private typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
    private typealias Trim = @convention(c) (Int) -> Int32
    private static let trim: Trim? = dlsym(nil, "malloc_trim").map { unsafeBitCast($0, to: Trim.self) }
    #endif

    /// Turns off glibc's fast bins, and hands the memory of cmark's freed tree back to the system
    /// while a large runbook is copied out of it.
    ///
    /// Compiling a large runbook frees cmark's tree (hundreds of thousands of small blocks) and
    /// then allocates large buffers; with fast bins, each large allocation first consolidates
    /// them, which took a tenth of `compile`'s time on a 10 MB runbook (docs/BENCHMARKS.md).
    /// Without them, freed blocks are merged as they are freed. `malloc_trim` keeps the tree and
    /// its copy from being whole at once, which is the peak memory of a compile.
    static func tune() {
        #if canImport(Glibc)
        if let symbol = dlsym(nil, "mallopt") { _ = unsafeBitCast(symbol, to: Mallopt.self)(1, 0) }
        if trim != nil { CommonMarkParser.whenMemoryIsFreed { _ = Allocator.trim?(0) } }
        #endif
    }
}
