import Foundation

/// The environment lock: a run with production steps holds a lock on its service and environment
/// for as long as it is open (paused or crashed included), so no second such run changes the same
/// environment at the same time (docs/FORMAT.md, "Environment locks").
///
/// The lock is a property of the open run, not of a process: a run holds it when its journal says
/// so (`run.started`'s `lock`, or a later `lock.taken`, with no `lock.released` since) and the run
/// has not ended. The files in the runs folder's `.locks/` only name the holders for people and
/// for the one case the journals cannot show (a journal whose first line no longer reads); every
/// decision is taken under an exclusive `flock` on that folder, so two runs started at the same
/// instant are decided one after the other. Whatever cannot be checked (a journal that does not
/// verify, is gone, or a lock file runsheet cannot match to a run) keeps the lock held.
public enum EnvironmentLock {
    /// What a lock is: its service and environment in one canonical form (`canonical`).
    public struct Key: Hashable, Sendable {
        public var service: String
        public var environment: String

        public init(service: String, environment: String) {
            self.service = Self.canonical(service)
            self.environment = Self.canonical(environment)
        }

        /// As people's names are compared (`PersonName.canonical`: invisible characters removed,
        /// trimmed, NFKC, case-folded), with every run of white space inside made one space: `Prod`,
        /// ` prod ` and `ＰＲＯＤ` are one environment.
        public static func canonical(_ text: String) -> String {
            PersonName.canonical(text).split(whereSeparator: \.isWhitespace).joined(separator: " ")
        }

        /// The lock's part of a lock file's name: 16 hex digits of SHA-256 over the canonical key.
        public var stem: String { String(SHA256Hex.of(service + "\u{0}" + environment).prefix(16)) }
    }

    /// The lock a run of `runbook` with `values` takes, or nil when it changes no production. The
    /// service and environment are the ones the run records for metrics (a parameter of that name,
    /// else the front matter's); without a service, the runbook's id; without an environment,
    /// `production`.
    public static func claim(for runbook: Runbook, values: [String: String]) -> LockClaim? {
        guard runbook.production || runbook.steps.contains(where: \.production) else { return nil }
        func given(_ text: String?) -> String? { text.flatMap { Key.canonical($0).isEmpty ? nil : $0.trimmed } }
        return LockClaim(service: given(values["service"]) ?? given(runbook.service) ?? runbook.id,
                         environment: given(values["environment"]) ?? given(runbook.environment) ?? "production",
                         mode: runbook.concurrent ? .shared : .exclusive)
    }

    /// Whether two holders of one key may not hold it together: unless both share it.
    public static func conflict(_ a: LockClaim.Mode, _ b: LockClaim.Mode) -> Bool { a == .exclusive || b == .exclusive }

    /// A run that holds a lock, as the journals and lock files of a runs folder show it.
    public struct Holder: Sendable, Equatable {
        public var runID: String
        /// The lock file stem of the key (`Key.stem`).
        public var stem: String
        /// The lock as the run's journal records it, else as its lock file names it; nil when
        /// neither can be read.
        public var claim: LockClaim?
        /// Who took the lock and when, when known.
        public var person: String?
        public var since: String?
        /// Where the run stands: the step it is on, when its journal could be read.
        public var cursor: String?
        /// Why the lock counts as held though its holder could not be checked (fail closed):
        /// "its journal does not verify (…)", "its journal is gone"…; nil for an open run.
        public var problem: String?

        /// Exclusive when unknown: what cannot be read claims most.
        public var mode: LockClaim.Mode { problem == nil ? claim?.mode ?? .exclusive : .exclusive }

        /// "checkout / prod", or the lock file's stem when the name is unknown.
        public var lockName: String { claim?.shownName ?? "lock \(stem)" }

        /// "run R (alice since T, at step 'switch')" or "run R, whose journal does not verify (…)".
        public var description: String {
            if let problem { return "run \(runID.shown), \(problem)" }
            var parts: [String] = []
            if let person { parts.append("taken by \(person.shown)" + (since.map { " at \($0.shown)" } ?? "")) }
            parts.append(cursor.map { "now at step '\($0.shown)'" } ?? "now at its end")
            return "run \(runID.shown) (" + parts.joined(separator: ", ") + ")"
        }
    }

