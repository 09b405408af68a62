import Foundation
import Testing

/// Expected-output files under Tests/Fixtures/expected. Set RUNSHEET_RECORD=1 to rewrite them;
/// a recording run fails on purpose so it is never mistaken for a pass.
public enum Golden {
    public static func check(_ actual: String, against name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let url = Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/expected/\(name)")
        if ProcessInfo.processInfo.environment["RUNSHEET_RECORD"] != nil {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try actual.write(to: url, atomically: true, encoding: .utf8)
            Issue.record("recorded \(name); run again without RUNSHEET_RECORD", sourceLocation: sourceLocation)
            return
        }
        let expected = try String(contentsOf: url, encoding: .utf8)
        #expect(actual == expected, "output differs from \(name); re-record with RUNSHEET_RECORD=1 if the change is intended", sourceLocation: sourceLocation)
    }
}
