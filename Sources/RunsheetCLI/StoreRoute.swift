import Foundation
import RunsheetCore
import RunsheetPostgres

/// Which store a command that reads or writes runs works on, decided before it does anything.
/// A command that does not (yet) work on a PostgreSQL store refuses when one is chosen, instead
/// of quietly using run folders the team no longer keeps its runs in (fail closed, docs/TEAMS.md).
enum StoreRoute {
    /// The store chosen by `--store`, else RUNSHEET_STORE, else `store:` in the config file around
    /// the current folder. The config file is looked for only when neither of the first two decides
    /// (and is parsed only when it exists); one that cannot be read, decoded or parsed stops the
    /// command (exit 2), since the store it names cannot be known.
    static func chosen(_ flag: String?) throws -> StoreChoice {
        let environment = ProcessInfo.processInfo.environment
        let decided = [flag, environment["RUNSHEET_STORE"]].contains { !($0?.trimmingCharacters(in: .whitespaces).isEmpty ?? true) }
        var configured: String?
        if !decided {
            let anchor = FileManager.default.currentDirectoryPath + "/config-anchor"
            if let (config, problems) = RepositoryConfig.load(forRunbook: anchor) {
                if let first = problems.first(where: { $0.severity == .error }) {
                    throw CommandFailure(status: .usage, message: "\(first.path):\(first.line):\(first.column): \(first.message) " +
                                         "(runsheet does not act on rules it cannot read, and cannot know which run store this file names; fix it, or choose the store with --store)")
                }
                configured = config.store
            }
        }
        return StoreChoice.resolve(flag: flag, environment: environment, configured: configured)
    }

    /// The URL of the PostgreSQL store chosen, or nil for the folder store.
    static func postgresURL(_ flag: String?) throws -> String? {
        if case .postgres(let url, _) = try chosen(flag) { return url }
        return nil
    }

    /// Refuses, exit 6, when a PostgreSQL store is chosen: `command` works on run folders only.
    /// Nothing is connected to: the refusal names the store by its URL, redacted.
    static func requireFolder(_ flag: String?, command: String) throws {
        if case .postgres(let url, let source) = try chosen(flag) { throw refusal(command, url: url, source: source) }
    }

    /// For a command that reads one run and works on either store: `body` gets the run folder to
    /// read, and for a run of the PostgreSQL store (fetched by its whole id and laid out by
    /// `StoreRunView`, removed afterwards) its view. A journal or run folder named by its path is
    /// read where it is; otherwise, with the folder store, `locate` finds the run folder.
    /// `origins`: fetch each event's database user and server time too (`audit`); `outputs`
    /// false: not the command output logs (`status`); `fold`: fold the journal as it is fetched
    /// (`StoreRunView.folded`, `status`).
    static func reading<T>(_ reference: String, flag: String?, origins: Bool = false, outputs: Bool = true, fold: Bool = false, locate: () throws -> String,
                           _ body: (_ directory: String, _ view: StoreRunView?) throws -> T) throws -> T {
        if !names(folder: reference), case .postgres(let url, _) = try chosen(flag) {
            let view = try StoreRunView.open(reference, url: url, origins: origins, outputs: outputs, fold: fold)
            defer { view.close() }
            return try body(view.directory, view)
        }
        return try body(try locate(), nil)
    }

    /// For `sign` and `reject`: the gate context of the run, from its folder, or on a PostgreSQL
    /// store from the store (laid out by `StoreRunView`, which the caller closes, with the store's
    /// journal to append to). A run folder named by its path is refused when a store is chosen.
    static func gate(_ reference: String, flag: String?, runsDir: String?, step: String?, production: Bool = false,
                     command: String) throws -> (GateContext, StoreRunView?) {
        guard case .postgres(let url, let source) = try chosen(flag) else {
            return (try GateContext.open(run: reference, step: step, runsDir: runsDir, production: production), nil)
        }
        if names(folder: reference) { throw refusal(command, url: url, source: source) }
        let view = try StoreRunView.open(reference, url: url)
        do {
            var context = try GateContext.open(directory: view.directory, step: step, production: production)
            context.storeJournal = try StoreJournal(url: url, runID: reference)
            return (context, view)
        } catch {
            view.close()
            throw error
        }
    }

    /// Whether `reference` names a journal file or a run folder by its path (as `RunContext.locateRun` reads it).
    static func names(folder reference: String) -> Bool {
        if reference.hasSuffix(".jsonl"), FileManager.default.fileExists(atPath: reference) { return true }
        return reference.contains("/") && FileManager.default.fileExists(atPath: reference + "/journal.jsonl")
    }

    static func refusal(_ command: String, url: String, source: StoreChoice.Source) -> CommandFailure {
        if command == "unlock" {
            return CommandFailure(status: .store, message:
                "runsheet unlock has nothing to release on the PostgreSQL store \(ConnectionSettings.redacted(url)) (chosen by \(source.rawValue)): " +
                "there a lock is held only by the session that drives its run and ends with it, so it did nothing; " +
                "give --store folder to release a lock of the run folders")
        }
        return CommandFailure(status: .store, message:
            "runsheet \(command) does not work on the PostgreSQL store \(ConnectionSettings.redacted(url)) (chosen by \(source.rawValue)) yet, " +
            "so it did nothing; give --store folder to use the run folders, or copy the run into one first with 'runsheet store pull RUN'")
    }
}
