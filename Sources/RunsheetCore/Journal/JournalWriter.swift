/// Appends events durably; the journal file implements it, tests may use memory.
public protocol JournalWriter: AnyObject {
    /// Seals and appends the event, returning it as written (seq, prev and hash filled in).
    func append(_ event: RunEvent) throws -> RunEvent

    /// Appends the event checked against the run as the journal stands, keeping `state` (the
    /// caller's fold of the journal) up to date: see `JournalFile.append(_:onto:check:)`.
    func append(_ event: RunEvent, onto state: inout RunState, check: (RunState) throws -> Void) throws -> RunEvent
}

extension JournalWriter {
    /// For writers nobody else writes to: `state` is the journal, checked and then extended.
    public func append(_ event: RunEvent, onto state: inout RunState, check: (RunState) throws -> Void) throws -> RunEvent {
        if let refusal = state.refusal(of: event) { throw refusal }
        try check(state)
        let written = try append(event)
        state.apply(written)
        return written
    }
}

extension JournalFile: JournalWriter {}
