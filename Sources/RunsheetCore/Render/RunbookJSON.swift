import Foundation

/// The JSON form of the compiled runbook (schema `runsheet.runbook/1`).
public enum RunbookJSON {
    public static func encode(_ runbook: Runbook) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(runbook), as: UTF8.self) + "\n"
    }

    public static func decode(_ text: String) throws -> Runbook {
        try JSONDecoder().decode(Runbook.self, from: Data(text.utf8))
    }
}
