import Foundation

/// One run folder as readiness reads it: the events of a journal that verifies, or where and
/// why it cannot be used. No decision is taken from a journal that does not verify.
public struct RunRecord: Sendable {
    /// Where a journal stops being usable: `path:line` of its first bad line (`path` alone when
    /// the file cannot be read at all), and what is wrong there.
    public struct Fault: Sendable, Equatable {
        public var location: String
        public var message: String
        /// False when the file could not be read (missing, not a regular file, unreadable); true
        /// when it was read and its hash chain does not check out.
        public var read: Bool

        public init(location: String, message: String, read: Bool) {
            self.location = location
            self.message = message
            self.read = read
        }
    }

    /// The run folder's name.
    public var id: String
    /// Every event in journal order, when the whole journal verifies; nil otherwise.
    public var events: [RunEvent]?
    public var fault: Fault?
    /// The runbook id its `run.started` names, when that line can be read (verified or not).
    public var runbookID: String?

    /// A run whose journal verified, with its events.
    public init(id: String, events: [RunEvent]) {
        self.id = id
        self.events = events
        self.runbookID = events.first.flatMap { event in
            if case .runStarted(let started)? = try? event.payload() { return started.runbookId }
            return nil
        }
    }

    /// A run whose journal does not verify or cannot be read; `runbookID` from its first line if readable.
    public init(id: String, fault: Fault, runbookID: String?) {
        self.id = id
        self.fault = fault
        self.runbookID = runbookID
    }

    /// Whether this is a run of `runbook`: by the runbook id its `run.started` names, and, for a
    /// journal that does not verify (whose first line may be the edited one), also by its folder
    /// name, whose runbook-id part must match whole: `deploy` does not claim `deploy-api-…`.
    public func belongs(to runbook: String) -> Bool {
        if runbookID == runbook { return true }
        guard events == nil, let prefix = Self.runbookPart(ofFolder: id) else { return false }
        return prefix == (runbook.isEmpty ? "run" : String(runbook.prefix(40)))
    }

    /// The runbook-id part of a run folder name, `<runbook-id>-<yyyymmdd>-<hhmmss>-<4 hex>` with
    /// the id cut at 40 characters, or nil when the name is not of that form.
    public static func runbookPart(ofFolder name: String) -> String? {
        let parts = name.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4 else { return nil }
        let (date, time, suffix) = (parts[parts.count - 3], parts[parts.count - 2], parts[parts.count - 1])
        guard date.count == 8, date.allSatisfy(\.isASCIIDigit), time.count == 6, time.allSatisfy(\.isASCIIDigit),
              suffix.count == 4, suffix.allSatisfy({ $0.isASCIIDigit || ("a"..."f").contains($0) }) else { return nil }
        let prefix = parts.dropLast(3).joined(separator: "-")
        return prefix.isEmpty ? nil : prefix
    }

    /// The run as its journal stood at `cutoff`: the events up to the first one stamped later
    /// (a prefix of the chain, so its head is a hash `runsheet verify --contains` finds), or every
    /// event without a cutoff. nil when the journal does not verify or the run had not started.
    public func state(asOf cutoff: Date?) -> RunState? {
        guard var events else { return nil }
        if let cutoff {
            // An unreadable time counts as later: the cut falls earlier, never past it.
            let end = events.firstIndex { Timestamp.parse($0.time).map { $0 > cutoff } ?? true } ?? events.count
            events = Array(events[..<end])
        }
        guard !events.isEmpty else { return nil }
        return RunState.fold(events)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