    /// Refusals of `unlock` and of a resume that would take a lock another run holds.
    public enum Refusal: Error, Equatable, LocalizedError {
        case notHeld(String)
        case reasonRequired
        case noRolesFile(String)
        case separation(String)

        public var errorDescription: String? {
            switch self {
            case .notHeld(let why), .noRolesFile(let why), .separation(let why): why
            case .reasonRequired: "unlock needs --reason saying why the lock may be released"
            }
        }
    }

    /// A `lock.released` event for the lock `state`'s run holds, by `signer` as an exception role
    /// (`Governance.exceptionRoles`) the roles file gives them, who neither started nor drove the run.
    public static func release(state: RunState, signer: Actor, role requested: String?, reason: String,
                               governance: Governance) throws -> RunEvent {
        guard !state.finished, let lock = state.lock, state.holdsLock else {
            throw Refusal.notHeld("run \(state.runID) no longer holds a lock" + (state.outcome.map { " (it has ended: \($0.rawValue))" } ?? "") + ", so nothing was written")
        }
        guard !reason.isBlank else { throw Refusal.reasonRequired }
        let needed = governance.exceptionRoles
        guard let roles = governance.roles else {
            throw Refusal.noRolesFile("no roles file applies to \(state.runbookPath), so nobody holds one of \(needed.joined(separator: ", ")) and nobody may release the lock of run \(state.runID)")
        }
        if PersonName.same(signer.name, state.startedBy) {
            throw Refusal.separation("\(signer.name) started run \(state.runID) and may not release its lock; ask someone holding \(needed.joined(separator: " or ")) who did not, or end the run ('runsheet resume \(state.runID)', then abort)")
        }
        if state.drove(signer.name) {
            throw Refusal.separation("\(signer.name) drove run \(state.runID) and may not release its lock; ask someone holding \(needed.joined(separator: " or ")) who did not, or end the run ('runsheet resume \(state.runID)', then abort)")
        }
        let purpose = "release an environment lock"
        let role = try SignOffs.role(for: signer.name, among: needed, requested: requested, roles: roles, purpose: purpose,
                                     refusal: .noRoleFor(signer: signer.name, needed: needed, purpose: purpose,
                                                         holders: SignOffs.holders(of: needed, in: roles)))
        return try RunEvent(by: signer, .lockReleased(LockReleased(lock: lock, role: role, reason: reason.trimmed, rules: governance.ruleFiles)))
    }
}

/// The `.locks` folder of a runs folder: its guard, its lock files, and the holders the journals
/// and lock files show.
public final class LockFolder: @unchecked Sendable {  // immutable
    public static let folderName = ".locks"

    public let runsDirectory: String
    public let path: String

    public init(runsDirectory: String) {
        self.runsDirectory = runsDirectory
        path = (runsDirectory as NSString).appendingPathComponent(Self.folderName)
    }

    /// An exclusive `flock` on the `.locks` folder, held until released or deinitialised: every
    /// decision about a lock is taken under it.
    public final class Guard: @unchecked Sendable {  // one owner
        private var descriptor: Int32

        init(_ descriptor: Int32) { self.descriptor = descriptor }

        public func release() {
            guard descriptor >= 0 else { return }
            closeFile(descriptor)
            descriptor = -1
        }

        deinit { release() }
    }

    public enum Failure: Error, LocalizedError {
        case system(path: String, operation: String, errno: Int32)
        case busy(path: String)
        /// The lock folder is a symbolic link or another kind of file: refused, as its guard would be taken elsewhere.
        case notAFolder(path: String, kind: String)

        public var errorDescription: String? {
            switch self {
            case .notAFolder(let path, let kind): "\(path) is \(kind), not a folder, and runsheet refuses it, so nothing was written: the lock folder must be a real folder in the runs folder (remove it and runsheet makes one)"
            case .system(let path, let operation, let code): "\(path): \(operation) failed: \(String(cString: strerror(code)))"
            case .busy(let path): "\(path) stayed locked by another runsheet for 30 seconds; nothing was written (is a runsheet process stopped?)"
            }
        }
    }

