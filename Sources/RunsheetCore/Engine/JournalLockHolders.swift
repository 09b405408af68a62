import Foundation

extension LockFolder {
    /// The lock holders among journals held in memory (the runs of the PostgreSQL store), found as
    /// `holders()` finds them among a runs folder's journals: a run whose first line claims a lock
    /// holds it while its journal verifies and shows the run open with the lock; a first line that
    /// cannot be read holds every lock, and a journal that cannot be checked holds its own (fail
    /// closed). There are no lock files: `name` is each journal's name in what is shown.
    public static func holders(ofJournals journals: [(runID: String, bytes: [UInt8], name: String)]) -> [EnvironmentLock.Holder] {
        let candidates = journals.filter { firstLine($0.bytes, runID: $0.runID) != .noLock }
        let examined = candidates.parallelMap { journal -> EnvironmentLock.Holder? in
            let runID = journal.runID
            guard firstLine(journal.bytes, runID: runID) == .lock else {
                return .init(runID: runID, stem: "?", claim: nil, problem: "whose journal's first line cannot be read (\(journal.name.shown)), so runsheet cannot tell which lock it holds")
            }
            func unchecked(_ problem: String) -> EnvironmentLock.Holder { .init(runID: runID, stem: "?", claim: nil, problem: problem) }
            guard runID.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
                return unchecked("named by a lock file with a name that is no run id")
            }
            let fold: JournalFold
            do {
                fold = try JournalBytes.verifiedState(journal.bytes, name: journal.name)
            } catch {
                return unchecked("whose journal cannot be read (\(((error as? LocalizedError)?.errorDescription ?? "\(error)").shown))")
            }
            if let problem = fold.problem {
                var holder = unchecked("whose journal does not verify (\(journal.name.shown):\(problem.line): \(problem.message.shown))")
                if let lock = fold.state.lock { (holder.claim, holder.stem) = (lock, lock.key.stem) }
                return holder
            }
            let state = fold.state
            guard state.runID == runID else {
                var holder = unchecked("whose journal is the journal of another run (\(state.runID.shown)), so runsheet cannot tell whether it ended")
                if let lock = state.lock { (holder.claim, holder.stem) = (lock, lock.key.stem) }
                return holder
            }
            guard !state.finished, state.holdsLock, let lock = state.lock else { return nil }
            return .init(runID: runID, stem: lock.key.stem, claim: lock, person: state.lockTakenBy, since: state.lockSince, cursor: state.cursor)
        }
        return examined.compactMap { $0 }.sorted { ($0.lockName, $0.runID) < ($1.lockName, $1.runID) }
    }

    /// `firstLine(_:runID:)` of a journal in memory: only its first line is read.
    static func firstLine(_ bytes: [UInt8], runID: String) -> FirstLine {
        let end = bytes.firstIndex(of: 0x0A) ?? bytes.count
        guard end <= 1 << 24, let event = try? JSONDecoder().decode(RunEvent.self, from: Data(bytes[..<end])), (try? event.computedHash()) == event.hash,
              case .runStarted(let started)? = try? event.payload(), started.runId == runID else { return .unreadable }
        return started.lock != nil ? .lock : .noLock
    }
}
