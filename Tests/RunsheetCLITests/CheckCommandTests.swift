import Foundation
import RunsheetTestSupport
import Testing

@Suite struct CheckCommandTests {
    func write(_ text: String, _ name: String, in dir: URL) throws {
        let url = dir.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try text.write(to: url, atomically: true, encoding: .utf8)
    }

    @Test func cleanRunbookExitsZero() throws {
        let fixture = Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/runbooks/checkout-deploy.md").path
        let result = try Fixtures.runsheet(["check", fixture])
        #expect(result.status == 0)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr == "checked 1 file: 0 errors, 0 warnings\n")
    }

    @Test func findingsArePrintedAsPathLineColumn() throws {
        let dir = try Fixtures.temporaryDirectory()
        try write("- [ ] a\n  - Estimate: soon\n  - Estimat: 5m\n", "bad.md", in: dir)
        let path = dir.appendingPathComponent("bad.md").path
        let result = try Fixtures.runsheet(["check", path])
        #expect(result.status == 1)
        #expect(result.stdout == """
            \(path):2:5: error: Estimate: 'soon' is not a duration; write e.g. 90s, 5m, 1h30m [bad-duration]
            \(path):3:5: warning: unknown annotation 'Estimat'; did you mean 'Estimate'? [unknown-annotation]

            """)
    }

    @Test func strictFailsOnWarnings() throws {
        let dir = try Fixtures.temporaryDirectory()
        try write("- [ ] a\n  - Estimat: 5m\n", "warn.md", in: dir)
        #expect(try Fixtures.runsheet(["check", dir.path]).status == 0)
        #expect(try Fixtures.runsheet(["check", "--strict", dir.path]).status == 1)
    }

    @Test func directoriesAreSearchedRecursivelyAndOddFilesReported() throws {
        let dir = try Fixtures.temporaryDirectory()
        try write("- [ ] ok\n", "a.md", in: dir)
        try write("- [ ] ok\n", "nested/deeper/b.md", in: dir)
        try write("not markdown", "c.txt", in: dir)
        try write("- [ ] hidden\n", ".hidden/d.md", in: dir)
        #expect(mkfifo(dir.appendingPathComponent("pipe.md").path, 0o644) == 0)
        #expect(symlink(dir.appendingPathComponent("nowhere.md").path, dir.appendingPathComponent("dangling.md").path) == 0)
        let result = try Fixtures.runsheet(["check", dir.path])
        #expect(result.status == 2)
        #expect(result.stderr.contains("pipe.md: not a regular file"))
        #expect(result.stderr.contains("dangling.md: no such file"))
        #expect(result.stderr.contains("checked 4 files: 0 errors, 0 warnings"))
        let json = try Fixtures.runsheet(["check", "--format", "json", dir.path])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let files = (object?["files"] as? [[String: Any]])?.compactMap { $0["path"] as? String } ?? []
        #expect(files.contains { $0.hasSuffix("nested/deeper/b.md") })
        #expect(!files.contains { $0.contains(".hidden") })
    }

    /// Files and folders without read permission. Root reads everything, so as root the binary
    /// runs under `setpriv` without the capabilities that bypass file permissions.
    @Test func filesAndFoldersWithoutPermissionAreNamed() throws {
        let dir = try Fixtures.temporaryDirectory()
        try write("- [ ] ok\n", "a.md", in: dir)
        try write("- [ ] locked\n", "b.md", in: dir)
        try write("- [ ] inside\n", "locked/c.md", in: dir)
        #expect(chmod(dir.appendingPathComponent("b.md").path, 0) == 0)
        #expect(chmod(dir.appendingPathComponent("locked").path, 0) == 0)
        defer { _ = chmod(dir.appendingPathComponent("locked").path, 0o755) }
        let arguments = ["check", "."]
        let result = geteuid() == 0
            ? try Fixtures.run("/usr/bin/setpriv", ["--bounding-set=-dac_override,-dac_read_search", Fixtures.binary.path] + arguments, directory: dir)
            : try Fixtures.runsheet(arguments, directory: dir)
        #expect(result.status == 2, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stderr.contains("runsheet: ./b.md: cannot read: Permission denied"), "\(result.stderr)")
        #expect(result.stderr.contains("runsheet: ./locked: cannot read: Permission denied"), "\(result.stderr)")
        #expect(result.stderr.contains("checked 2 files: 0 errors, 0 warnings"), "\(result.stderr)")
    }

    @Test func suggestionsDoNotDependOnHashSeeds() throws {
        let dir = try Fixtures.temporaryDirectory()
        try write("# aa\n# bb\n# ab-x\n[link](#ab)\n- [ ] s\n", "tie.md", in: dir)
        let outputs = try (0..<4).map { _ in try Fixtures.runsheet(["check", dir.path]).stdout }
        #expect(Set(outputs).count == 1)
        #expect(outputs[0].contains("did you mean '#aa'?"))
    }

    @Test func usageErrorsExitTwo() throws {
        let missing = try Fixtures.runsheet(["check", "/nonexistent/runbook.md"])
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("/nonexistent/runbook.md: no such file or directory"))
        let bad = try Fixtures.runsheet(["check", "--format", "xml", "x.md"])
        #expect(bad.status == 2)
        #expect(!bad.stderr.contains("Fatal"))
        let none = try Fixtures.runsheet(["check"])
        #expect(none.status == 2)
    }

    @Test func jsonAndSarifFormats() throws {
        let dir = try Fixtures.temporaryDirectory()
        try write("---\nparams:\n  v: '1'\n---\n- [ ] {{w}}\n", "p.md", in: dir)
        let path = dir.appendingPathComponent("p.md").path
        let json = try Fixtures.runsheet(["check", "--format", "json", path])
        #expect(json.status == 1)
        let report = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(report?["schema"] as? String == "runsheet.check/1")
        #expect(report?["errors"] as? Int == 1)
        let sarif = try Fixtures.runsheet(["check", "--format", "sarif", path])
        let log = try JSONSerialization.jsonObject(with: Data(sarif.stdout.utf8)) as? [String: Any]
        #expect(log?["version"] as? String == "2.1.0")
        let run = (log?["runs"] as? [[String: Any]])?.first
        let results = run?["results"] as? [[String: Any]] ?? []
        #expect(results.map { $0["ruleId"] as? String } == ["unused-param", "undefined-param"])
        let region = ((results.last?["locations"] as? [[String: Any]])?.first?["physicalLocation"] as? [String: Any])?["region"] as? [String: Any]
        #expect(region?["startLine"] as? Int == 5 && region?["startColumn"] as? Int == 7)
    }

    @Test func binaryAndInvalidFilesAreErrorsNotCrashes() throws {
        let dir = try Fixtures.temporaryDirectory()
        try Data([0x23, 0x20, 0xFF, 0xFE, 0x0A]).write(to: dir.appendingPathComponent("latin1.md"))
        try Data([0x7F, 0x45, 0x4C, 0x46, 0x00, 0x00]).write(to: dir.appendingPathComponent("elf.md"))
        let result = try Fixtures.runsheet(["check", dir.path])
        #expect(result.status == 1)
        #expect(result.stdout.contains("elf.md:1:5: error: this is a binary file, not Markdown (NUL byte at byte offset 4) [binary-file]"))
        #expect(result.stdout.contains("latin1.md:1:3: error: invalid UTF-8 at byte offset 2 (byte 0xFF); save the file as UTF-8 [invalid-utf8]"))
    }

    /// A file far past the 1 MiB from which cmark's tree is copied block by block is checked to the
    /// end. 24 MiB by default (the debug binary takes about a minute per 25 MiB on 2 cores);
    /// `RUNSHEET_HUGE_MIB=100` checks the 100 MiB file earlier versions of this test used.
    @Test func hugeFileCompletes() throws {
        let mebibytes = Int(ProcessInfo.processInfo.environment["RUNSHEET_HUGE_MIB"] ?? "") ?? 24
        let dir = try Fixtures.temporaryDirectory()
        let url = dir.appendingPathComponent("huge.md")
        var chunk = "# Section\n\nSome prose with *emphasis* and `code` and a [link](#section).\n\n"
        for i in 0..<40 { chunk += "- [ ] Step number \(i) with some words\n  - Estimate: 5m\n" }
        chunk += "\n"
        let data = Data(chunk.utf8)
        #expect(FileManager.default.createFile(atPath: url.path, contents: nil))
        let handle = try FileHandle(forWritingTo: url)
        var written = 0
        while written < mebibytes * 1024 * 1024 {
            handle.write(data)
            written += data.count
        }
        try handle.close()
        let result = try Fixtures.runsheet(["check", "--quiet", url.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("checked 1 file: 0 errors"))
        try? FileManager.default.removeItem(at: dir)
    }
}

@Suite struct CompileCommandTests {
    static let fixture = Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/runbooks/checkout-deploy.md").path

    @Test(arguments: ["json", "mermaid", "dot"])
    func outputMatchesExpectedFile(format: String) throws {
        let result = try Fixtures.runsheet(["compile", "Tests/Fixtures/runbooks/checkout-deploy.md", "--format", format], directory: Fixtures.packageRoot)
        #expect(result.status == 0, "\(result.stderr)")
        try Golden.check(result.stdout, against: "checkout-deploy.\(format == "json" ? "json" : format == "dot" ? "dot" : "mmd")")
        let again = try Fixtures.runsheet(["compile", "Tests/Fixtures/runbooks/checkout-deploy.md", "--format", format], directory: Fixtures.packageRoot)
        #expect(again.stdout == result.stdout)
    }

    @Test func compileRefusesARunbookWithErrors() throws {
        let dir = try Fixtures.temporaryDirectory()
        let path = dir.appendingPathComponent("x.md").path
        try "- [ ] a\n  - Next: [Nowhere](#nowhere)\n".write(toFile: path, atomically: true, encoding: .utf8)
        let result = try Fixtures.runsheet(["compile", path])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("\(path):2:5: error: '#nowhere' matches no section heading in this file [dangling-target]"))
    }

    @Test func versionAndHelp() throws {
        let version = try Fixtures.runsheet(["--version"])
        #expect(version.status == 0 && version.stdout == "0.1.0\n")
        let help = try Fixtures.runsheet(["help", "check"])
        #expect(help.status == 0 && help.stdout.contains("runsheet check runbooks/"))
    }
}
