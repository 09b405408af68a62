import Foundation
import RunsheetCore
import RunsheetPostgres
import Synchronization

/// The session that drives a run of the PostgreSQL store (`run`, `resume` on the store): one
/// connection of its own holds the run's lease, the service/environment lock and the configuration
/// items as session advisory locks (the server drops them when the connection ends, however the
/// process ends), listens for other machines' events on `runsheet_run`, and carries the session's
/// appends (`StoreMirrorJournal`). The session works on a private local copy of the run folder,
/// which the store feeds: every event is committed to the store before it is written to the copy,
/// so the copy never holds what the store does not (docs/TEAMS.md, "Running on the store").
final class StoreRunSession: @unchecked Sendable {  // immutable after init but for `follower`, guarded by `state`
    let url: String
    let runID: String
    let connection: StoreConnection
    /// The store's URL, redacted, as messages name it.
    let shown: String
    private let state = Mutex<(listeners: [Task<Void, Never>], follower: Thread?, stopped: Bool, halts: StoreGovernanceMirror?)>(([], nil, false, nil))
    private let wake = DispatchSemaphore(value: 0)
    /// Signalled when the follower has stopped.
    private let followed = DispatchSemaphore(value: 0)
    /// How long the session waits for the store to answer one step (docs/TEAMS.md).
    static let answerWithin = 15.0
    /// How long the follower's look for others' events may take.
    static let followWithin = 5.0

    init(url: String, runID: String) throws {
        (self.url, self.runID, shown) = (url, runID, ConnectionSettings.redacted(url))
        connection = try StoreAccess.open(url)
    }

    /// Takes the run's lease, before anything is written: exit 5 naming the session that holds it.
    func takeLease(for actor: Actor) throws {
        let holder = "\(actor.name) on \(actor.host), pid \(getpid())"
        if let other = try lock(.lease, key: runID, holder: holder) {
            throw CommandFailure(status: .leased, message: "run \(runID.shown) in the store \(shown) is being driven by another session (\(other)); " +
                                 "one session drives a run at a time, so nothing was written: the lease ends when that session does")
        }
    }

    /// Takes the service/environment lock `claim` names and the configuration items `items`, each
    /// as a session lock of this connection; exit 5 naming the holder of the first one taken.
    func takeLocks(_ claim: LockClaim?, items: [String], actor: Actor, refused what: String) throws {
        let holder = "run \(runID) by \(actor.name) on \(actor.host), pid \(getpid())"
        var taken: [(RunStore.LockKind, String)] = []
        if let claim {
            let key = EnvironmentLock.Key(service: claim.service, environment: claim.environment)
            let joined = key.service + "\u{1F}" + key.environment
            if let other = try lock(.environment, key: joined, holder: holder, shared: claim.mode == .shared, naming: false) {
                throw CommandFailure(status: .leased, message: "the lock on \(claim.shownName) is held in the store \(shown) by \(other); one run changes a service and environment at a time, so \(what)")
            }
            taken.append((.environment, joined))
        }
        for item in Set(items.map(EnvironmentLock.Key.canonical)).sorted() {
            if let other = try lock(.item, key: item, holder: holder, naming: false) {
                throw CommandFailure(status: .leased, message: "configuration item '\(item.shown)' is being changed in the store \(shown) by \(other); one open run changes a configuration item at a time, so \(what)")
            }
            taken.append((.item, item))
        }
        // Named only once all are held (a refused start names nobody).
        let connection = connection, runID = runID
        for (kind, key) in taken {
            try StoreAccess.wait(seconds: Self.answerWithin, store: shown) { try await RunStore.nameHolder(connection, kind, key: key, run: runID, holder: holder) }
        }
    }

    private func lock(_ kind: RunStore.LockKind, key: String, holder: String, shared: Bool = false, naming: Bool = true) throws -> String? {
        let connection = connection, runID = runID
        return try StoreAccess.wait(seconds: Self.answerWithin, store: shown) {
            try await RunStore.takeSessionLock(connection, kind, key: key, run: runID, holder: holder, shared: shared, naming: naming)
        }
    }

