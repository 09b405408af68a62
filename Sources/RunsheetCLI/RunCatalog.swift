import Foundation
import RunsheetCore

/// Every run in a runs folder, read and folded in parallel. Journals that cannot be read are
/// listed apart, so one damaged run never hides the others.
struct RunCatalog {
    struct Entry {
        var id: String
        var directory: String
        var state: RunState
        /// Where the journal first stops verifying (checked as it was folded); nil when it verifies.
        var problem: JournalProblem?
    }

    var entries: [Entry]
    /// Runs whose journal could not be read, with the reason.
    var unreadable: [(id: String, reason: String)]

    /// Says on standard error which runs a report leaves out, and why.
    func reportUnreadable() {
        for (id, reason) in unreadable { Output.error("run \(id) is left out: \(reason)") }
    }

    /// Reads every `*/journal.jsonl` under `runsDirectory`, newest first, each checked as it is folded.
    static func load(_ runsDirectory: String) -> RunCatalog {
        let manager = FileManager.default
        let ids = ((try? manager.contentsOfDirectory(atPath: runsDirectory)) ?? [])
            .filter { !$0.hasPrefix(".") && manager.fileExists(atPath: runsDirectory + "/" + $0 + "/journal.jsonl") }
            .sorted()
        let results = ids.parallelMap { id in
            Result { () throws -> JournalFold in
                var fold = try JournalFile.verifiedState(at: runsDirectory + "/" + id + "/journal.jsonl", repair: false)
                if fold.problem == nil { fold.problem = RunSignatures.problem(fold.state, runDirectory: runsDirectory + "/" + id) }
                return fold
            }
        }
        return collect(zip(ids, results).map { ($0, runsDirectory + "/" + $0, $1) })
    }

    /// The runs of the PostgreSQL store as `load` reads a runs folder's: each journal, read in
    /// memory (`StoreRuns`), checked as it is folded, by the same code.
    static func load(_ stored: StoreRuns) -> RunCatalog {
        let runs = stored.runs.sorted { $0.id < $1.id }
        let results = runs.parallelMap { run in
            Result { () throws -> JournalFold in
                var fold = try JournalBytes.verifiedState(run.journal, name: run.shown)
                if fold.problem == nil { fold.problem = RunSignatures.problem(fold.state, runDirectory: run.directory) }
                return fold
            }
        }
        return collect(zip(runs, results).map { ($0.id, $0.directory, $1) })
    }

    private static func collect(_ results: [(id: String, directory: String, fold: Result<JournalFold, any Error>)]) -> RunCatalog {
        var catalog = RunCatalog(entries: [], unreadable: [])
        for (id, directory, result) in results {
            switch result {
            case .success(let fold): catalog.entries.append(Entry(id: id, directory: directory, state: fold.state, problem: fold.problem))
            case .failure(let error): catalog.unreadable.append((id, (error as? LocalizedError)?.errorDescription ?? "\(error)"))
            }
        }
        catalog.entries.sort { ($0.state.startedAt, $0.id) > ($1.state.startedAt, $1.id) }
        return catalog
    }
}
