import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

@Suite struct BadInputTests {
    func bytes(_ b: [UInt8]) -> CompileResult { Compiler().compile(path: "bad.md", bytes: b) }

    @Test func emptyFileCompilesWithANote() {
        let result = bytes([])
        #expect(result.runbook.steps.isEmpty)
        #expect(result.codes == ["no-steps"])
        #expect(!result.hasErrors)
    }

    @Test func binaryDataNamesTheNulOffset() {
        let result = bytes(Array("# ok\n".utf8) + [0x00, 0x01, 0x02])
        #expect(result.codes == ["binary-file"])
        #expect(result.diagnostics[0].message.contains("byte offset 5"))
        #expect(result.diagnostics[0].line == 2 && result.diagnostics[0].column == 1)
    }

    @Test func invalidUTF8NamesTheByteOffset() {
        let result = bytes(Array("- [ ] caf".utf8) + [0xC3, 0x28] + Array(" x\n".utf8))
        #expect(result.codes == ["invalid-utf8"])
        #expect(result.diagnostics[0].message.contains("byte offset 9"))
        #expect(result.diagnostics[0].message.contains("0xC3"))
        #expect(result.diagnostics[0].column == 10)
        for bad: [UInt8] in [[0xFF], [0xED, 0xA0, 0x80], [0xC0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82]] {
            #expect(bytes(bad).codes == ["invalid-utf8"])
        }
    }

    @Test func byteOrderMarkIsIgnored() {
        let result = bytes([0xEF, 0xBB, 0xBF] + Array("---\nid: x\n---\n- [ ] a\n  - Estimat: 1m\n".utf8))
        #expect(result.runbook.id == "x")
        #expect(result.first("unknown-annotation")?.line == 5)
        #expect(result.first("unknown-annotation")?.column == 5)
    }

    @Test func crlfPositionsAreRight() {
        let result = compile("---\r\nparams:\r\n  v: '1'\r\n---\r\n# A\r\n\r\n- [ ] use {{w}} {{v}}\r\n  - Estimate: 5m\r\n")
        #expect(result.runbook.steps.map(\.title) == ["use {{w}} {{v}}"])
        #expect(result.runbook.steps[0].estimateSeconds == 300)
        let d = result.first("undefined-param")
        #expect(d?.line == 7 && d?.column == 11)
    }

    @Test func tabsCountAsOneColumn() {
        let result = compile("-\t[ ] tabbed\n\t- Estimat: 5m\n")
        #expect(result.runbook.steps.map(\.title) == ["tabbed"])
        #expect(result.first("unknown-annotation")?.column == 4)
    }

    @Test func multibyteColumnsAreCharacters() {
        let result = compile("- [ ] ünïcödé {{x}}\n  - Estimat: 5m\n".replacingOccurrences(of: "{{x}}", with: ""))
        #expect(result.first("unknown-annotation")?.column == 5)
    }

    @Test func tenThousandDeepNesting() {
        var text = ""
        for depth in 0..<10_000 { text += String(repeating: "  ", count: min(depth, 2000)) + "- [ ] level \(depth)\n" }
        let lists = compile(text)
        #expect(lists.runbook.steps.count >= 1)
        let quotes = compile(String(repeating: ">", count: 10_000) + " - [ ] deep\n")
        #expect(quotes.runbook.steps.map(\.title) == ["deep"])
        let brackets = compile(String(repeating: "[", count: 10_000) + String(repeating: "*", count: 10_000))
        #expect(!brackets.hasErrors)
    }

    @Test func deeplyNestedTaskStepsKeepTheirParents() {
        // cmark nests a list only when indented past the parent's content: 2 spaces per level.
        var text = ""
        for depth in 0..<300 { text += String(repeating: "  ", count: depth) + "- [ ] level \(depth)\n" }
        let result = compile(text)
        #expect(result.runbook.steps.count == 300)
        #expect(result.runbook.steps.last?.depth == 299)
    }

    @Test func unreadableInputsAreThrownNotCrashed() throws {
        let dir = try Fixtures.temporaryDirectory()
        let fifo = dir.appendingPathComponent("pipe.md").path
        #expect(mkfifo(fifo, 0o644) == 0)
        #expect(throws: FileReader.ReadError.notRegularFile(fifo)) { try Compiler().compile(path: fifo) }
        let missing = dir.appendingPathComponent("missing.md").path
        #expect(throws: FileReader.ReadError.notFound(missing)) { try Compiler().compile(path: missing) }
        #expect(throws: FileReader.ReadError.notRegularFile(dir.path)) { try Compiler().compile(path: dir.path) }
    }
}
