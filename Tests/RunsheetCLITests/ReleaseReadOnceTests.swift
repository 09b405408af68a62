import Foundation
import RunsheetCore
import RunsheetTestSupport
import Synchronization
import Testing

/// `release close` reads the release file once: the SHA-256 a closure records is that of the
/// bytes its decision was taken on. The file is swapped between a GO release and a NO-GO one
/// (another required runbook, never run) as fast as the disk allows while it closes: a closure,
/// when one is written, always names the GO file's hash.
@Suite struct ReleaseReadOnceTests {
    @Test func theClosureNamesTheBytesItDecidedOn() throws {
        let go = Array(ReleaseCloseTests.release.utf8)
        let noGo = Array((ReleaseCloseTests.release + "\n- [Other](other.md)\n").utf8)
        var closures = 0
        for _ in 0..<8 {
            let close = ReleaseCloseTests()
            let dir = try close.repository()
            defer { try? FileManager.default.removeItem(at: dir) }
            try HaltTests.runbook.replacingOccurrences(of: "# Change", with: "# Other").write(to: dir.appendingPathComponent("other.md"), atomically: true, encoding: .utf8)
            #expect(try close.runsheet(["run", "change.md", "--as", "olly"], in: dir, stdin: "done\ndone\ndone\n").status == 0)
            let file = dir.appendingPathComponent("release.md")
            let stop = StopFlag()
            let swapper = Thread {
                var flip = false
                while !stop.raised.load(ordering: .relaxed) {
                    try? Data(flip ? noGo : go).write(to: file, options: .atomic)
                    flip.toggle()
                }
            }
            swapper.start()
            let result = try close.runsheet(["release", "close", "release.md", "--as", "rita"], in: dir)
            stop.raised.store(true, ordering: .relaxed)
            Thread.sleep(forTimeInterval: 0.05)
            guard result.status == 0 else { continue }
            closures += 1
            let record = try String(contentsOfFile: close.closures(dir), encoding: .utf8)
            #expect(record.contains(#""fileSHA256":"\#(SHA256Hex.of(go))""#), "a GO closure recorded another file's hash: \(record)")
        }
        #expect(closures > 0, "no attempt closed the release")
    }
}

private final class StopFlag: Sendable {
    let raised = Atomic(false)
}
