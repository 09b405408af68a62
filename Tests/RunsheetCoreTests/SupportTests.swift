import Foundation
import RunsheetCore
import Testing

@Suite struct SupportTests {
    /// Results come back in the order of the input, whichever thread finishes first.
    @Test func parallelMapKeepsTheOrder() {
        let input = Array(0..<2_000)
        let output = input.parallelMap { value -> String in
            if value % 7 == 0 { usleep(50) }  // some finish late
            return "#\(value)"
        }
        #expect(output == input.map { "#\($0)" })
        #expect([Int]().parallelMap { $0 * 2 }.isEmpty)
    }

    @Test func trimmedRemovesOnlyOuterWhitespace() {
        #expect("  a b \t\n".trimmed == "a b")
        #expect("\u{00A0}größe\u{2003}".trimmed == "größe")
        #expect("é\n".trimmed == "é")
        #expect(" \n\t ".trimmed.isEmpty)
        #expect("x".trimmed == "x")
    }
}
