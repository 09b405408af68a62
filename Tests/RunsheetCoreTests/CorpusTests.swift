import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Counts GitHub task-list items independently of the compiler: cmark's own XML output, read with
/// Foundation's XML parser, and the GFM rule that an item's first paragraph starts with `[ ]`, `[x]` or `[X]`.
final class TaskItemCounter: NSObject, XMLParserDelegate, @unchecked Sendable {
    var count = 0
    private var path: [String] = []
    private var firstParagraphText: String?
    private var itemWaitingForParagraph: [Bool] = []
    private var collecting = false

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        if name == "item" { itemWaitingForParagraph.append(true) }
        if name == "paragraph", path.last == "item", itemWaitingForParagraph.last == true {
            collecting = true
            firstParagraphText = ""
        } else if path.last == "item", itemWaitingForParagraph.last == true, name != "paragraph" {
            itemWaitingForParagraph[itemWaitingForParagraph.count - 1] = false
        }
        if collecting && name != "text" && name != "paragraph" { finishParagraph() }
        path.append(name)
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if collecting && path.last == "text" { firstParagraphText? += string }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        path.removeLast()
        if name == "paragraph" && collecting { finishParagraph() }
        if name == "item" { itemWaitingForParagraph.removeLast() }
    }

    private func finishParagraph() {
        guard collecting else { return }
        collecting = false
        if itemWaitingForParagraph.isEmpty == false { itemWaitingForParagraph[itemWaitingForParagraph.count - 1] = false }
        let text = firstParagraphText ?? ""
        let marker = text.prefix(3)
        if marker == "[ ]" || marker == "[x]" || marker == "[X]" {
            let rest = text.dropFirst(3)
            if rest.isEmpty || rest.first == " " || rest.first == "\t" { count += 1 }
        }
    }

    static func count(_ file: URL) throws -> Int {
        let result = try Fixtures.run("/usr/bin/cmark", ["-t", "xml", file.path])
        let parser = XMLParser(data: Data(result.stdout.utf8))
        let counter = TaskItemCounter()
        parser.delegate = counter
        #expect(parser.parse(), "cmark's XML for \(file.lastPathComponent) did not parse")
        return counter.count
    }
}

@Suite struct CorpusTests {
    @Test(arguments: try Fixtures.corpusFiles())
    func compilesWithoutErrorsAndCountsEveryTaskItem(file: URL) throws {
        let result = try Compiler().compile(path: file.path)
        #expect(result.errors.isEmpty, "\(result.errors.map(\.formatted))")
        let expected = try TaskItemCounter.count(file)
        let tasks = result.runbook.steps.filter { $0.kind == .task }.count
        #expect(tasks == expected, "\(file.lastPathComponent): \(tasks) task steps, cmark shows \(expected) task items")
        if expected > 0 {
            #expect(result.runbook.steps.count == expected)
        }
        #expect(Set(result.runbook.steps.map(\.id)).count == result.runbook.steps.count)
        _ = try RunbookJSON.encode(result.runbook)
        _ = GraphRenderer.mermaid(result.runbook)
    }

    @Test func corpusIsThere() throws {
        #expect(try Fixtures.corpusFiles().count >= 45)
    }
}
