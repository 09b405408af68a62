import Foundation
import Synchronization

/// Temporary folders a command removes when it ends, and also when SIGINT, SIGTERM or SIGHUP
/// stops it while they exist (a run of the PostgreSQL store laid out by `StoreRunView`): the
/// first folder registered sets up a handler for each of those signals whose action is still
/// the default; the handler removes the folders, then ends the process by the same signal, as
/// the default action would. A signal ignored or handled by someone else is left alone.
enum ScratchFolders {
    private struct State: ~Copyable {
        var folders: Set<String> = []
        var sources: [any DispatchSourceSignal] = []
        var installed = false
    }

    private static let state = Mutex(State())
    private static let signals: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    /// Removes `path` if the process is stopped by a signal before `remove(_:)`.
    static func add(_ path: String) {
        state.withLock { state in
            state.folders.insert(path)
            guard !state.installed else { return }
            state.installed = true
            for number in signals {
                // The signal's action before: kept when it is not the default.
                let previous = signal(number, SIG_IGN)
                guard previous == nil else {  // SIG_DFL
                    signal(number, previous)
                    continue
                }
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { stop(by: number) }
                source.resume()
                state.sources.append(source)
            }
        }
    }

    /// Removes `path` and forgets it.
    static func remove(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
        _ = state.withLock { $0.folders.remove(path) }
    }

    /// Removes every folder, then ends the process by `number` (its default action).
    private static func stop(by number: Int32) {
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
