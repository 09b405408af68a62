import Foundation
import RunsheetCore

/// How `run` and `resume` take a run's environment lock (`EnvironmentLock`), and how a refusal reads.
enum EnvironmentLocking {
    /// The lock folder's guard, held from the check until the run's journal records the lock.
    final class Pending {
        let claim: LockClaim
        let folder: LockFolder
        private let guardLock: LockFolder.Guard

        init(claim: LockClaim, folder: LockFolder, guard guardLock: LockFolder.Guard) {
            self.claim = claim
            self.folder = folder
            self.guardLock = guardLock
        }

        /// Names the holder in its lock file, then lets the next decision go ahead. The journal
        /// already records the lock, so a lock file that cannot be written is only a warning.
        func recorded(runID: String, person: String, since: String) {
            do {
                try folder.write(claim, runID: runID, person: person, since: since)
            } catch {
                Output.error("warning: could not write the lock file for run \(runID) (\((error as? LocalizedError)?.errorDescription ?? "\(error)")); its journal records the lock, which is what counts")
            }
            guardLock.release()
        }
    }

    /// The lock a run of `runbook` with `values` takes (`EnvironmentLock.claim`); exit 2 when a
    /// `service` or `environment` parameter is empty or blank, which would lock something else.
    static func claim(for runbook: Runbook, values: [String: String]) throws -> LockClaim? {
        let claim = EnvironmentLock.claim(for: runbook, values: values)
        guard claim != nil else { return nil }
        for name in ["service", "environment"] {
            if let value = values[name], EnvironmentLock.Key.canonical(value).isEmpty {
                throw CommandFailure(status: .usage, message: "parameter '\(name)' is empty; a run with production steps locks the \(name) it names, so give it one")
            }
        }
        return claim
    }

    /// For a run about to start with `claim`: the folder's guard once no other run holds a
    /// conflicting lock; exit 5 naming the holder otherwise. Nil when the run takes no lock.
    static func take(_ claim: LockClaim?, runsDirectory: String) throws -> Pending? {
        guard let claim else { return nil }
        let folder = LockFolder(runsDirectory: runsDirectory)
        let guardLock = try takeGuard(folder)
        let holders = folder.holders()
        if let holder = folder.conflicts(with: claim, among: holders).first {
            throw CommandFailure(status: .leased, message: refusal(claim, holder: holder, runsDirectory: runsDirectory, what: "nothing was started"))
        }
        folder.removeStale(keeping: holders)
        return Pending(claim: claim, folder: folder, guard: guardLock)
    }

    /// For `resume`: the lock the run took at its start, free of other holders, under the guard;
    /// exit 5 naming the holder when another run holds it now (after an `unlock`). Nil for a run
    /// that took no lock (no production steps at its start, or started before locks).
    static func retake(_ state: RunState, runDirectory: String) throws -> Pending? {
        guard let claim = state.lock, !state.finished else { return nil }
        let runsDirectory = (runDirectory as NSString).deletingLastPathComponent
        let folder = LockFolder(runsDirectory: runsDirectory)
        let guardLock = try takeGuard(folder)
        if let holder = folder.conflicts(with: claim, excluding: state.runID).first {
            let released = state.lockReleases.last.map { " (its lock was released by \($0.actor.shown) at \($0.time.shown))" } ?? ""
            throw CommandFailure(status: .leased, message: refusal(claim, holder: holder, runsDirectory: runsDirectory,
                                                                   what: "run \(state.runID)\(released) was not resumed and nothing was written"))
        }
        return Pending(claim: claim, folder: folder, guard: guardLock)
    }

    /// For `resume`, before anything is written: the service and environment this resume would
    /// change (its parameters, the runbook as it is now) must be those of the lock the run took,
    /// and a run that took none (no production steps at its start) may not have gained production
    /// steps; else the run would change an environment whose lock it never took. Exit 1.
    static func requireSameLock(_ state: RunState, now claim: LockClaim?) throws {
        guard !state.finished, let claim else { return }
        guard let taken = state.lock else {
            // Production steps recorded at the start with no lock: a run from before locks, which holds none.
            guard state.productionSteps.isEmpty else { return }
            throw CommandFailure(status: .findings, message: "run \(state.runID.shown) took no environment lock at its start, as it had no production steps then, " +
                                 "but the runbook as it is now has them and would change \(claim.shownName); a resume may not change production without its lock, " +
                                 "so nothing was written: end this run and start a new one, which takes the lock")
        }
        guard claim.key != taken.key || (claim.mode == .exclusive && taken.mode == .shared) else { return }
        let what = claim.key != taken.key ? "would change \(claim.shownName)" : "would hold \(claim.shownName) alone"
        throw CommandFailure(status: .findings, message: "run \(state.runID.shown) took the lock on \(taken.shownName)" +
                             (taken.mode == .shared ? " (shared)" : "") + ", but with these parameters and the runbook as it is now it \(what); " +
                             "a resume may not move a run past the lock it took, so nothing was written: resume it with the values it started with " +
                             "('runsheet status \(state.runID.shown)' shows them), or end it and start a new run")
    }

