/// Appends events durably; the journal file implements it, tests may use memory.
public protocol JournalWriter: AnyObject {
    /// Seals and appends the event, returning it as written (seq, prev and hash filled in).
    func append(_ event: RunEvent) throws -> RunEvent
}

extension JournalFile: JournalWriter {}
