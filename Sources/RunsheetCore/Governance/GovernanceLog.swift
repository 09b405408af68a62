import Foundation

/// One line of a governance log: a halt, a lift or a release's closure (docs/JOURNAL.md,
/// "Governance logs"). The same shape, canonical encoding and hash chain as a journal event, with
/// a `type` of its own: these acts are about the repository, not one run.
public struct GovernanceRecord: Sendable, Equatable, Codable {
    public var seq: Int
    public var time: String
    public var type: String
    public var actor: String
    public var canonical: String?
    public var host: String
    public var via: String
    public var uid: Int?
    public var login: String?
    public var data: [String: JSONValue]
    /// The repository it was written in (`RepositoryIdentity`); nil outside Git.
    public var repository: String?
    public var signature: String?
    public var prev: String
    public var hash: String

    public init(type: String, by actor: Actor, data: [String: JSONValue], repository: String? = nil, time: String = Timestamp.now()) {
        (seq, self.time, self.type, self.data, self.repository, prev, hash) = (0, time, type, data, repository, "", "")
        (self.actor, canonical, host, via, uid, login) = (actor.name, actor.canonical ?? PersonName.canonical(actor.name), actor.host, actor.via, actor.uid, actor.login)
    }

    /// Keys sorted, no whitespace, slashes unescaped: the journal's canonical encoding.
    public func canonicalBytes() throws -> [UInt8] { Array(try RunEvent.canonicalEncoder.encode(self)) }

    public func computedHash() throws -> String {
        var copy = self
        copy.hash = ""
        return SHA256Hex.of(try copy.canonicalBytes())
    }

    /// What a signature covers: the canonical encoding without `seq`, `prev`, `hash` and
    /// `signature`, with the log's name as `log`, so it never verifies in another log. It holds
    /// the repository, so it names this repository's act only.
    public func signedBytes(log: String) throws -> [UInt8] {
        Array(try RunEvent.canonicalEncoder.encode(SignedView(self, log: log)))
    }

    private struct SignedView: Encodable {
        var actor: String, canonical: String?, data: [String: JSONValue], host: String, log: String, login: String?
        var repository: String?, time: String, type: String, uid: Int?, via: String
        init(_ record: GovernanceRecord, log: String) {
            (actor, canonical, data, host, self.log, login) = (record.actor, record.canonical, record.data, record.host, log, record.login)
            (repository, time, type, uid, via) = (record.repository, record.time, record.type, record.uid, record.via)
        }
    }

    /// SHA-256 of what a signature covers (`signedBytes`): names this one act, wherever its
    /// line stands in the file; a lift names the halts it lifts by it.
    public func contentHash(log: String) -> String {
        SHA256Hex.of((try? signedBytes(log: log)) ?? [])
    }

    /// Why this record's signature does not verify against `signers`; nil when it does.
    public func signatureProblem(log: String, signers: AllowedSigners?) -> String? {
        guard let armored = signature else { return nil }
        let principal = canonical ?? PersonName.canonical(actor)
        guard PersonName.canonical(actor) == principal else { return "its actor \(actor.shown) is not the person its canonical name \(principal.shown) says" }
        guard let signers else { return "it is signed, but the repository has no \(AllowedSigners.relativePath) saying whose key is whose" }
        guard let date = Timestamp.parseJournalFormat(time), let message = try? signedBytes(log: log) else { return "its time or fields cannot be read" }
        switch SSHSignature.verify(armored: armored, message: message, principal: principal, namespace: "runsheet", at: date, signers: signers) {
        case .success: return nil
        case .failure(let problem): return problem.errorDescription ?? "\(problem)"
        }
    }
}

/// An append-only, hash-chained file of `GovernanceRecord`s in the repository's `.runsheet/`:
/// `halts.jsonl`, `closures.jsonl`. Appends take an exclusive lock, check the file as it stands,
/// and are durable (fsync) before they return; a file that does not verify is never appended to.
public struct GovernanceLog: Sendable {
    public var path: String
    /// `halts` or `closures`: what a signature names as `log`.
    public var name: String

    public init(path: String, name: String) {
        self.path = path
        self.name = name
    }

    /// Why the log cannot be trusted: where, and what is wrong. One sentence.
    public struct Problem: Error, Equatable, LocalizedError {
        public var path: String
        public var line: Int?
        public var message: String
        public var errorDescription: String? { "\(path)\(line.map { ":\($0)" } ?? "") does not verify: \(message)" }

        public init(path: String, line: Int?, message: String) {
            (self.path, self.line, self.message) = (path, line, message)
        }
    }

