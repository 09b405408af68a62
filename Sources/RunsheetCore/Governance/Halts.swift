import Foundation
import Synchronization

/// A stop to production changes declared by an exception role (`runsheet halt`): every matching
/// production step refuses to start until it is lifted or its `until` passes. Kept in the
/// repository's `.runsheet/halts.jsonl` (`GovernanceLog`), never in a runs folder.
public struct Halt: Sendable, Equatable {
    public static let declared = "halt.declared"
    public static let lifted = "halt.lifted"
    public static let fileName = "halts.jsonl"

    public var seq: Int
    /// The record's content hash (`GovernanceRecord.contentHash`): what a lift names it by.
    public var hash: String = ""
    public var by: String
    /// When it was declared, as the log writes times.
    public var since: String
    public var reason: String
    /// nil: every service (every environment).
    public var service: String?
    public var environment: String?
    public var until: String?

    /// Whether it stops a run on `service` in `environment`: names compare as people's names do.
    public func matches(service: String?, environment: String?) -> Bool {
        func same(_ wanted: String?, _ actual: String?) -> Bool {
            guard let wanted else { return true }
            return actual.map { PersonName.same($0, wanted) } ?? false
        }
        return same(self.service, service) && same(self.environment, environment)
    }

    /// "checkout in production", "every service in production", "every service".
    public var scope: String {
        switch (service, environment) {
        case (nil, nil): "every service"
        case (let service?, nil): service
        case (nil, let environment?): "every service in \(environment)"
        case (let service?, let environment?): "\(service) in \(environment)"
        }
    }

    /// "halted by rita since 2026-12-04 18:40:01 UTC (checkout, until …): the reason".
    public var sentence: String {
        let when = Timestamp.parse(since).map { Timestamp.plain($0) + " UTC" } ?? since
        let end = until.flatMap(Timestamp.parse).map { ", until " + Timestamp.plain($0) + " UTC" } ?? ""
        return "halted by \(by) since \(when) (\(scope)\(end)): \(reason)"
    }

    public func active(at date: Date) -> Bool {
        guard let until, let end = Timestamp.parse(until) else { return true }
        return date < end
    }
}

/// The halts of a log, and which lifts count.
public struct HaltBook: Sendable, Equatable {
    public var halts: [Halt] = []
    /// Each lift: who, when, the halts it names (by content hash), and why it does not count (nil: it counts).
    public struct Lift: Sendable, Equatable {
        public var seq: Int
        public var by: String
        public var time: String
        public var halts: [String]
        public var notCounted: String?

        /// Whether it ends `halt`: it counts, names the halt's content hash, and is not older than the halt.
        public func lifts(_ halt: Halt) -> Bool {
            guard notCounted == nil, halts.contains(halt.hash), let at = Timestamp.parse(time) else { return false }
            return Timestamp.parse(halt.since).map { at >= $0 } ?? false
        }
    }
    public var lifts: [Lift] = []

    /// The fold of `records`; `liftProblem` says why a lift does not count (its author holds no
    /// exception role now, it is unsigned where signatures are required, it was written in
    /// another repository), nil when it counts.
    public init(_ records: [GovernanceRecord], liftProblem: (GovernanceRecord) -> String? = { _ in nil }) {
        for record in records {
            switch record.type {
            case Halt.declared:
                halts.append(Halt(seq: record.seq, hash: record.contentHash(log: "halts"), by: record.actor, since: record.time, reason: record.data["reason"]?.string ?? "",
                                  service: record.data["service"]?.string, environment: record.data["environment"]?.string,
                                  until: record.data["until"]?.string))
            case Halt.lifted:
                lifts.append(Lift(seq: record.seq, by: record.actor, time: record.time,
                                  halts: record.data["halts"]?.array?.compactMap(\.string) ?? [], notCounted: liftProblem(record)))
            default:
                break
            }
        }
    }

    /// The halts in force at `date`: not lifted by a lift that counts, and not past their `until`.
    public func active(at date: Date) -> [Halt] {
        halts.filter { halt in !lifts.contains { $0.lifts(halt) } && halt.active(at: date) }
    }

    /// When each halt ended: the time of the lift that counts, its `until`, or nil while in force.
    public func end(of halt: Halt) -> Date? {
        let lift = lifts.first { $0.lifts(halt) }.flatMap { Timestamp.parse($0.time) }
        let until = halt.until.flatMap(Timestamp.parse)
        switch (lift, until) {
        case (let a?, let b?): return min(a, b)
        case (let a, let b): return a ?? b
        }
    }
}

/// Why a production step may not start because of halts: halted, or the halts file cannot be trusted.
public enum HaltBlock: Sendable, Equatable {
    case halted([Halt])
    case unverifiable(String)
    /// The halts of the repository's PostgreSQL store could not be read (a folder run obeys
    /// them too): the whole sentence, naming the store and what to do.
    case storeUnreadable(String)

