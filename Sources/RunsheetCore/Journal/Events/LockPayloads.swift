// The `data` of the events about a run's environment lock (docs/JOURNAL.md, "Environment locks").

/// What a run locks: the service and environment it changes, as written (a parameter of that
/// name, else the front matter's, else the defaults `EnvironmentLock.Key.of` names), and whether
/// it shares the lock with other `concurrent: true` runs or holds it alone.
public struct LockClaim: Codable, Sendable, Equatable {
    public enum Mode: String, Codable, Sendable {
        /// The run holds the lock alone: every other run with production steps on the same
        /// service and environment is refused while it is open.
        case exclusive
        /// `concurrent: true`: other concurrent runs may share it; an exclusive one may not.
        case shared
    }

    public var service: String
    public var environment: String
    public var mode: Mode

    public init(service: String, environment: String, mode: Mode) {
        self.service = service
        self.environment = environment
        self.mode = mode
    }

    enum CodingKeys: String, CodingKey { case service, environment, mode }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        service = try c.decodeIfPresent(String.self, forKey: .service) ?? ""
        environment = try c.decodeIfPresent(String.self, forKey: .environment) ?? ""
        // A mode this runsheet does not know is read as the one that claims most.
        mode = try c.decodeIfPresent(String.self, forKey: .mode).flatMap(Mode.init(rawValue:)) ?? .exclusive
    }

    /// The lock's identity: service and environment compared in one canonical form.
    public var key: EnvironmentLock.Key { EnvironmentLock.Key(service: service, environment: environment) }

    /// "checkout / prod".
    public var shownName: String { "\(service.shown) / \(environment.shown)" }
}

/// `lock.taken` (1.3): a resumed run takes its lock again after it was released (`lock.released`).
public struct LockTaken: Codable, Sendable, Equatable {
    public var lock: LockClaim

    public init(lock: LockClaim) { self.lock = lock }
}

/// `lock.released` (1.3): an exception role released the run's lock (`runsheet unlock`), so other
/// runs may take it; the run takes it again at its next `resume`, or is refused while another holds it.
public struct LockReleased: Codable, Sendable, Equatable {
    public var lock: LockClaim
    /// The exception role the person released it as, and why.
    public var role: String
    public var reason: String
    /// The rule files (roles, policy, calendars) the release was decided under, by path from the
    /// runbook's folder to the SHA-256 of the bytes read, as `run.started`'s `rules`; absent in
    /// releases recorded before it was.
    public var rules: [String: String]?

    public init(lock: LockClaim, role: String, reason: String, rules: [String: String]? = nil) {
        self.lock = lock
        self.role = role
        self.reason = reason
        self.rules = rules
    }
}
