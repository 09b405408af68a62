import Foundation
import Synchronization

/// Temporary folders a command removes when it ends, and also when a signal stops it while they
/// exist (a run of the PostgreSQL store laid out by `StoreRunView`, a session's local copy of its
/// run, a store's halts as a file). Each is made by `make`, named for the process that owns it
/// (`runsheet-store-KIND-PID-UUID`), so that one left by a process that died (kill -9) is
/// recognised and removed by the next store command of the same user (`StaleScratchFolders`).
///
/// The first folder registered for a signal sets up a handler for it when its action is still
/// the default; the handler runs the command's last words (`onStop`: a session's sentence), removes
/// the folders, then ends the process by the same signal, as the default action would. A signal
/// ignored or handled by someone else is left alone: a session registers its folders for SIGTERM
/// and SIGHUP only, since Ctrl-C inside it stops a step's command, not the session.
enum ScratchFolders {
    private struct State: ~Copyable {
        var folders: Set<String> = []
        var sources: [Int32: any DispatchSourceSignal] = [:]
        var lastWords: (@Sendable (Int32) -> Void)?
    }

    private static let state = Mutex(State())
    /// The signals that stop a command that only reads.
    static let all: [Int32] = [SIGINT, SIGTERM, SIGHUP]
    /// The signals that stop a session driving a run (Ctrl-C is the session's own key).
    static let session: [Int32] = [SIGTERM, SIGHUP]
    /// How every such folder's name begins.
    static let prefix = "runsheet-store-"

    /// Makes a new private folder (mode 0700) in the temporary folder, named for this process,
    /// and registers it for `signals`. `kind` says what it holds (letters only).
    static func make(_ kind: String, signals: [Int32] = all) throws -> String {
        let path = NSTemporaryDirectory() + name(kind, pid: getpid(), id: UUID())
        guard mkdir(path, 0o700) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: String(cString: strerror(errno)), NSFilePathErrorKey: path])
        }
        // The mode asked of mkdir is narrowed by the umask, never widened: set it whole.
        _ = chmod(path, 0o700)
        add(path, signals: signals)
        return path
    }

    /// The name of a folder of `kind` owned by process `pid`.
    static func name(_ kind: String, pid: pid_t, id: UUID) -> String {
        "\(prefix)\(kind)-\(pid)-\(id.uuidString)"
    }

    /// The owning process of a folder named by `name`, when it is one of these; nil otherwise.
    static func owner(ofName name: String) -> pid_t? {
        guard name.hasPrefix(prefix) else { return nil }
        let parts = name.dropFirst(prefix.count).split(separator: "-", maxSplits: 2)
        guard parts.count == 3, !parts[0].isEmpty, parts[0].allSatisfy({ $0.isASCII && $0.isLetter }),
              parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let pid = pid_t(parts[1]), pid > 0, String(pid) == parts[1],
              let id = UUID(uuidString: String(parts[2])), id.uuidString == parts[2] else { return nil }
        return pid
    }

    /// Removes `path` if the process is stopped by one of `signals` before `remove(_:)`.
    static func add(_ path: String, signals: [Int32] = all) {
        state.withLock { state in
            state.folders.insert(path)
            for number in signals where state.sources[number] == nil {
                // The signal's action before: kept when it is not the default.
                let previous = signal(number, SIG_IGN)
                guard previous == nil else {  // SIG_DFL
                    signal(number, previous)
                    continue
                }
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { stop(by: number) }
                source.resume()
                state.sources[number] = source
            }
        }
    }

    /// What to do first when a signal stops the process, before the folders go (a session says
    /// where it stopped and keeps its output logs). The last one given counts.
    static func onStop(_ work: @escaping @Sendable (Int32) -> Void) {
        state.withLock { $0.lastWords = work }
    }

    /// Forgets the last words given to `onStop`.
    static func clearStop() {
        state.withLock { $0.lastWords = nil }
    }

    /// Removes `path` and forgets it.
    static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
        _ = state.withLock { $0.folders.remove(path) }
    }

    /// Runs the last words, removes every folder, then ends the process by `number` (its default action).
    private static func stop(by number: Int32) {
        state.withLock { $0.lastWords }?(number)
        let folders = state.withLock { $0.folders }
        for folder in folders {
            // A file written into it at that moment by the command makes one pass fail: try again.
            for _ in 0..<3 where FileManager.default.fileExists(atPath: folder) { try? FileManager.default.removeItem(atPath: folder) }
        }
        signal(number, SIG_DFL)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, number)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        raise(number)
        _exit(128 + number)
    }
}