    /// One sentence for the screen, the journal and errors.
    public func sentence(roles: [String]) -> String {
        let lifters = roles.joined(separator: " or ")
        switch self {
        case .halted(let halts):
            return "production is " + halts.map(\.sentence).joined(separator: "; and ") +
                "; a \(lifters) lifts it with 'runsheet halt --lift' (a halt never blocks rollback steps)"
        case .unverifiable(let problem):
            // Git cannot read the repository: the file is not at fault, and the sentence already says what to do.
            let fix = problem.contains(GitReading.unknown) ? "" : "restore the file from Git or a copy (docs/JOURNAL.md, \"Governance logs\") "
            return "production steps are blocked because \(problem), so whether production is halted cannot be known; " +
                fix + "(this never blocks rollback steps)"
        case .storeUnreadable(let sentence):
            return sentence
        }
    }
}

/// The halts that apply to a repository, read again whenever the file's size, time or inode
/// changes: a halt declared while an operator waits shows at their next look (well within a
/// second), at the cost of a `stat` when nothing changed.
public final class HaltWatch: Sendable {
    public let path: String
    /// Why a lift does not count under the rules as they are now.
    public let liftProblem: @Sendable (GovernanceRecord) -> String?
    /// Why a signed record's signature does not verify; nil when it does or carries none.
    public let signatureProblem: @Sendable (GovernanceRecord) -> String?
    /// Brings the file up to date from where it is kept (a PostgreSQL store), `fresh`: now, not
    /// from a copy a moment old; returns the sentence to block with when that cannot be done.
    public let prepare: (@Sendable (_ fresh: Bool) -> String?)?
    private let cache = Mutex<(key: [Int], book: Result<HaltBook, GovernanceLog.Problem>)?>(nil)

    public init(path: String, liftProblem: @escaping @Sendable (GovernanceRecord) -> String?,
                signatureProblem: @escaping @Sendable (GovernanceRecord) -> String?,
                prepare: (@Sendable (_ fresh: Bool) -> String?)? = nil) {
        self.path = path
        self.liftProblem = liftProblem
        self.signatureProblem = signatureProblem
        self.prepare = prepare
    }

    /// The halts as the file now stands, or why it cannot be trusted.
    public func book() -> Result<HaltBook, GovernanceLog.Problem> {
        var info = stat()
        let key: [Int] = lstat(path, &info) == 0
            ? [Int(info.st_size), Int(info.st_mtim.tv_sec), Int(info.st_mtim.tv_nsec), Int(info.st_ino), Int(info.st_ctim.tv_nsec)]
            : [-1, Int(errno)]
        if let cached = cache.withLock({ $0 }), cached.key == key { return cached.book }
        let book: Result<HaltBook, GovernanceLog.Problem>
        do {
            let records = try GovernanceLog(path: path, name: "halts").read()
            if let bad = records.first(where: { signatureProblem($0) != nil }) {
                throw GovernanceLog.Problem(path: path, line: bad.seq, message: "the signature of record \(bad.seq) (\(bad.type) by \(bad.actor)) does not verify: \(signatureProblem(bad) ?? "")")
            }
            book = .success(HaltBook(records, liftProblem: liftProblem))
        } catch let problem as GovernanceLog.Problem {
            book = .failure(problem)
        } catch {
            book = .failure(GovernanceLog.Problem(path: path, line: nil, message: "\(error)"))
        }
        cache.withLock { $0 = (key, book) }
        return book
    }

    /// What stops a production step of a run on `service` in `environment` at `date`; nil when nothing.
    /// `fresh`: read the source again now (before a production step starts), not a copy a moment old.
    public func block(service: String?, environment: String?, at date: Date, fresh: Bool = false) -> HaltBlock? {
        if let unreadable = prepare?(fresh) { return .storeUnreadable(unreadable) }
        switch book() {
        case .failure(let problem): return .unverifiable(problem.errorDescription ?? problem.message)
        case .success(let book):
            let halts = book.active(at: date).filter { $0.matches(service: service, environment: environment) }
            return halts.isEmpty ? nil : .halted(halts)
        }
    }
}

extension Governance {
    /// Whether a step is a rollback step, which no halt blocks: the run took an `On failure`
    /// branch and the step is in a branch section (one entered only through a branch).
    public static func isRollback(_ step: Step, in runbook: Runbook, state: RunState) -> Bool {
        guard state.branch == "failure" else { return false }
        var section = step.section.flatMap { id in runbook.sections.first { $0.id == id } }
        while let current = section {
            if current.branch { return true }
            section = current.parent.flatMap { id in runbook.sections.first { $0.id == id } }
        }
        return false
    }