    /// After the resumed session's `run.resumed`: a run whose lock was released takes it again
    /// (`lock.taken`, by `actor`), and its lock file names it.
    /// `writer` is the session's journal when it is not the run folder's file (a run of the store).
    static func hold(_ pending: Pending?, engine: RunEngine, actor: Actor, writer: JournalWriter? = nil) throws {
        guard let pending else { return }
        var state = engine.state
        var since = state.lockSince ?? state.startedAt
        var person = state.lockTakenBy ?? state.startedBy
        if !state.holdsLock {
            let file = writer == nil ? try JournalFile(path: RunSupport.journalPath(engine.runDirectory)) : nil
            defer { file?.close() }
            let journal: JournalWriter = writer ?? file!
            let written = try journal.append(try RunEvent(by: actor, .lockTaken(LockTaken(lock: pending.claim))), onto: &state, check: { _ in })
            (since, person) = (written.time, actor.name)
            Output.error("run \(state.runID) took the lock on \(pending.claim.shownName) again (it had been released)")
        }
        pending.recorded(runID: state.runID, person: person, since: since)
    }

    private static func takeGuard(_ folder: LockFolder) throws -> LockFolder.Guard {
        do {
            return try folder.take()
        } catch LockFolder.Failure.busy(let path) {
            throw CommandFailure(status: .leased, message: LockFolder.Failure.busy(path: path).errorDescription ?? path)
        } catch {
            throw CommandFailure(status: .usage, message: (error as? LocalizedError)?.errorDescription ?? "\(error)")
        }
    }

    /// One sentence: which lock, who holds it, since when, and how to see it or release it.
    static func refusal(_ claim: LockClaim, holder: EnvironmentLock.Holder, runsDirectory: String, what: String) -> String {
        let name = holder.claim?.shownName ?? claim.shownName
        let unlock = "runsheet unlock \(word(holder.claim?.service ?? claim.service)) \(word(holder.claim?.environment ?? claim.environment)) --reason \"...\""
        if holder.problem != nil {
            return "\(name) is held by \(holder.description); runsheet keeps a lock whose holder it cannot check, so \(what): " +
                "'runsheet status' lists the locks, and one whose run folder is gone or damaged is freed by moving that folder out of \(runsDirectory) and removing its file in \(runsDirectory)/\(LockFolder.folderName)"
        }
        return "\(name) is locked by \(holder.description); one run with production steps changes a service's environment at a time, so \(what): " +
            "'runsheet status' lists the locks, 'runsheet resume \(holder.runID.shown)' continues that run, and an exception role can release a stuck lock with '\(unlock)'"
    }

    /// A service or environment as one shell word.
    static func word(_ text: String) -> String {
        text.allSatisfy({ $0.isLetter || $0.isNumber || "-_.@/:".contains($0) }) && !text.isEmpty ? text.shown : ShellQuoting.quote(text).shown
    }

    /// The held locks of a runs folder as lines for `status`: a heading and one row per holder.
    static func statusLines(runsDirectory: String) -> [String] {
        statusLines(holders: LockFolder(runsDirectory: runsDirectory).holders())
    }

    /// The lines `status` shows for `holders`.
    static func statusLines(holders: [EnvironmentLock.Holder]) -> [String] {
        guard !holders.isEmpty else { return [] }
        var rows = [["SERVICE", "ENVIRONMENT", "RUN", "BY", "SINCE", "STATE"]]
        for holder in holders {
            let state = holder.problem.map { "held: \($0)" } ?? (holder.claim?.mode == .shared ? "shared, " : "") + (holder.cursor.map { "at \($0.shown)" } ?? "at its end")
            rows.append([holder.claim?.service.shown ?? "?", holder.claim?.environment.shown ?? "?", holder.runID.shown,
                         holder.person?.shown ?? "?", holder.since.map { String($0.prefix(19)).replacingOccurrences(of: "T", with: " ") }?.shown ?? "?", state])
        }
        return ["", "\(holders.count) environment lock\(holders.count == 1 ? "" : "s") held (runsheet unlock SERVICE ENVIRONMENT --reason TEXT releases a stuck one):",
                Status.format(rows).trimmingCharacters(in: .newlines)]
    }
}
