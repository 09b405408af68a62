import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// `runsheet render` through the binary: standard output, -o, and a path it cannot write.
@Suite struct RenderCommandTests {
    @Test func rendersToStandardOutputAndToAFile() throws {
        let dir = try Fixtures.temporaryDirectory()
        let source = "# Release\n\n- [ ] Tag the release\n  - Estimate: 2m\n- [ ] Publish notes\n"
        try source.write(to: dir.appendingPathComponent("release.md"), atomically: true, encoding: .utf8)
        let runs = dir.appendingPathComponent("runs").path
        let run = try Fixtures.runsheet(["run", "release.md", "--as", "alice", "--runs-dir", runs],
                                        stdin: "note tagged v1.2\ndone\nskip notes go out tomorrow\n", directory: dir)
        #expect(run.status == 0, "\(run.stderr)")
        let id = try #require(Fixtures.onlyRun(in: runs))

        let printed = try Fixtures.runsheet(["render", id, "--runs-dir", runs], directory: dir)
        #expect(printed.status == 0)
        let lines = printed.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[2] == "- [x] Tag the release")
        #expect(lines[3].hasPrefix("  - ✓ done by alice, ") && lines[3].contains("(estimate 2m); note by alice: tagged v1.2"))
        #expect(lines[4] == "  - Estimate: 2m")
        #expect(lines[5] == "- [ ] Publish notes")
        #expect(lines[6].hasPrefix("  - – skipped by alice, ") && lines[6].hasSuffix(": notes go out tomorrow"))

        let file = dir.appendingPathComponent("filled.md").path
        let written = try Fixtures.runsheet(["render", id, "-o", file, "--runs-dir", runs], directory: dir)
        #expect(written.status == 0 && written.stdout.isEmpty)
        #expect(try String(contentsOfFile: file, encoding: .utf8) == printed.stdout)
        // The same journal gives the same bytes.
        #expect(try Fixtures.runsheet(["render", id, "--runs-dir", runs], directory: dir).stdout == printed.stdout)

        let nowhere = dir.appendingPathComponent("missing/filled.md").path
        let failed = try Fixtures.runsheet(["render", id, "-o", nowhere, "--runs-dir", runs], directory: dir)
        #expect(failed.status == 2)
        // In the words of the output: its folder, not a temporary file or a journal.
        #expect(failed.stderr == "runsheet: cannot write \(nowhere): the folder \(dir.appendingPathComponent("missing").path) does not exist\n", "\(failed.stderr)")
        #expect(failed.stderr.split(separator: "\n").count == 1)
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("missing").path))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty)
    }
}
