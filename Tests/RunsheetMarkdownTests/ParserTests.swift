import Foundation
@testable import RunsheetMarkdown
import Testing

@Suite struct ParserTests {
    /// Large documents are copied block by block, freeing cmark's tree as they go; every corpus
    /// file copied that way gives the same document as the one-pass copy.
    @Test func blockByBlockCopyIsTheSameDocument() throws {
        let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../Corpus").standardizedFileURL
        let files = try FileManager.default.contentsOfDirectory(atPath: corpus.path).filter { $0.hasSuffix(".md") && $0 != "README.md" }.sorted()
        #expect(files.count > 10)
        for file in files {
            let bytes = try [UInt8](Data(contentsOf: corpus.appendingPathComponent(file)))
            bytes.withUnsafeBufferPointer { buffer in
                let whole = CommonMarkParser.parse(buffer, lineOffset: 3, largeFrom: .max)
                let blocks = CommonMarkParser.parse(buffer, lineOffset: 3, largeFrom: 0)
                #expect(blocks.dump() == whole.dump(), "\(file)")
                #expect(blocks.storage == whole.storage, "\(file)")
            }
        }
    }

    @Test func dumpIncludesKindsAndPositions() {
        let document = CommonMarkParser.parse("# Title\n\n- [ ] one\n  - [x] *two*\n\n```bash run\necho hi\n```\n")
        #expect(document.dump() == """
            document 1:1-8:3
              heading 1:1-1:7 level=1
                text 1:3-1:7 "Title"
              list 3:1-5:0 bullet
                item 3:1-5:0
                  paragraph 3:3-3:9
                    text 3:3-3:9 "[ ] one"
                  list 4:3-5:0 bullet
                    item 4:3-5:0
                      paragraph 4:5-4:13
                        text 4:5-4:8 "[x] "
                        emphasis 4:9-4:13
                          text 4:10-4:12 "two"
              codeBlock 6:1-8:3 info="bash run" "echo hi\\n"

            """)
    }

    @Test func lineOffsetShiftsEveryLine() {
        let document = CommonMarkParser.parse("para\n", lineOffset: 10)
        #expect(document[document.root].range.start.line == 11)
        #expect(document[document[document.root].firstChild].range.start == SourcePosition(line: 11, column: 1))
    }

    @Test func crlfKeepsLinePositions() {
        let document = CommonMarkParser.parse("# A\r\n\r\n- [ ] b\r\n")
        let list = document[document.root].lastChild
        #expect(document[list].kind == .list)
        #expect(document[list].range.start == SourcePosition(line: 3, column: 1))
    }

    @Test func tabsAreCountedAsBytes() {
        let document = CommonMarkParser.parse("-\t[ ] tab\n")
        let item = document[document[document.root].firstChild].firstChild
        let paragraph = document[item].firstChild
        #expect(document[paragraph].range.start.column == 3)
    }

    @Test func linksKeepTheirURL() {
        let document = CommonMarkParser.parse("See [Rollback](#rollback).\n")
        let link = document.descendants(document.root).first { document[$0].kind == .link }
        #expect(link.map { document.info($0) } == "#rollback")
        #expect(document.plainText(document[document.root].firstChild) == "See Rollback.")
    }

    @Test func deepNestingDoesNotRecurse() {
        let depth = 10_000
        let quotes = String(repeating: "> ", count: depth) + "deep\n"
        let document = CommonMarkParser.parse(quotes)
        #expect(document.nodes.count >= depth)
        #expect(document.descendants(document.root).count == document.nodes.count - 1)
        let dump = document.dump()
        #expect(dump.contains("\"deep\""))
        let emphasis = String(repeating: "*a ", count: depth) + String(repeating: "b* ", count: depth)
        let inline = CommonMarkParser.parse(emphasis)
        #expect(inline.plainText(inline[inline.root].firstChild).contains("b"))
    }

    @Test func emptyInput() {
        let document = CommonMarkParser.parse("")
        #expect(document.nodes.count == 1)
        #expect(document[document.root].kind == .document)
    }
}
