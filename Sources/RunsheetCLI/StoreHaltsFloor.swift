import Foundation
import RunsheetCore
import RunsheetPostgres
import Synchronization

/// The halts of the PostgreSQL store the repository's `.runsheet/config.yaml` names, obeyed by a
/// run on a folder as well (docs/TEAMS.md, "Halts and closures on the store"): `--store folder`
/// or RUNSHEET_STORE=folder choose where the run is kept, not which halts it obeys. The config
/// file is in the repository, a flag or a variable is not, so the repository's store is the floor.
/// The store's halts log is read into a private file (mode 0600 in a 0700 folder) before each
/// production step starts, within `within` seconds; when it cannot be, the step does not start.
final class StoreHaltsFloor: Sendable {
    let url: String
    let shown: String
    let folder: String
    var path: String { folder + "/" + Halt.fileName }
    /// How long a production step waits for the store's answer before it is refused.
    static let within = 5.0
    /// How long a copy serves the screen's looks (not a step's start) before it is read again.
    static let served = 2.0
    private let state = Mutex<(connection: StoreConnection?, read: Date?, tried: Date?, problem: String?)>((nil, nil, nil, nil))

    /// The floor for a run of `runbook` kept in a folder: nil when the repository names no PostgreSQL store.
    /// The store is the one `.runsheet/config.yaml` names as committed at `HEAD` (an uncommitted
    /// edit or deletion of the file does not free a run from it), else the working copy's.
    static func forFolderRun(of runbook: String) throws -> StoreHaltsFloor? {
        guard let configured = configuredStore(forRunbook: runbook) else { return nil }
        return try StoreHaltsFloor(url: configured)
    }

    /// The PostgreSQL store `.runsheet/config.yaml` names as committed at HEAD, else the working
    /// copy's: an uncommitted edit may add a store, never take the committed one away.
    static func configuredStore(forRunbook runbook: String) -> String? {
        func postgres(_ store: String?) -> String? {
            guard let store = store?.trimmingCharacters(in: .whitespaces), !store.isEmpty, store != "folder" else { return nil }
            return store
        }
        return postgres(CommittedConfig.store(forRunbook: runbook)) ?? postgres(RepositoryConfig.load(forRunbook: runbook)?.0.store)
    }

    init(url: String) throws {
        self.url = url
        shown = ConnectionSettings.redacted(url)
        folder = NSTemporaryDirectory() + "runsheet-store-halts-\(UUID().uuidString)"
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        } catch {
            throw CommandFailure(status: .usage, message: "cannot make a private folder for the store's halts in \(NSTemporaryDirectory()): \((error as NSError).localizedDescription)")
        }
    }

    /// Adds the store's halts to `governance`, judged by the repository's rules as the file's are.
    func install(into governance: inout Governance, runbook: String) {
        let around = (runbook as NSString).deletingLastPathComponent.isEmpty ? "." : (runbook as NSString).deletingLastPathComponent
        let rules = GovernanceLog.ruleFolder(from: around) ?? around + "/.runsheet"
        governance.alsoHalts = governance.haltWatch(folder: rules, signersNear: runbook, log: path, prepare: { [self] fresh in refresh(fresh: fresh) })
    }

    /// Reads the store's halts into the file (at once when `fresh`, else when the copy is older
    /// than `served`); the sentence a production step is refused with when that cannot be done.
    func refresh(fresh: Bool) -> String? {
        let now = Date()
        let (connection, read, tried, problem) = state.withLock { ($0.connection, $0.read, $0.tried, $0.problem) }
        if !fresh {
            if problem == nil, let read, now.timeIntervalSince(read) < Self.served { return nil }
            if let problem, let tried, now.timeIntervalSince(tried) < Self.served { return problem }
        }
        do {
            let open = try connection ?? StoreAccess.open(url, within: Self.within)
            state.withLock { $0.connection = open }
            let lines = try StoreAccess.wait(seconds: Self.within, store: shown) { try await RunStore.governanceLines(open, log: "halts") }
            var bytes: [UInt8] = []
            for line in lines { bytes += line; bytes.append(0x0A) }
            let staging = folder + "/.halts-" + UUID().uuidString
            try FolderRuns.create(staging, bytes, synced: false)
            guard rename(staging, path) == 0 else {
                _ = unlink(staging)
                throw CommandFailure(status: .usage, message: "cannot write the store's halts to \(path): \(String(cString: strerror(errno)))")
            }
            state.withLock { $0 = ($0.connection, now, now, nil) }
            return nil
        } catch {
            let why = (error as? CommandFailure)?.message ?? (error as? LocalizedError)?.errorDescription ?? "\(error)"
            let sentence = "production steps do not start: the halts of the store \(shown), which \(RepositoryConfig.relativePath) names, " +
                "could not be read (\(why.trimmingCharacters(in: CharacterSet(charactersIn: ". ")))), and a halt declared there applies to this run too; " +
                "rollback steps still run; run the step once the store answers again, or have someone holding an exception role grant one for it with " +
                "'runsheet sign RUN STEP --exception --reason \"...\"' (docs/TEAMS.md, \"During an incident with the server down\")"
            let stale = state.withLock { state in
                let old = state.connection
                state = (nil, state.read, now, sentence)
                return old
            }
            if let stale { _ = try? StoreAccess.wait(seconds: 1, store: shown) { await RunStore.close(stale) } }
            return sentence
        }
    }

    /// Closes the connection and removes the private folder.
    func close() {
        if let connection = state.withLock({ $0.connection }) {
            _ = try? StoreAccess.wait(seconds: 3, store: shown) { await RunStore.close(connection) }
        }
        try? FileManager.default.removeItem(atPath: folder)
    }
}
