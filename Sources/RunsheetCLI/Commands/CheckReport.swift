import Foundation
import RunsheetCore

/// Machine-readable forms of `check` findings: runsheet's JSON and SARIF 2.1.0.
enum CheckReport {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    struct FileFindings: Encodable {
        var path: String
        var diagnostics: [Diagnostic]
    }

    struct JSONReport: Encodable {
        var schema = "runsheet.check/1"
        var files: [FileFindings]
        var errors: Int
        var warnings: Int
    }

    static func json(_ results: [(path: String, diagnostics: [Diagnostic])]) throws -> String {
        let all = results.flatMap(\.diagnostics)
        let errors = all.filter { $0.severity == .error }.count
        let report = JSONReport(files: results.map { FileFindings(path: $0.path, diagnostics: $0.diagnostics) },
                                errors: errors, warnings: all.count - errors)
        return String(decoding: try encoder().encode(report), as: UTF8.self) + "\n"
    }

    static func sarif(_ results: [(path: String, diagnostics: [Diagnostic])], version: String) throws -> String {
        let rules: [[String: Any]] = DiagnosticCode.allCases.map {
            ["id": $0.rawValue, "shortDescription": ["text": $0.summary], "helpUri": "docs/FORMAT.md"]
        }
        var sarifResults: [[String: Any]] = []
        for diagnostic in results.flatMap(\.diagnostics) {
            sarifResults.append([
                "ruleId": diagnostic.code.rawValue,
                "level": diagnostic.severity == .error ? "error" : "warning",
                "message": ["text": diagnostic.message],
                "locations": [[
                    "physicalLocation": [
                        "artifactLocation": ["uri": diagnostic.path],
                        "region": ["startLine": diagnostic.line, "startColumn": diagnostic.column],
                    ],
                ]],
            ])
        }
        let log: [String: Any] = [
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [[
                "tool": ["driver": ["name": "runsheet", "version": version, "informationUri": "https://github.com/runsheet/runsheet", "rules": rules]],
                "results": sarifResults,
            ]],
        ]
        let data = try JSONSerialization.data(withJSONObject: log, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
