import ArgumentParser
import Foundation

/// Shell-completion hints shared by the commands (`runsheet --generate-completion-script bash|zsh|fish`).
enum Completions {
    /// Runbook files: `*.md`, and folders to descend into.
    static let runbook = CompletionKind.file(extensions: ["md"])

    /// The ids of the runs in the runs folder the command would use.
    static let runID = CompletionKind.custom { words, _, prefix in runIDs(words: words, prefix: prefix) }

    /// Run ids starting with `prefix`, newest first, from `--runs-dir` on the command line or the
    /// default runs folder. Never fails: a missing folder completes nothing.
    static func runIDs(words: [String], prefix: String) -> [String] {
        var explicit: String?
        for (index, word) in words.enumerated() {
            if word == "--runs-dir", index + 1 < words.count { explicit = words[index + 1] }
            if word.hasPrefix("--runs-dir=") { explicit = String(word.dropFirst("--runs-dir=".count)) }
        }
        let runs = RunContext.runsDirectory(explicit: explicit, near: FileManager.default.currentDirectoryPath)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: runs)) ?? []
        return names
            .filter { !$0.hasPrefix(".") && $0.hasPrefix(prefix) && FileManager.default.fileExists(atPath: runs + "/" + $0 + "/journal.jsonl") }
            .sorted(by: >)
    }
}
