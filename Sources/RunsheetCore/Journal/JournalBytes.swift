import Foundation

/// A journal already in memory, such as a run fetched from the PostgreSQL store: read, verified
/// and folded by the same code and with the same checks as a journal file (`JournalSnapshot`
/// splits the bytes into lines as it splits a file's). `name` stands where a file's path would
/// in what is thrown and reported (`<store> run <id>`).
public enum JournalBytes {
    /// As `JournalFile.verifiedState(at:)`: the fold, checking the chain as it folds.
    public static func verifiedState(_ bytes: [UInt8], name: String) throws -> JournalFold {
        var state = RunState()
        let (torn, problem) = try JournalFile.forEachEvent(in: JournalSnapshot(bytes: bytes), path: name, verify: true, readsPayloads: true) {
            state.apply($0, payload: $1)
        }
        return JournalFold(state: state, tornLine: torn, problem: problem)
    }

    /// As `JournalVerifier.verify(path:)`: every line and the whole chain, with the events.
    public static func verify(_ bytes: [UInt8], name: String) throws -> VerificationReport {
        try JournalVerifier.verify(JournalSnapshot(bytes: bytes), path: name)
    }
}
