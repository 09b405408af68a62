import Foundation
import RunsheetCore
import RunsheetPostgres
import Synchronization

/// The halts of one PostgreSQL store the repository's `.runsheet/config.yaml` names, obeyed by a
/// run kept in a folder or on another store as well (`ConfiguredStoreFloor`; docs/TEAMS.md, "Halts
/// and closures on the store"). The config file is in the repository, a flag or a variable is not,
/// so the repository's store is the floor.
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

    /// Adds the store's halts to those `governance` obeys (`floorHalts`), judged by the
    /// repository's rules as the file's are.
    func install(into governance: inout Governance, runbook: String) {
        governance.floorHalts.append(governance.haltWatch(folder: Self.ruleFolder(near: runbook), signersNear: runbook, log: path,
                                                          prepare: { [self] fresh in refresh(fresh: fresh) }))
    }

    /// The repository's `.runsheet/` folder for `runbook` (where it would be when there is none).
    static func ruleFolder(near runbook: String) -> String {
        let around = (runbook as NSString).deletingLastPathComponent.isEmpty ? "." : (runbook as NSString).deletingLastPathComponent
        return GovernanceLog.ruleFolder(from: around) ?? around + "/.runsheet"
    }

    /// Host (or socket folder), port and database of `url` as libpq reads it; nil when it cannot be parsed.
    static func place(of url: String) -> [String]? {
        let environment = ProcessInfo.processInfo.environment
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        guard let settings = try? ConnectionSettings.parse(url, environment: environment, loginName: RunContext.loginName(), home: home) else { return nil }
        switch settings.endpoint {
        case .tcp(let host, let port): return ["tcp", host.lowercased(), String(port), settings.database]
        case .socket(let directory, let port): return ["socket", directory, String(port), settings.database]
        }
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
