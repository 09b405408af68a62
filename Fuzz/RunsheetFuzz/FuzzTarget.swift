import Foundation
import RunsheetCore

/// libFuzzer entry point: no input, however malformed, may crash the compiler or a renderer.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    compileAndRender(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

func compileAndRender(_ bytes: [UInt8]) {
    // No file exists for the fuzzer: included, roles, policy and calendar files are all missing.
    let result = Compiler(loader: { throw FileReader.ReadError.notFound($0) }).compile(path: "fuzz.md", bytes: bytes)
    _ = try? RunbookJSON.encode(result.runbook)
    _ = GraphRenderer.mermaid(result.runbook)
    _ = GraphRenderer.dot(result.runbook)
}

#if FUZZING
/// libFuzzer's own driver; SwiftPM links this target's `@main` as the program's `main`,
/// so libFuzzer's `main` never runs and `FuzzMain` hands control over explicitly.
@_extern(c, "LLVMFuzzerRunDriver")
func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ body: @convention(c) (UnsafePointer<UInt8>, Int) -> CInt
) -> CInt
#endif

@main
enum FuzzMain {
    static func main() {
        #if FUZZING
        var argc = CommandLine.argc
        var argv = Optional(CommandLine.unsafeArgv)
        exit(runFuzzerDriver(&argc, &argv, fuzz))
        #else
        // A plain build has no libFuzzer, so it replays the files it is given: handy to reproduce a crash.
        for path in CommandLine.arguments.dropFirst() {
            guard let contents = FileManager.default.contents(atPath: path) else {
                FileHandle.standardError.write(Data("runsheet-fuzz: cannot read \(path)\n".utf8))
                exit(1)
            }
            compileAndRender([UInt8](contents))
            print("\(path): no crash")
        }
        #endif
    }
}