    /// The repository's `.runsheet/` folder seen from `directory`: the one holding the top-most
    /// roles file up to the Git root, as the roles file itself is found; nil when there is none.
    public static func ruleFolder(from directory: String) -> String? {
        let absolute = directory.hasPrefix("/") ? directory : FileManager.default.currentDirectoryPath + "/" + directory
        var folder = PathText.normalized(absolute)
        var found: String?
        while true {
            let prefix = folder.hasSuffix("/") ? folder : folder + "/"
            if access(prefix + RolesFile.relativePath, F_OK) == 0 { found = prefix + ".runsheet" }
            if folder == "/" || folder.isEmpty || RepositoryFile.isRepositoryRoot(prefix, loader: Compiler.disk) { break }
            folder = (folder as NSString).deletingLastPathComponent
        }
        return found
    }

    /// Every record, checked: each line is the canonical encoding of its record, `seq` counts
    /// from 1, `prev` is the hash before it and `hash` its own. No file: no records.
    public func read() throws(Problem) -> [GovernanceRecord] {
        var info = stat()
        if lstat(path, &info) != 0 {
            if errno == ENOENT {
                if try CommittedLog.head(of: path) != nil { throw CommittedLog.problem(path: path) }
                return []
            }
            throw Problem(path: path, line: nil, message: "it cannot be read (\(String(cString: strerror(errno))))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw Problem(path: path, line: nil, message: "it is not a regular file") }
        let bytes: [UInt8]
        do { bytes = try FileReader.read(path) } catch {
            throw Problem(path: path, line: nil, message: "it cannot be read (\((error as? LocalizedError)?.errorDescription ?? "\(error)"))")
        }
        if let committed = try CommittedLog.head(of: path), !bytes.starts(with: committed) { throw CommittedLog.problem(path: path) }
        return try Self.records(in: bytes, path: path)
    }

    static func records(in bytes: [UInt8], path: String) throws(Problem) -> [GovernanceRecord] {
        guard !bytes.isEmpty else { return [] }
        guard bytes.last == UInt8(ascii: "\n") else {
            throw Problem(path: path, line: bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).count,
                          message: "its last line is cut short (no line end), as a write that did not finish leaves it")
        }
        var records: [GovernanceRecord] = []
        let decoder = JSONDecoder()
        for (index, line) in bytes.dropLast().split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            func fail(_ message: String) -> Problem { Problem(path: path, line: number, message: message) }
            guard let record = try? decoder.decode(GovernanceRecord.self, from: Data(line)) else { throw fail("the line is not a record runsheet writes") }
            guard (try? record.canonicalBytes()) == Array(line) else { throw fail("the line is not in canonical form, so it was edited by hand") }
            guard record.seq == number else { throw fail("its seq is \(record.seq), not \(number)") }
            guard record.prev == (records.last?.hash ?? "") else { throw fail("its prev does not match the hash of the line before, so a line was removed, added or edited") }
            guard (try? record.computedHash()) == record.hash else { throw fail("its hash does not match its contents, so it was edited") }
            records.append(record)
        }
        return records
    }

    /// Appends `record` (signed by `signer` when given) after `check` accepts the log as it
    /// stands under the lock; returns it as written.
    @discardableResult
    public func append(_ record: GovernanceRecord, signer: EventSigner?, check: ([GovernanceRecord]) throws -> Void) throws -> GovernanceRecord {
        var record = record
        if let signer {
            record.signature = nil
            record.signature = try signer.signature(over: record.signedBytes(log: name))
        }
        let existed = access(path, F_OK) == 0
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw Problem(path: path, line: nil, message: "it cannot be opened for writing (\(String(cString: strerror(errno))))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { throw Problem(path: path, line: nil, message: "it is not a regular file") }
        guard flock(fd, LOCK_EX) == 0 else { throw Problem(path: path, line: nil, message: "it cannot be locked") }
        defer { flock(fd, LOCK_UN) }
        let records = try read()
        try check(records)
        record.seq = records.count + 1
        record.prev = records.last?.hash ?? ""
        record.hash = ""
        record.hash = try record.computedHash()
        let line = try record.canonicalBytes() + [UInt8(ascii: "\n")]
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == line.count, fsync(fd) == 0 else {
            throw Problem(path: path, line: record.seq, message: "the record could not be written whole (\(String(cString: strerror(errno))))")
        }
        if !existed {
            let folder = open((path as NSString).deletingLastPathComponent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if folder >= 0 {
                fsync(folder)
                close(folder)
            }
        }
        return record
    }
}
