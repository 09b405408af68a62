import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

@Suite struct DiagnosticCodeTests {
    /// The rows of docs/FORMAT.md's "Reference: diagnostic codes" table: (code, severity column).
    static func documentedCodes() throws -> [(code: String, severity: String)] {
        let format = try String(contentsOf: Fixtures.packageRoot.appendingPathComponent("docs/FORMAT.md"), encoding: .utf8)
        let section = try #require(format.components(separatedBy: "## Reference: diagnostic codes").dropFirst().first)
        let table = section.components(separatedBy: "\n## ").first ?? section
        return table.split(separator: "\n").compactMap { line in
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 3, cells[0].hasPrefix("`"), cells[0].hasSuffix("`") else { return nil }
            return (String(cells[0].dropFirst().dropLast()), cells[1])
        }
    }

    /// Every code the compiler can emit is documented once, and the table lists no code that does not exist.
    @Test func formatReferenceListsEveryCodeOnce() throws {
        let documented = try Self.documentedCodes()
        let names = documented.map(\.code)
        #expect(Set(names).count == names.count, "a code is listed twice")
        #expect(Set(names) == Set(DiagnosticCode.allCases.map(\.rawValue)),
                "missing from FORMAT.md: \(Set(DiagnosticCode.allCases.map(\.rawValue)).subtracting(names).sorted()); not a code: \(Set(names).subtracting(DiagnosticCode.allCases.map(\.rawValue)).sorted())")
        for row in documented {
            #expect(["error", "warning"].contains { row.severity.hasPrefix($0) }, "\(row.code): severity '\(row.severity)'")
        }
    }

    /// The code is written as its kebab-case name in the printed form and in JSON.
    @Test func codesPrintAsTheirStableNames() throws {
        let diagnostic = Diagnostic(.error, .includeFailed, "x", path: "a.md", line: 2, column: 3)
        #expect(diagnostic.formatted == "a.md:2:3: error: x [include-failed]")
        let json = String(decoding: try JSONEncoder().encode(diagnostic), as: UTF8.self)
        #expect(json.contains("\"code\":\"include-failed\""))
        for code in DiagnosticCode.allCases {
            #expect(code.rawValue.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "-" }, "\(code)")
            #expect(!code.summary.isEmpty)
        }
    }
}
