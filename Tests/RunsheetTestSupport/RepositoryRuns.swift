import Foundation
import RunsheetCore

/// A test repository's runs as a user meets them: `runsheet` run from the repository with
/// `--runs-dir runs` and without colour, and a run's journal read back line by line as JSON.
public enum RepositoryRuns {
    public static func runsheet(_ arguments: [String], in dir: URL, stdin: String? = nil) throws -> ProcessResult {
        try Fixtures.runsheet(arguments + ["--runs-dir", "runs"], stdin: stdin, environment: ["NO_COLOR": "1"], directory: dir)
    }

    /// The run ids in `dir/runs`, sorted; hidden folders (a run being started) left out.
    public static func runs(in dir: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("runs").path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    /// The events of run `id` in `dir/runs`, each as the JSON object its line holds.
    public static func events(_ dir: URL, id: String) throws -> [[String: Any]] {
        let text = try String(contentsOf: dir.appendingPathComponent("runs/\(id)/journal.jsonl"), encoding: .utf8)
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    /// Writes `events` as run `id`'s journal in `dir/runs`, every seq, prev and hash computed
    /// again, as an insider with a script would.
    public static func rewrite(_ dir: URL, id: String, _ events: [RunEvent]) throws {
        var previous = "", text = ""
        for (index, event) in events.enumerated() {
            let sealed = try event.sealed(seq: index + 1, after: previous)
            previous = sealed.hash
            text += String(decoding: try sealed.canonicalJSON(), as: UTF8.self) + "\n"
        }
        try text.write(to: dir.appendingPathComponent("runs/\(id)/journal.jsonl"), atomically: true, encoding: .utf8)
    }
}
