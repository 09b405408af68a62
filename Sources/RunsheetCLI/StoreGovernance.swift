import Foundation
import RunsheetCore
import RunsheetPostgres

/// A governance log of the PostgreSQL store (`halts`, `closures`) as a file: the store's lines
/// written to a private temporary file (mode 0600 in a 0700 folder), so the code that reads and
/// appends `.runsheet/halts.jsonl` (GovernanceLog, HaltWatch) works on it unchanged. What is
/// appended to the file is then committed to the store, whose trigger refuses a record that does
/// not follow the log's head there: two people halting at once get one record each, in turn, or a
/// sentence to try again, never a fork (docs/TEAMS.md, "Halts on the store").
final class StoreGovernanceMirror: @unchecked Sendable {  // mutable state is guarded by `lock`
    let log: String
    let folder: String
    let shown: String
    private let connection: StoreConnection
    private let owned: Bool
    private let lock = NSLock()
    /// The lines as last read from the store.
    private var lines: [[UInt8]] = []

    var path: String { folder + "/" + log + ".jsonl" }

    /// The file as the folder code reads and appends it.
    var governanceLog: GovernanceLog { GovernanceLog(path: path, name: log) }

    /// The store's log `log` (on a connection of its own, closed by `close`).
    static func open(url: String, log: String) throws -> StoreGovernanceMirror {
        let mirror = try StoreGovernanceMirror(connection: StoreAccess.open(url), shown: ConnectionSettings.redacted(url), log: log, owned: true)
        do { try mirror.refresh() } catch {
            mirror.close()
            throw error
        }
        return mirror
    }

    /// The log on a session's connection (`StoreRunSession`), refreshed by its follower.
    init(connection: StoreConnection, shown: String, log: String, owned: Bool = false) throws {
        (self.connection, self.shown, self.log, self.owned) = (connection, shown, log, owned)
        do {
            // A session's (not owned) goes on SIGTERM and SIGHUP only: Ctrl-C is the session's key.
            folder = try ScratchFolders.make(log, signals: owned ? ScratchFolders.all : ScratchFolders.session)
        } catch {
            throw CommandFailure(status: .usage, message: "cannot make a private folder for the store's \(log) in \(NSTemporaryDirectory()): \((error as NSError).localizedDescription)")
        }
    }

    /// Reads the log from the store and, when it changed, puts the file in place whole (a new
    /// file renamed over the old, so a reader never sees half of it).
    func refresh(within seconds: Double = StoreRunSession.answerWithin) throws {
        let connection = connection, log = log
        let fresh = try StoreAccess.wait(seconds: seconds, store: shown) { try await RunStore.governanceLines(connection, log: log) }
        try lock.withLock {
            guard fresh != lines || !FileManager.default.fileExists(atPath: path) else { return }
            var bytes: [UInt8] = []
            for line in fresh { bytes += line; bytes.append(0x0A) }
            let staging = folder + "/." + log + "-" + UUID().uuidString
            try FolderRuns.create(staging, bytes, synced: false)
            guard rename(staging, path) == 0 else {
                _ = unlink(staging)
                throw CommandFailure(status: .usage, message: "cannot write the store's \(log) to \(path): \(String(cString: strerror(errno)))")
            }
            lines = fresh
        }
    }

    /// Commits to the store the records appended to the file since it was read; the first that no
    /// longer follows the store's head (someone appended meanwhile) is refused: one sentence, exit 1.
    func commitAppended() throws {
        let file = try FileReader.read(path)
        let all = file.split(separator: 0x0A, omittingEmptySubsequences: true).map(Array.init)
        let known = lock.withLock { lines.count }
        let connection = connection, log = log
        for line in all.dropFirst(known) {
            do {
                try StoreAccess.wait(seconds: StoreRunSession.answerWithin, store: shown) { try await RunStore.appendGovernance(connection, log: log, line: line) }
            } catch let failure as CommandFailure where failure.message.contains("does not follow its head") {
                throw CommandFailure(status: .findings, message: "the \(log) in the store \(shown) changed while this was being written; nothing was written, run it again")
            }
            lock.withLock { lines.append(line) }
        }
    }

    /// Removes the file and its folder (and closes the connection when it is this mirror's own).
    func close() {
        ScratchFolders.remove(folder)
        if owned {
            let connection = connection
            _ = try? StoreAccess.wait(seconds: 3, store: shown) { await RunStore.close(connection) }
        }
    }
}