    /// What halts `step` now: nil for a step that changes no production, a rollback step, or
    /// a repository without halts.
    /// A store whose halts cannot be read stops the step unless an exception role granted an
    /// exception for it (`storeException`); a halt that can be read is never excused.
    /// `fresh`: read a store's halts now (before the step starts), not a copy a moment old.
    public func haltBlock(for step: Step, in runbook: Runbook, state: RunState, at date: Date, fresh: Bool = false) -> HaltBlock? {
        guard step.production || runbook.production, halts != nil || alsoHalts != nil || !floorHalts.isEmpty, !Self.isRollback(step, in: runbook, state: state) else { return nil }
        let block = halts?.block(service: state.service, environment: state.environment, at: date, fresh: fresh)
            ?? alsoHalts?.block(service: state.service, environment: state.environment, at: date, fresh: fresh)
            ?? floorHalts.lazy.compactMap { $0.block(service: state.service, environment: state.environment, at: date, fresh: fresh) }.first
        if case .storeUnreadable = block, storeException(for: step, state: state) != nil { return nil }
        return block
    }

    /// The exception (`sign --exception`, by an exception role who did not start the run, for
    /// this step as it is) that lets a production step start while the store's halts cannot be read.
    public func storeException(for step: Step, state: RunState) -> RunState.Grant? {
        let current = StepHash.of(step)
        return state.exceptions[step.id]?.first {
            state.covers(stepHash: $0.stepHash, plan: $0.plan, current: current) && mayGrant(as: $0.actor, role: $0.role, state: state)
        }
    }

    /// What to record when a production step starts under `storeException` because the store's
    /// halts could not be read; nil when the step starts for no such reason.
    public func excusedStoreBlock(for step: Step, in runbook: Runbook, state: RunState, at date: Date) -> String? {
        guard step.production || runbook.production, !Self.isRollback(step, in: runbook, state: state),
              case .storeUnreadable(let sentence)? = alsoHalts?.block(service: state.service, environment: state.environment, at: date)
                ?? floorHalts.lazy.compactMap({ $0.block(service: state.service, environment: state.environment, at: date) }).first,
              let grant = storeException(for: step, state: state) else { return nil }
        return "started under the exception granted by \(grant.actor) as \(grant.role) (\(grant.text)), although \(sentence)"
    }

    /// The halts of the repository whose rule folder is `folder`, judged by these rules: a lift
    /// counts when it was written in this repository under rule files it committed (`CommittedRules`),
    /// its author holds an exception role in the roles file as it is now, and, when the
    /// repository's policy requires signatures, is signed.
    /// `log` reads the halts from another file than the folder's (the store's halts, mirrored).
    /// `prepare` brings that file up to date before each read (`HaltWatch.prepare`).
    public func haltWatch(folder: String, signersNear path: String, log: String? = nil,
                          prepare: (@Sendable (_ fresh: Bool) -> String?)? = nil) -> HaltWatch {
        let roles = self.roles, exceptionRoles = self.exceptionRoles
        let signaturesRequired = Self.requiresSignatures(repositoryPolicy)
        let root = (folder as NSString).deletingLastPathComponent
        return HaltWatch(path: log ?? folder + "/" + Halt.fileName, liftProblem: { record in
            // Asked of Git only when a lift is judged: most repositories never lift.
            let here = RepositoryIdentity.of(directory: root.isEmpty ? "." : root)
            guard record.repository == here else {
                return "it was written in another repository (\(RepositoryIdentity.shown(record.repository))), not this one (\(RepositoryIdentity.shown(here)))"
            }
            // Made under rule files the repository never committed (a clone's own roles file): not this repository's rules.
            if let problem = CommittedRules.problem(record, directory: root.isEmpty ? "." : root) { return problem }
            guard let roles, exceptionRoles.contains(where: { roles.holds(record.actor, $0) }) else {
                return "\(record.actor) holds none of \(exceptionRoles.joined(separator: ", ")) in the roles file now"
            }
            // The roles file as committed (and as recorded) is the floor: an uncommitted grant gives no power.
            if let problem = CommittedRoles.problem(record, needed: exceptionRoles.joined(separator: ", "), rolesPath: roles.path, directory: root.isEmpty ? "." : root,
                                                    allowed: { file in exceptionRoles.contains { file.holds(record.actor, $0) } }) { return problem }
            if signaturesRequired && record.signature == nil { return "it is not signed, and the repository's policy requires signatures" }
            return nil
        }, signatureProblem: { record in
            // Read only when a record is signed, and again with each read of the file.
            record.signature == nil ? nil : record.signatureProblem(log: "halts", signers: AllowedSigners.load(forRunbook: path)?.0)
        }, prepare: prepare)
    }

    /// Whether the repository's policy requires signatures for any class (or at its top level):
    /// then every halt, lift and closure is signed.
    public static func requiresSignatures(_ policy: Policy?) -> Bool {
        guard let policy else { return false }
        return policy.signaturesRequired == true || policy.classes.values.contains { $0.signaturesRequired == true }
    }
}