    /// Listens for events others commit to the run and hands them to `journal` within a moment
    /// (LISTEN/NOTIFY; a look every second besides, in case a notification is missed).
    func follow(_ journal: StoreMirrorJournal) throws {
        let connection = connection, runID = runID, wake = wake
        let listeners = [
            try StoreAccess.wait(seconds: Self.answerWithin, store: shown) { try await RunStore.listen(connection, to: runID) { wake.signal() } },
            // A halt declared or lifted anywhere on the store.
            try StoreAccess.wait(seconds: Self.answerWithin, store: shown) {
                try await RunStore.listen(connection, channel: RunStore.governanceChannel, payload: "halts") { wake.signal() }
            },
        ]
        let followed = followed
        let follower = Thread { [weak self] in
            defer { followed.signal() }
            while let self, !self.state.withLock({ $0.stopped }) {
                _ = self.wake.wait(timeout: .now() + 1)
                if self.state.withLock({ $0.stopped }) { return }
                journal.catchUp()
                // A halts log that cannot be read now keeps its last copy; the next append reports the store.
                try? self.state.withLock({ $0.halts })?.refresh(within: Self.followWithin)
            }
        }
        follower.name = "runsheet-follow"
        state.withLock { $0.listeners = listeners; $0.follower = follower }
        follower.start()
    }

    /// The store's halts for the session's run of `runbook`: mirrored into a private file the
    /// follower keeps current, and judged by the repository's rules as the folder's halts are.
    func watchHalts(_ governance: Governance, runbook: String) throws -> HaltWatch {
        let mirror = try StoreGovernanceMirror(connection: connection, shown: shown, log: "halts")
        state.withLock { $0.halts = mirror }
        try mirror.refresh()
        let around = (runbook as NSString).deletingLastPathComponent.isEmpty ? "." : (runbook as NSString).deletingLastPathComponent
        let folder = GovernanceLog.ruleFolder(from: around) ?? around + "/.runsheet"
        return governance.haltWatch(folder: folder, signersNear: runbook, log: mirror.path)
    }

    /// Keeps the command output logs of the run folder with the run (up to the cap), quietly: a
    /// log that cannot be kept leaves its event, which names its size and SHA-256.
    func keepOutputs(of directory: String, within seconds: Double = answerWithin) {
        let logs = FolderRuns.outputLogs(directory), connection = connection, runID = runID
        _ = try? StoreAccess.wait(seconds: seconds, store: shown) { try await RunStore.keep(connection, runID, files: logs) }
    }

    /// Stops listening and closes the connection, which ends every lock the session held.
    func close() {
        let (listeners, halts, following) = state.withLock { state in
            state.stopped = true
            return (state.listeners, state.halts, state.follower != nil)
        }
        wake.signal()
        // The follower may be writing the halts' copy: it ends (within its bound) before that goes.
        if following { _ = followed.wait(timeout: .now() + Self.followWithin + 1) }
        listeners.forEach { $0.cancel() }
        halts?.close()
        let connection = connection
        _ = try? StoreAccess.wait(seconds: 3, store: shown) { await RunStore.close(connection) }
    }
}

/// The journal of a run of the store as its driving session writes it: each event is checked
/// against the run as the store holds it and committed there (one statement the database commits
/// only onto the head it was checked against, as `sign` appends: `StoreJournal.append`), and only
/// then written to the session's local copy, which
/// also takes the events others committed (`catchUp`), in order and byte for byte. A store that
/// stops answering pauses the session with one sentence (exit 6); nothing acknowledged is lost.
final class StoreMirrorJournal: JournalWriter, @unchecked Sendable {  // mutable state is guarded by `lock`
    let session: StoreRunSession
    let localPath: String
    private let lock = NSLock()
    /// The run as the local copy holds it.
    private var head: RunState
    private let descriptor: Int32
    /// The sentence the session stopped on, once the store failed.
    private var failure: CommandFailure?
    /// How many events the local copy holds, readable without the lock (`stopForGood`).
    private let localCount = Atomic<Int>(0)