    /// Takes the folder's guard, making the folder (mode 0755: other accounts sharing the runs folder take the same guard) when it is missing. Waits while
    /// another runsheet decides (a moment), at most 30 seconds.
    public func take() throws -> Guard {
        try FileManager.default.createDirectory(atPath: runsDirectory, withIntermediateDirectories: true)
        if mkdir(path, 0o755) != 0 && errno != EEXIST { throw Failure.system(path: path, operation: "mkdir", errno: errno) }
        var status = stat()
        if lstat(path, &status) == 0, status.st_mode & S_IFMT != S_IFDIR {
            throw Failure.notAFolder(path: path, kind: status.st_mode & S_IFMT == S_IFLNK ? "a symbolic link" : "a file")
        }
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw Failure.system(path: path, operation: "open", errno: errno) }
        let deadline = Date().addingTimeInterval(30)
        while LibC.flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            guard code == EWOULDBLOCK || code == EINTR else {
                closeFile(fd)
                throw Failure.system(path: path, operation: "flock", errno: code)
            }
            guard Date() < deadline else {
                closeFile(fd)
                throw Failure.busy(path: path)
            }
            usleep(2_000)
        }
        return Guard(fd)
    }

    /// The lock file of `runID` on the key with `stem`.
    public func filePath(stem: String, runID: String) -> String {
        (path as NSString).appendingPathComponent("\(stem).\(runID).lock")
    }

    /// What a lock file says, for people: the lock, the run, who took it and when.
    public struct Record: Codable, Sendable, Equatable {
        public var service: String
        public var environment: String
        public var mode: LockClaim.Mode
        public var run: String
        public var person: String
        public var since: String
    }

    /// Writes the lock file of `runID` (a new file renamed over the old, so it is never half there).
    public func write(_ claim: LockClaim, runID: String, person: String, since: String) throws {
        let record = Record(service: claim.service, environment: claim.environment, mode: claim.mode, run: runID, person: person, since: since)
        var line = try JSONEncoder.sorted.encode(record)
        line.append(0x0A)
        let final = filePath(stem: claim.key.stem, runID: runID)
        let temporary = (path as NSString).appendingPathComponent(".\(runID).\(getpid()).tmp")
        let fd = try RegularFile.descriptor(temporary, O_WRONLY | O_CREAT | O_TRUNC)
        defer { closeFile(fd) }
        let written = line.withUnsafeBytes { LibC.write(fd, $0.baseAddress, $0.count) }
        guard written == line.count, fsync(fd) == 0 else { throw Failure.system(path: temporary, operation: "write", errno: errno) }
        guard rename(temporary, final) == 0 else { throw Failure.system(path: final, operation: "rename", errno: errno) }
    }

    /// Removes the lock files of `runID` (all keys); the journal has already said the lock is free.
    public func removeFiles(of runID: String) {
        for name in lockFileNames() where Self.parse(name)?.runID == runID {
            unlink((path as NSString).appendingPathComponent(name))
        }
    }

    /// Removes the lock files whose runs no longer hold a lock (they ended, or were released),
    /// given the `holders` just found under the guard.
    public func removeStale(keeping holders: [EnvironmentLock.Holder]) {
        let holding = Set(holders.map(\.runID))
        for name in lockFileNames() {
            guard let (_, runID) = Self.parse(name), !holding.contains(runID) else { continue }
            unlink((path as NSString).appendingPathComponent(name))
        }
    }

    private func lockFileNames() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasSuffix(".lock") && !$0.hasPrefix(".") }.sorted()
    }

    /// A lock file's name, `<stem>.<run id>.lock`, read back; nil when it is not one.
    static func parse(_ name: String) -> (stem: String, runID: String)? {
        guard name.hasSuffix(".lock") else { return nil }
        let body = name.dropLast(5)
        guard let dot = body.firstIndex(of: "."), body.distance(from: body.startIndex, to: dot) == 16 else { return nil }
        let stem = String(body[..<dot]), runID = String(body[body.index(after: dot)...])
        guard stem.allSatisfy(\.isHexDigit), !runID.isEmpty, !runID.hasPrefix("."), !runID.contains("/") else { return nil }
        return (stem, runID)
    }

    /// Every run that holds a lock in this runs folder, as its journal shows it; fail closed for
    /// what cannot be checked. Sorted by lock, then run. Take the guard first when deciding.
    public func holders() -> [EnvironmentLock.Holder] {
        var examined: [String: EnvironmentLock.Holder?] = [:]
        // Each run whose first line claims a lock, and each run a lock file names.
        var candidates: [(runID: String, stem: String?)] = []
        let manager = FileManager.default
        for id in ((try? manager.contentsOfDirectory(atPath: runsDirectory)) ?? []).sorted() where !id.hasPrefix(".") {
            let journal = journalPath(id)
            guard manager.fileExists(atPath: journal) || RegularFile.otherKind(at: journal) != nil else { continue }
            switch Self.firstLine(journal, runID: id) {
            case .noLock: continue
            case .lock: candidates.append((id, nil))
            case .unreadable: candidates.append((id, "!"))
            }
        }
        let files = lockFileNames()
        for name in files {
            guard let (stem, runID) = Self.parse(name) else {
                // A file in the lock folder's own form that runsheet cannot read is a lock nobody can check.
                candidates.append((name, "?"))
                continue
            }
            candidates.append((runID, stem))
        }
        // Each run is examined once (its journal verified whole), the runs side by side.
        var order: [(runID: String, stem: String?)] = []
        var seen = Set<String>()
        for (runID, stem) in candidates where stem != "?" && stem != "!" && seen.insert(runID).inserted { order.append((runID, stem)) }
        for (runID, holder) in order.parallelMap({ [self] in ($0.runID, examine($0.runID, fileStem: $0.stem)) }) { examined[runID] = .some(holder) }
        var holders: [EnvironmentLock.Holder] = []
        for (runID, fileStem) in candidates {
            if fileStem == "?" {
                holders.append(.init(runID: runID, stem: "?", claim: nil, problem: "named by a lock file whose name runsheet cannot read (\(Self.folderName)/\(runID.shown))"))
                continue
            }
            if fileStem == "!" {
                // Unless its lock file says which lock it is, a run whose first line cannot be read holds every lock.
                if !files.contains(where: { Self.parse($0)?.runID == runID }) {
                    holders.append(.init(runID: runID, stem: "?", claim: nil, problem: "whose journal's first line cannot be read (\(journalPath(runID).shown)), so runsheet cannot tell which lock it holds"))
                }
                continue
            }
            if examined[runID] == nil { examined[runID] = .some(examine(runID, fileStem: fileStem)) }
            guard var holder = examined[runID] ?? nil else { continue }
            // A lock file on another key than the journal's: held on that key too, as the file says.
            if let fileStem, fileStem != holder.stem, holder.problem == nil {
                holder.stem = fileStem
                holder.claim = record(stem: fileStem, runID: runID).map { LockClaim(service: $0.service, environment: $0.environment, mode: .exclusive) }
                holder.problem = "named by a lock file on another service or environment than its journal records"
            }
            if !holders.contains(where: { $0.runID == holder.runID && $0.stem == holder.stem }) { holders.append(holder) }
        }
        return holders.sorted { ($0.lockName, $0.runID) < ($1.lockName, $1.runID) }
    }

    /// The holders whose lock conflicts with `claim` for a run other than `runID`.
    public func conflicts(with claim: LockClaim, excluding runID: String? = nil) -> [EnvironmentLock.Holder] {
        conflicts(with: claim, among: holders(), excluding: runID)
    }

    public func conflicts(with claim: LockClaim, among holders: [EnvironmentLock.Holder], excluding runID: String? = nil) -> [EnvironmentLock.Holder] {
        let stem = claim.key.stem
        return holders.filter { $0.runID != runID && ($0.stem == stem || $0.stem == "?") && EnvironmentLock.conflict(claim.mode, $0.mode) }
    }

    private func journalPath(_ runID: String) -> String {
        (runsDirectory as NSString).appendingPathComponent(runID) + "/journal.jsonl"
    }

    private func record(stem: String, runID: String) -> Record? {
        guard let fd = try? RegularFile.descriptor(filePath(stem: stem, runID: runID), O_RDONLY) else { return nil }
        let file = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        guard let data = try? file.read(upToCount: 1 << 16) else { return nil }
        return try? JSONDecoder().decode(Record.self, from: data)
    }

    /// The run `runID` as a lock holder: nil when its journal verifies and shows the run ended or
    /// its lock released; held, with the problem, when the journal cannot be checked.
    private func examine(_ runID: String, fileStem: String?) -> EnvironmentLock.Holder? {
        let fromFile = fileStem.flatMap { record(stem: $0, runID: runID) }
        let fileClaim = fromFile.map { LockClaim(service: $0.service, environment: $0.environment, mode: $0.mode) }
        func unchecked(_ problem: String) -> EnvironmentLock.Holder {
            .init(runID: runID, stem: fileStem ?? fileClaim?.key.stem ?? "?", claim: fileClaim, person: fromFile?.person,
                  since: fromFile?.since, problem: problem)
        }
        guard runID.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            return unchecked("named by a lock file with a name that is no run id")
        }
        let journal = journalPath(runID)
        guard FileManager.default.fileExists(atPath: journal) || RegularFile.otherKind(at: journal) != nil else {
            return unchecked("whose journal is gone (\(journal.shown))")
        }
        let fold: JournalFold
        do {
            fold = try JournalFile.verifiedState(at: journal, repair: false)
        } catch {
            return unchecked("whose journal cannot be read (\(((error as? LocalizedError)?.errorDescription ?? "\(error)").shown))")
        }
        if let problem = fold.problem {
            var holder = unchecked("whose journal does not verify (\(journal.shown):\(problem.line): \(problem.message.shown))")
            if holder.claim == nil, let lock = fold.state.lock { (holder.claim, holder.stem) = (lock, lock.key.stem) }
            return holder
        }
        let state = fold.state
        // Another run's journal put in this folder (an ended one, to free the lock) says nothing
        // about the run the folder holds: fail closed.
        guard state.runID == runID else {
            var holder = unchecked("whose journal is the journal of another run (\(state.runID.shown)), so runsheet cannot tell whether it ended")
            if holder.claim == nil, let lock = state.lock { (holder.claim, holder.stem) = (lock, lock.key.stem) }
            return holder
        }
        guard !state.finished, state.holdsLock, let lock = state.lock else { return nil }
        return .init(runID: runID, stem: lock.key.stem, claim: lock, person: state.lockTakenBy, since: state.lockSince,
                     cursor: state.cursor)
    }

    /// What a journal's first line says about locks; only that line is read.
    enum FirstLine { case noLock, lock, unreadable }

    /// A first line that is not a `run.started` event with its own hash right, or that starts
    /// another run than `runID` (the folder's name: a journal swapped in), cannot say which lock
    /// the run holds: `unreadable`, which keeps every lock of the runs folder held (fail closed).
    static func firstLine(_ path: String, runID: String) -> FirstLine {
        guard let fd = try? RegularFile.descriptor(path, O_RDONLY) else { return .unreadable }
        let file = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        var line = Data()
        while line.count < 1 << 24, let chunk = try? file.read(upToCount: 1 << 16), !chunk.isEmpty {
            if let end = chunk.firstIndex(of: 0x0A) {
                line += chunk[chunk.startIndex..<end]
                break
            }
            line += chunk
        }
        guard let event = try? JSONDecoder().decode(RunEvent.self, from: line), (try? event.computedHash()) == event.hash,
              case .runStarted(let started)? = try? event.payload(), started.runId == runID else { return .unreadable }
        return started.lock != nil ? .lock : .noLock
    }
}
