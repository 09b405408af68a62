import Foundation
import RunsheetCore
import RunsheetPostgres

/// Many runs of the PostgreSQL store, for the commands that read a whole runs folder (`status`
/// without a run, `readiness`, `metrics`): listed in one query, their journals fetched in one
/// more (`RunStore.journals`), and read in memory by the journal code that reads run folders
/// (`JournalBytes`: the same line splitting, chain, seal and signature checks), so nothing is
/// written to disk. Each run stands in the folder code under a name that is no folder
/// (`directory`, below `/dev/null`), registered as a `StoreRunView.Layout` for what binds it:
/// its store id (`RunBinding`), and the runbook of the current repository it was started from,
/// if any, which anchors its allowed signers and recorded commit (`StoreRunView.repositoryRunbook`).
struct StoreRuns {
    /// A run as the folder code reads it.
    struct Run: Sendable {
        /// The store's id of the run: what a run folder's name is.
        let id: String
        /// Its journal: each line and a newline, in seq order.
        let journal: [UInt8]
        /// Its name in what a command prints: the store and the run id.
        let shown: String
        /// Where it stands in the folder code: a path under `/dev/null`, so nothing is ever found there.
        let directory: String
    }

    /// The store, its URL redacted.
    let store: String
    /// The runs, by id.
    let runs: [Run]

    /// The runs of the store chosen by `flag`, fetched; nil when the folder store is chosen.
    /// `select` picks the runs to fetch from their listing (id and first event).
    static func chosen(_ flag: String?, repository: String? = RunContext.gitRoot(of: FileManager.default.currentDirectoryPath),
                       select: (ListedRun, RunStarted?) -> Bool = { _, _ in true }) throws -> StoreRuns? {
        guard case .postgres(let url, _) = try StoreRoute.chosen(flag) else { return nil }
        return try open(url, repository: repository, select: select)
    }

    static func open(_ url: String, repository: String?, select: (ListedRun, RunStarted?) -> Bool) throws -> StoreRuns {
        // One connection (one authentication) for the listing and the fetch.
        let connection = try StoreAccess.open(url)
        defer { _ = try? StoreAccess.wait { await RunStore.close(connection) } }
        let listed = try StoreAccess.wait { try await RunStore.list(connection) }
        let store = ConnectionSettings.redacted(url)
        // A run id is one folder name (the store's key); any other is left out, named.
        let chosen = listed.filter { run in
            guard select(run, started(run)) else { return false }
            let fits = !run.id.isEmpty && !run.id.hasPrefix(".") && !run.id.contains("/") && !run.id.unicodeScalars.contains { $0.properties.generalCategory == .control }
            if !fits { Output.error("run \(run.id.shown) in the store \(store) is left out: its id is not a folder name") }
            return fits
        }
        let journals = try StoreAccess.wait { try await RunStore.journals(connection, chosen.map(\.id)) }
        let base = "/dev/null/runsheet-store-\(UUID().uuidString)/"
        let runs = chosen.map { listed in
            Run(id: listed.id, journal: journals[listed.id] ?? [], shown: "\(store) run \(listed.id)", directory: base + listed.id)
        }
        StoreRunView.register(zip(runs, chosen).map { ($0, started($1)) }.parallelMap { run, started in
            (run.directory, layout(run, started: started, repository: repository))
        })
        return StoreRuns(store: store, runs: runs)
    }

    /// What binds a run: its id, and its runbook in `repository` when that is the run's (its
    /// runbook at the recorded path, its recorded commit in the history). A run of no repository
    /// here has no anchor, so its signatures are checked against no allowed signers.
    private static func layout(_ run: Run, started: RunStarted?, repository: String?) -> StoreRunView.Layout {
        let anchor = started.flatMap { started in repository.flatMap { StoreRunView.repositoryRunbook(started, in: $0) } }
        // Where the runbook would be in a run folder: nothing reads it for these commands, and nothing is there.
        return StoreRunView.Layout(run: run.id, shown: run.shown, runbook: run.directory + "/runbook.md", signersAnchor: anchor)
    }

    /// The `run.started` of a listed run, when its first line is one.
    static func started(_ run: ListedRun) -> RunStarted? {
        guard let line = run.firstLine, let event = try? JSONDecoder().decode(RunEvent.self, from: Data(line)),
              case .runStarted(let started)? = try? event.payload() else { return nil }
        return started
    }

    /// Forgets every run's layout.
    func close() {
        StoreRunView.forget(runs.map(\.directory))
    }

    /// The environment locks the runs hold, as `LockFolder.holders` finds them in a runs folder
    /// (the store keeps no lock files: each run's journal says).
    func lockHolders() -> [EnvironmentLock.Holder] {
        LockFolder.holders(ofJournals: runs.map { ($0.id, $0.journal, $0.shown) })
    }
}
