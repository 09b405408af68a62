import Foundation
import RunsheetCore
import RunsheetPostgres

/// Many runs of the PostgreSQL store laid out together, for the commands that read a whole runs
/// folder (`status` without a run, `readiness`, `metrics`): listed in one query, fetched in three
/// (`RunStore.fetchAll`), and each laid out as `StoreRunView` lays out one run, under
/// `root/runs/<id>` with its runbook and rules under `root/trees/<id>`, so the folder code reads,
/// verifies and flags them exactly as it does run folders. Removed when the command ends.
struct StoreRuns {
    let root: String
    /// The store, its URL redacted.
    let store: String
    private let directories: [String]

    /// The laid-out runs folder.
    var runsDirectory: String { root + "/runs" }

    /// The runs of the store chosen by `flag`, laid out; nil when the folder store is chosen.
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
        let chosen = listed.filter { select($0, started($0)) }
        let fetched = try StoreAccess.wait { try await RunStore.fetchAll(connection, chosen) }
        let root = NSTemporaryDirectory() + "runsheet-store-run-\(UUID().uuidString)"
        let store = ConnectionSettings.redacted(url)
        do {
            try FileManager.default.createDirectory(atPath: root + "/runs", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: root)
        } catch {
            try? FileManager.default.removeItem(atPath: root)
            throw CommandFailure(status: .store, message: "cannot lay out the runs of the store \(store) in \(root): \(error.localizedDescription)")
        }
        // A run id is one folder name (the store's key); any other is left out, named.
        let usable = fetched.filter { run in
            let fits = !run.id.isEmpty && !run.id.hasPrefix(".") && !run.id.contains("/") && !run.id.unicodeScalars.contains { $0.properties.generalCategory == .control }
            if !fits { Output.error("run \(run.id.shown) in the store \(store) is left out: its id is not a folder name") }
            return fits
        }
        let views = usable.map { run in
            StoreRunView(root: root, directory: root + "/runs/" + run.id, origins: [], store: store, tree: root + "/trees/" + run.id, repository: repository)
        }
        // A run that cannot be laid out whole keeps what was written (its journal at least), which
        // the folder code then reads and flags as it would a run folder.
        _ = zip(views, usable).map { ($0, $1) }.parallelMap { view, run in try? view.lay(run) }
        return StoreRuns(root: root, store: store, directories: views.map(\.directory))
    }

    /// The `run.started` of a listed run, when its first line is one.
    static func started(_ run: ListedRun) -> RunStarted? {
        guard let line = run.firstLine, let event = try? JSONDecoder().decode(RunEvent.self, from: Data(line)),
              case .runStarted(let started)? = try? event.payload() else { return nil }
        return started
    }

    /// Removes the folder and forgets every run's layout.
    func close() {
        for directory in directories {
            StoreRunView(root: root, directory: directory, origins: [], store: store, repository: nil).forget()
        }
        try? FileManager.default.removeItem(atPath: root)
    }
}
