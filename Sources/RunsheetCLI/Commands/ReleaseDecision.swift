import Foundation
import RunsheetCore
import RunsheetPostgres

/// The readiness decision for a release file, with what the repository's governance logs add:
/// halts in force (blocking) and the release's closure (who, when, later runs, a PIR follow-up).
/// What `readiness` shows and what `release close` records.
enum ReleaseDecision {
    /// `store` is `--store`: on a PostgreSQL store the release's runs come from it (`ReleaseRuns`).
    static func decide(_ path: String, at now: Date, rewound: Bool, runsDir: String?, store: String? = nil) throws -> (Release, ReadinessReport, [ReadinessReport.Evidence]) {
        let bytes: [UInt8]
        do {
            bytes = try FileReader.read(path)
        } catch {
            throw CommandFailure(status: .usage, message: RunbookFiles.describe(error, path: path))
        }
        let parsed: Release
        do {
            parsed = try Release.parse(path: path, bytes: bytes)
        } catch let problem as Release.Problem {
            throw CommandFailure(status: .usage, message: problem.errorDescription ?? problem.message)
        }
        let folder = (path as NSString).deletingLastPathComponent
        let stored = try ReleaseRuns.fromStore(store, release: parsed)
        defer { stored?.close() }
        let runsDirectory = RunContext.runsDirectory(explicit: runsDir, near: folder.isEmpty ? "." : folder)
        // The store's runs were bound to the release's repository one by one as they were fetched.
        if stored == nil, let refusal = RunBinding.readinessRefusal(release: path, runsDirectory: runsDirectory) {
            throw CommandFailure(status: .usage, message: refusal)
        }
        let folders = stored.map(RunFolders.init) ?? RunFolders(runsDirectory)
        let evidence = try parsed.requires.map { try Readiness.evidence($0, rollback: false, runs: folders.runs(of:)) }
            + parsed.rollback.map { try Readiness.evidence($0, rollback: true, runs: folders.runs(of:)) }
        // A broken run that names no runbook and none of the release's claims by its folder name.
        for record in folders.leftOut() {
            if let fault = record.fault { Output.error("run \(record.id) is left out: \(fault.location): \(fault.message)") }
        }
        var report = ReadinessReport.evaluate(parsed, evidence: evidence, now: now, rewound: rewound, runsheetVersion: RunsheetCommand.version)
        annotate(&report, release: parsed, evidence: evidence, now: now, store: try StoreRoute.postgresURL(store))
        return (parsed, report, evidence)
    }

    /// The facts of each run of the release's runbooks that verifies: id, start, service, environment, rollback.
    struct RunFacts {
        var id: String
        var started: Date?
        var service: String?
        var environment: String?
        var rolledBack: Bool
    }

    static func facts(_ evidence: [ReadinessReport.Evidence], now: Date) -> [RunFacts] {
        evidence.filter { !$0.rollback }.flatMap(\.runs).compactMap { record -> RunFacts? in
            guard let events = record.events, let first = events.first, let started = Timestamp.parse(first.time), started <= now else { return nil }
            var facts = RunFacts(id: record.id, started: started, service: nil, environment: nil, rolledBack: false)
            if case .runStarted(let payload)? = try? first.payload() { (facts.service, facts.environment) = (payload.service, payload.environment) }
            facts.rolledBack = events.contains { event in
                guard let time = Timestamp.parse(event.time), time <= now, case .branchTaken(let taken)? = try? event.payload() else { return false }
                return taken.kind == "failure"
            }
            return facts
        }
    }

    /// Adds the halts in force that stop the release's runs (blocking) and its closure.
    static func annotate(_ report: inout ReadinessReport, release: Release, evidence: [ReadinessReport.Evidence], now: Date, store: String? = nil) {
        let folder = (release.path as NSString).deletingLastPathComponent
        let near = folder.isEmpty ? "." : folder
        let runs = facts(evidence, now: now)
        let link = (release.path as NSString).lastPathComponent
        switch HaltStatus.book(near: near, store: store) {
        case nil: break
        case .failure(let problem)?:
            report.blockers.append(.governance(item: "halts", text: "\(problem.errorDescription ?? problem.message), so production may be halted", link: link,
                                               location: problem.path + (problem.line.map { ":\($0)" } ?? "")))
        case .success(let book)?:
            for halt in book.active(at: now) where halt.service == nil && halt.environment == nil
                || runs.contains(where: { halt.matches(service: $0.service, environment: $0.environment) }) {
                // A lift that names the halt and does not count is flagged with why (another repository, rules never committed...).
                let refused = book.lifts.filter { $0.halts.contains(halt.hash) && $0.notCounted != nil }
                    .map { "; lift \($0.seq) by \($0.by) does not count: \($0.notCounted ?? "")" }.joined()
                // A halt of the store is cited by the store's log and record, not a file it is not in.
                let location = store.map { "the halts log of the store \(ConnectionSettings.redacted($0)), record \(halt.seq)" } ?? ".runsheet/\(Halt.fileName):\(halt.seq)"
                report.blockers.append(.governance(item: "halt \(halt.seq)", text: "production is \(halt.sentence)" + refused, link: link,
                                                   location: location, by: halt.by))
            }
        }
        switch closure(of: release, near: near, at: now, store: store) {
        case .failure(let problem):
            report.blockers.append(.governance(item: "closures", text: problem.errorDescription ?? problem.message, link: link,
                                               location: problem.path + (problem.line.map { ":\($0)" } ?? "")))
        case .success(var closure?):
            let closedAt = Timestamp.parse(closure.at) ?? now
            closure.laterRuns = runs.filter { ($0.started ?? .distantPast) > closedAt }.map(\.id).sorted()
            report.closure = closure
        case .success(nil):
            break
        }
        report.decision = !report.blockers.isEmpty ? .noGo : !report.exceptions.isEmpty ? .goWithExceptions : .go
    }

