@testable import RunsheetCLI
import Testing

/// Issue 15, item 5: a command breaks only at spaces outside quotes (and not at an escaped space);
/// only a word wider than the line is cut, and the pieces put back together are the command.
@Suite struct CommandLayoutTests {
    /// The pieces joined as the margin marks say: a space before a ↪ line, nothing before a ⋯ line.
    static func rejoin(_ pieces: [(continuation: CommandLayout.Continuation, text: String)]) -> String {
        pieces.enumerated().map { index, piece in (index > 0 && piece.continuation == .afterSpace ? " " : "") + piece.text }.joined()
    }

    @Test(arguments: [12, 16, 20, 30, 80])
    func quotedAndEscapedSpacesNeverBreak(columns: Int) {
        let command = #"grep -v "a  b  c" 'd e f' g\ h --x=1 && echo "it's \"quoted\" here" done"#
        let pieces = CommandLayout.wrap(command, columns: columns)
        #expect(Self.rejoin(pieces) == command)
        for piece in pieces { #expect(TerminalColumns.width(piece.text) <= columns, "\(piece.text)") }
        for whole in [#""a  b  c""#, "'d e f'", #"g\ h"#] where whole.count <= columns {
            #expect(pieces.contains { $0.text.contains(whole) }, "\(whole) broken at \(columns): \(pieces.map(\.text))")
        }
        if #"echo "it's \"quoted\" here""#.count > columns {
            #expect(pieces.contains { $0.continuation == .insideWord }, "the quoted word wider than \(columns) is cut, marked")
        }
        #expect(pieces.first?.continuation == .start)
        if command.count <= columns { #expect(pieces.count == 1) }
    }

    @Test func aWordWiderThanTheLineIsTheOnlyThingCut() {
        let pieces = CommandLayout.wrap("curl https://example.com/a/very/long/path ok", columns: 10)
        #expect(pieces.map(\.text) == ["curl", "https://ex", "ample.com/", "a/very/lon", "g/path ok"])
        #expect(pieces.map(\.continuation) == [.start, .afterSpace, .insideWord, .insideWord, .insideWord])
        #expect(Self.rejoin(pieces) == "curl https://example.com/a/very/long/path ok")
    }
}
