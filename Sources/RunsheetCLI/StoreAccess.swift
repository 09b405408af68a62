import Foundation
import RunsheetCore
import RunsheetPostgres

/// Connecting to a PostgreSQL store from a command: the URL read as libpq reads it, the password
/// from PGPASSWORD or the password file, the async work waited for, and every `StoreError` one
/// sentence with its exit code (2 for a URL mistake, 6 for a store that cannot be used).
enum StoreAccess {
    /// The `store:` of the repository's `.runsheet/config.yaml` around the current folder (found
    /// like the roles file), the third place a store is chosen after `--store` and RUNSHEET_STORE.
    static func configured() -> String? {
        RepositoryConfig.load(forRunbook: FileManager.default.currentDirectoryPath + "/config-anchor")?.0.store
    }

    /// `--store`, else RUNSHEET_STORE, else the config file's `store:`, else the folder store.
    static func choice(_ flag: String?) -> StoreChoice {
        StoreChoice.resolve(flag: flag, environment: ProcessInfo.processInfo.environment, configured: flag == nil ? configured() : nil)
    }

    /// The URL of the PostgreSQL store `command` needs (`--store`, else RUNSHEET_STORE, else the
    /// config file's `store:`), or a refusal.
    static func url(_ flag: String?, command: String) throws -> String {
        guard case .postgres(let url, _) = choice(flag) else {
            throw CommandFailure(status: .usage, message: "\(command) needs a PostgreSQL store: give --store postgresql://USER@HOST/DATABASE, set RUNSHEET_STORE, or name it as store: in .runsheet/config.yaml")
        }
        return url
    }

    /// Opens the store at `url` and keeps it open for several steps (`wait`); the caller closes it.
    /// `within`: how long to wait for the server at most.
    static func open(_ url: String, within seconds: Double = commandBound) throws -> StoreConnection {
        try run(url, keepingOpen: true, within: seconds) { $0 }
    }

    /// Runs `work` on an open store and waits for it; a `StoreError` becomes one sentence (exit 6, or 2).
    static func wait<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
        try wait(seconds: commandBound, store: "", work)
    }

    /// How long a command waits for the store at most, whatever it does (a server that goes quiet
    /// without closing the connection would otherwise hold the command for ever).
    static let commandBound = 300.0

    /// As `wait`, for a session's work on its connection: a store that gives no answer within
    /// `seconds` (a server gone without closing the connection) is a failure too, exit 6.
    static func wait<T: Sendable>(seconds: Double, store: String, _ work: @escaping @Sendable () async throws -> T) throws -> T {
        do {
            guard let result = try Blocking.wait(seconds: seconds, work) else {
                throw CommandFailure(status: .store, message: "\(store.isEmpty ? "the PostgreSQL store" : "the store \(store)") gave no answer within \(Int(seconds)) seconds")
            }
            return result
        } catch let error as StoreError {
            throw CommandFailure(status: error.isUsage ? .usage : .store, message: error.errorDescription ?? "\(error)")
        }
    }

    /// Opens the store at `url`, runs `work` on it and closes it.
    static func run<T: Sendable>(_ url: String, keepingOpen: Bool = false, within seconds: Double = commandBound,
                                 _ work: @escaping @Sendable (StoreConnection) async throws -> T) throws -> T {
        // What store commands of this user left behind when they were killed goes first.
        StaleScratchFolders.sweepOnce()
        defer { StaleScratchFolders.finish() }
        let environment = ProcessInfo.processInfo.environment
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        do {
            let settings = try ConnectionSettings.parse(url, environment: environment, loginName: RunContext.loginName(), home: home)
            let lookup = PasswordLookup.password(for: settings, environment: environment, home: home)
            if let warning = lookup.warning { _ = try? FileHandle.standardError.write(contentsOf: Data("runsheet: warning: \(warning)\n".utf8)) }
            let file = PasswordLookup.passwordFilePath(environment: environment, home: home)
            let password = lookup.password
            guard let result = try Blocking.wait(seconds: seconds, {
                let store = try await StoreConnection.open(settings, password: password, passwordFile: file)
                do {
                    let result = try await work(store)
                    if !keepingOpen { await RunStore.close(store) }
                    return result
                } catch {
                    await RunStore.close(store)
                    throw error
                }
            }) else {
                throw CommandFailure(status: .store, message: "the store \(ConnectionSettings.redacted(url)) gave no answer within \(Int(seconds)) seconds, so the command stopped")
            }
            return result
        } catch let error as StoreError {
            throw CommandFailure(status: error.isUsage ? .usage : .store, message: error.errorDescription ?? "\(error)")
        }
    }
}