    /// The release's closure recorded by `now` (the one that counts, else the last that does not),
    /// or why the closures file cannot be trusted.
    /// With `store`, the closures of that PostgreSQL store.
    static func closure(of release: Release, near directory: String, at now: Date, store: String? = nil) -> Result<ReleaseClosure?, GovernanceLog.Problem> {
        guard let rules = try? RepositoryRules.load(from: directory, act: "reading closures") else { return .success(nil) }
        // Who may close is as committed at HEAD: where Git cannot read the repository, no closure can be judged (NO-GO).
        if let why = GitReading.of((rules.folder as NSString).deletingLastPathComponent).refusal {
            return .failure(GovernanceLog.Problem(path: rules.closureLog.path, line: nil, message: why))
        }
        let mirror: StoreGovernanceMirror?
        do { mirror = try store.map { try StoreGovernanceMirror.open(url: $0, log: "closures") } } catch {
            return .failure(GovernanceLog.Problem(path: "the closures of the store \(ConnectionSettings.redacted(store ?? ""))", line: nil, message: "they cannot be read"))
        }
        defer { mirror?.close() }
        let log = mirror?.governanceLog ?? rules.closureLog
        let records: [GovernanceRecord]
        do { records = try log.read() } catch { return .failure(error) }
        var found: ReleaseClosure?
        for record in records {
            guard var closure = ReleaseClosure(record), closure.release == release.id,
                  let time = Timestamp.parse(record.time), time < now else { continue }
            if let problem = record.signatureProblem(log: log.name, signers: AllowedSigners.load(forRunbook: rules.anchor)?.0) {
                return .failure(GovernanceLog.Problem(path: log.path, line: record.seq, message: "the signature of record \(record.seq) does not verify: \(problem)"))
            }
            closure.notCounted = rules.closeProblem(record, release: release)
            if closure.notCounted == nil {
                switch rules.pir(completing: record, of: release, in: records, log: log, at: now) {
                case .failure(let problem): return .failure(problem)
                case .success(let pir): closure.pir = pir
                }
                return .success(closure)
            }
            found = found ?? closure
        }
        return .success(found)
    }
}

extension RepositoryRules {
    var closureLog: GovernanceLog { GovernanceLog(path: folder + "/" + ReleaseClosure.fileName, name: "closures") }

    /// Roles that may close any release: release-manager and the calendar's exception roles.
    var closingRoles: [String] {
        var roles = ["release-manager"]
        for role in governance.exceptionRoles where !roles.contains(role) { roles.append(role) }
        return roles
    }

    /// The release file's path from the repository's root, and the SHA-256 of the very bytes the
    /// release was parsed (and decided) from: one read, so a file changed in between cannot make
    /// a closure's hash name other bytes than those its decision was taken on.
    func releaseFile(_ release: Release) -> (path: String, sha256: String) {
        let root = (folder as NSString).deletingLastPathComponent
        let path = PathText.relative(release.path, from: root.isEmpty ? "." : root)
        return (path, release.sha256)
    }

    /// Why a recorded closure does not count under the rules as they are now: written in
    /// another repository, for another release file or other bytes of it, or by someone not allowed.
    func closeProblem(_ record: GovernanceRecord, release: Release) -> String? {
        guard let closure = ReleaseClosure(record) else { return "it is not a closure" }
        guard closure.repository == identity else {
            return "it was written in another repository (\(RepositoryIdentity.shown(closure.repository))), not this one (\(RepositoryIdentity.shown(identity)))"
        }
        let file = releaseFile(release)
        guard closure.file == file.path else { return "it closed the release file \(closure.file.isEmpty ? "(none named)" : closure.file), not \(file.path)" }
        guard closure.fileSHA256 == file.sha256 else {
            return "the release file \(file.path) changed since it was closed (SHA-256 \(closure.fileSHA256.prefix(12)) then, \(file.sha256.prefix(12)) now)"
        }
        return authorProblem(record, release: release)
    }

    /// Why a closure or PIR does not count for who wrote it and how: under rule files that are
    /// not the repository's committed ones, by someone who may not close the release (now, or by
    /// the roles file committed at HEAD), or unsigned where the policy requires signatures.
    func authorProblem(_ record: GovernanceRecord, release: Release) -> String? {
        if let problem = CommittedRules.problem(record, directory: (folder as NSString).deletingLastPathComponent) { return problem }
        if let problem = mayNotClose(record.actor, release: release) { return problem }
        if let problem = mayNotCloseCommitted(record, release: release) { return problem }
        if record.signature == nil && Governance.requiresSignatures(governance.repositoryPolicy) {
            return "it is not signed, and the repository's policy requires signatures"
        }
        return nil
    }
}