    /// Over the local copy at `localPath`, whose events `state` folds.
    init(session: StoreRunSession, localPath: String, state: RunState) throws {
        (self.session, self.localPath, head) = (session, localPath, state)
        localCount.store(state.eventCount, ordering: .releasing)
        descriptor = open(localPath, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { throw JournalError.system(path: localPath, operation: "open", errno: errno) }
    }

    deinit { close(descriptor) }

    /// Throws the sentence the session stopped on once the store failed (the follower found it
    /// gone while the session waited): its lease went with its connection.
    func requireWritable() throws {
        if let failure = lock.withLock({ failure }) { throw failure }
    }

    /// How many events the local copy holds.
    var count: Int { lock.withLock { head.eventCount } }

    func append(_ event: RunEvent) throws -> RunEvent {
        var state = lock.withLock { head }
        return try append(event, onto: &state, check: { _ in })
    }

    func append(_ event: RunEvent, onto state: inout RunState, check: (RunState) throws -> Void) throws -> RunEvent {
        lock.lock()
        defer { lock.unlock() }
        // A store that failed once is not waited for again: the session stops on the first failure.
        if let failure { throw failure }
        let connection = session.connection, runID = session.runID
        let within = StoreRunSession.answerWithin, shown = session.shown
        return try StoreJournal.append(event, onto: &state, check: check, runID: runID, shown: shown, within: within, read: { known in
            try stored { try StoreAccess.wait(seconds: within, store: shown) { try await RunStore.newLines(connection, runID, after: known) } }
        }, took: { bytes, next in
            // What others committed joins the local copy in order.
            if next.seq > head.eventCount { try writeLocal(bytes, next) }
        }, commit: { line, sealed in
            let outcome = try stored(committing: sealed.seq) {
                try StoreAccess.wait(seconds: within, store: shown) { try await RunStore.append(connection, runID, line: line) }
            }
            guard outcome == .committed else { return false }
            // Committed to the store, and only then written to the private copy.
            try writeLocal(line, sealed)
            return true
        })
    }

    /// Writes the events others committed since the local copy's last one into it (the follower
    /// calls this when the store announces the run); quiet on failure, as the next append reports.
    func catchUp() {
        // Read without the lock (an append waits for no read), written under it.
        guard let known = lock.withLock({ failure == nil ? head.eventCount : nil }) else { return }
        let connection = session.connection, runID = session.runID
        let lines: [[UInt8]]
        do {
            // A shorter bound than an append's: a server gone quiet is found while the operator reads.
            lines = try StoreAccess.wait(seconds: StoreRunSession.followWithin, store: session.shown) { try await RunStore.lines(connection, runID, after: known) }
        } catch let failure as CommandFailure where failure.status == .store {
            lock.withLock { if self.failure == nil { self.failure = stopping(failure) } }
            return
        } catch {
            return
        }
        lock.withLock {
            for bytes in lines {
                guard let next = try? JSONDecoder().decode(RunEvent.self, from: Data(bytes)), next.seq > head.eventCount else { continue }
                guard next.seq == head.eventCount + 1, next.prev == head.headHash, (try? writeLocal(bytes, next)) != nil else { return }
            }
        }
    }

    /// Stops the journal for good when a signal ends the session (`StoreSessionSignals`): the
    /// append under way, if any, finishes first (up to `seconds`), and none follows, since the
    /// lock is never given back. Returns how many events the store holds for certain, and
    /// whether an append was still under way when the wait ended.
    func stopForGood(within seconds: Double) -> (events: Int, unfinished: Bool) {
        let taken = lock.lock(before: Date().addingTimeInterval(seconds))
        return (localCount.load(ordering: .acquiring), !taken)
    }

    /// Appends one committed line to the local copy (the caller holds `lock`).
    private func writeLocal(_ bytes: [UInt8], _ event: RunEvent) throws {
        var line = bytes
        line.append(0x0A)
        // Under the journal's lock, as every writer takes it: a reader never sees half a line.
        _ = flock(descriptor, LOCK_EX)
        let written = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        _ = flock(descriptor, LOCK_UN)
        guard written == line.count else { throw JournalError.system(path: localPath, operation: "write", errno: errno) }
        head.apply(event)
        localCount.store(head.eventCount, ordering: .releasing)
    }

    /// Runs a step against the store; a store that cannot be used becomes the sentence that pauses the session.
    /// `committing`: the seq of the event whose commit was asked for, which may or may not have
    /// been made when no answer came.
    private func stored<T>(committing: Int? = nil, _ work: () throws -> T) throws -> T {
        do { return try work() } catch let failure as CommandFailure where failure.status == .store {
            // The database answered and refused the event: nothing of it was written, and waiting will not change that.
            if failure.message.contains("answered with an error") {
                throw CommandFailure(status: .store, message: "\(failure.message.hasSuffix(".") ? String(failure.message.dropLast()) : failure.message); nothing of this action was written")
            }
            self.failure = stopping(failure, committing: committing)
            throw self.failure!
        } catch is RunStore.RunPresence {
            throw CommandFailure(status: .store, message: "the store \(session.shown) no longer holds run \(session.runID.shown); the session stops here")
        }
    }

    /// The sentence a store failure stops the session with (the caller holds `lock`).
    private func stopping(_ failure: CommandFailure, committing: Int? = nil) -> CommandFailure {
        let unconfirmed = committing.map { ", and event \($0), whose commit was asked for and not confirmed, may be there too ('runsheet status' shows it)" } ?? ""
        return CommandFailure(status: .store, message: "\(failure.message.hasSuffix(".") ? String(failure.message.dropLast()) : failure.message); " +
                              "the session stops here with every event up to \(head.eventCount) in the store\(unconfirmed), and nothing it did not acknowledge: " +
                              "'runsheet resume \(session.runID)' continues the run once the store answers again")
    }
}
