import Foundation
import RunsheetCore
import RunsheetPostgres

/// The halts a run obeys besides those of where it is kept: those of every PostgreSQL store the
/// repository's `.runsheet/config.yaml` names, as committed at `HEAD` and as in the working copy
/// (docs/TEAMS.md, "Halts and closures on the store"). A flag or a variable choosing where the run
/// is kept (`--store folder`, `--store postgresql://…/other`, RUNSHEET_STORE) does not choose which
/// halts it obeys. A config file that cannot be read, decoded or parsed leaves which store's halts
/// apply unknown: then no production step starts (rollback steps still run), as when a store
/// cannot be read; so does a repository Git cannot read (`GitReading`).
struct ConfiguredStoreFloor {
    /// The configured stores other than the one the run is kept on, each read before a production step.
    var stores: [StoreHaltsFloor]
    /// The sentence every production step is refused with while a config file cannot be used.
    var refusal: String?

    /// The floor for a run of `runbook`, kept on the PostgreSQL store at `keptOn` (nil: in a folder).
    /// A configured store that is the run's own (the same host, port and database once both URLs
    /// are parsed) is left out: the run obeys its halts already.
    static func of(runbook: String, keptOn url: String?) throws -> ConfiguredStoreFloor {
        let (named, problem) = configured(forRunbook: runbook)
        let kept = url.flatMap(StoreHaltsFloor.place(of:))
        let folder = (runbook as NSString).deletingLastPathComponent
        // In a repository Git cannot read, what is committed at HEAD (this file, the roles, the halts) cannot be known.
        let unreadable = GitReading.of(folder.isEmpty ? "." : folder).refusal.map(Self.refusal(becauseGitCannotRead:))
        var floor = ConfiguredStoreFloor(stores: [], refusal: unreadable ?? problem.map(Self.refusal(because:)))
        do {
            for store in named where kept == nil || StoreHaltsFloor.place(of: store) != kept {
                // A configured URL that cannot be parsed is not the run's store: its floor fails closed when read.
                floor.stores.append(try StoreHaltsFloor(url: store))
            }
        } catch {
            floor.close()
            throw error
        }
        return floor
    }

    /// The PostgreSQL stores the config file names as committed at `HEAD` and in the working copy
    /// (an uncommitted edit may add a store, never take the committed one away), each once; and
    /// what is wrong with either file when one cannot be read, decoded or parsed.
    static func configured(forRunbook runbook: String) -> (stores: [String], problem: String?) {
        func postgres(_ store: String?) -> String? {
            guard let store = store?.trimmingCharacters(in: .whitespaces), !store.isEmpty, store != "folder" else { return nil }
            return store
        }
        func first(_ problems: [Diagnostic]) -> Diagnostic? { problems.first { $0.severity == .error } }
        var stores: [String] = []
        var problem: String?
        if let committed = CommittedConfig.read(forRunbook: runbook) {
            if let error = first(committed.problems) {
                problem = "\(error.path):\(error.line):\(error.column) as committed at HEAD: \(error.message)"
            } else if let store = postgres(committed.config.store) {
                stores.append(store)
            }
        }
        if let (config, problems) = RepositoryConfig.load(forRunbook: runbook) {
            if let error = first(problems) {
                problem = problem ?? "\(error.path):\(error.line):\(error.column): \(error.message)"
            } else if let store = postgres(config.store), !stores.contains(where: { committed in
                committed == store || (StoreHaltsFloor.place(of: committed).map { $0 == StoreHaltsFloor.place(of: store) } ?? false)
            }) {
                stores.append(store)
            }
        }
        return (stores, problem)
    }

    /// One sentence: production steps do not start because a config file cannot be used.
    static func refusal(because problem: String) -> String {
        var problem = problem
        while problem.hasSuffix(".") || problem.hasSuffix(" ") { problem.removeLast() }
        return "production steps do not start: \(problem), so which store's halts apply to this run " +
            "cannot be known (runsheet does not act on rules it cannot read); rollback steps still run; fix \(RepositoryConfig.relativePath) and commit it, " +
            "or have someone holding an exception role grant an exception for the step with 'runsheet sign RUN STEP --exception --reason \"...\"'"
    }

    /// One sentence: production steps do not start because Git cannot read the repository (`GitReading`).
    static func refusal(becauseGitCannotRead why: String) -> String {
        "production steps do not start: \(why); which store's halts apply to this run and who may lift them are as committed at HEAD, " +
            "so they cannot be known (runsheet does not act on rules it cannot read); rollback steps still run"
    }

    /// Adds the configured stores' halts, and the refusal, to those `governance` obeys.
    func install(into governance: inout Governance, runbook: String) {
        for store in stores { store.install(into: &governance, runbook: runbook) }
        guard let refusal else { return }
        let rules = StoreHaltsFloor.ruleFolder(near: runbook)
        // No log is read: the refusal stands before any would be.
        governance.floorHalts.append(governance.haltWatch(folder: rules, signersNear: runbook, log: rules + "/.no-config-floor", prepare: { _ in refusal }))
    }

    /// Closes each store's connection and removes its private folder.
    func close() {
        for store in stores { store.close() }
    }
}
