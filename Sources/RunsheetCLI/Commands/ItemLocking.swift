import Foundation
import RunsheetCore

/// Configuration items as locks: while a run whose production steps change an item is open
/// (paused or crashed included), another such run is refused (exit 5), as for the environment
/// lock, and decided under the same guard of the runs folder's `.locks` (`EnvironmentLocking.take`).
enum ItemLocking {
    /// For a run of `runbook` about to start, with the lock folder's guard held: exit 5 naming the
    /// first open run whose runbook (as it is now) changes one of the same items. An open run that
    /// cannot be checked (a journal that does not verify, a runbook that cannot be read, or one
    /// that, or whose includes, changed since the run recorded their SHA-256) counts as changing
    /// them all: what cannot be checked is not taken as free (fail closed).
    /// For `resume` of `resuming`: only runs started before it count (the first holder keeps the
    /// item), so two runs that came to share an item do not hold each other up.
    static func refuseConflicts(_ runbook: Runbook, runsDirectory: String, resuming: RunState? = nil, what refused: String? = nil) throws {
        let mine = runbook.touchedComponents
        guard !mine.isEmpty else { return }
        let keys = Set(mine.map(EnvironmentLock.Key.canonical))
        let catalog = RunCatalog.load(runsDirectory)
        for entry in catalog.entries.sorted(by: { ($0.state.startedAt, $0.id) < ($1.state.startedAt, $1.id) }) {
            let state = entry.state
            guard !state.finished, !state.productionSteps.isEmpty, state.runID != resuming?.runID else { continue }
            if let resuming, (state.startedAt, state.runID) >= (resuming.startedAt, resuming.runID) { continue }
            let what = refused ?? resuming.map { "run \($0.runID.shown) was not resumed and nothing was written" } ?? "nothing was started"
            let holder = "run \(state.runID.shown) (started by \(state.startedBy.shown) at \(state.startedAt.shown), now \(state.cursor.map { "at step '\($0.shown)'" } ?? "at its end"))"
            if let problem = entry.problem {
                throw CommandFailure(status: .leased, message: "open run \(state.runID.shown) has production steps and its journal does not verify (\(problem.description.shown)), so runsheet cannot tell which configuration items it changes and takes it as changing \(mine.joined(separator: ", ").shown) too, so \(what): move that run's folder out of \(runsDirectory) once it is dealt with")
            }
            let path = RunSupport.runbookPath(of: state, runDirectory: entry.directory)
            guard let bytes = try? FileReader.read(path) else {
                throw CommandFailure(status: .leased, message: "open \(holder) has production steps and its runbook \(path.shown) cannot be read, so runsheet cannot tell which configuration items it changes and takes it as changing \(mine.joined(separator: ", ").shown) too, so \(what): 'runsheet resume \(state.runID.shown)' continues that run, or end it first")
            }
            let compiled = Compiler().compile(path: path, bytes: bytes).runbook
            // The file as it is now need not be what the run carries out: an edit that drops an
            // item would free it while the run still holds it, so a changed runbook counts as all.
            if let changed = changedSinceRecorded(state, sha256: SHA256Hex.of(bytes), includes: compiled.includedSHA256) {
                throw CommandFailure(status: .leased, message: "open \(holder) has production steps and \(changed(path.shown)) changed since the run recorded it, so runsheet cannot tell which configuration items it changes and takes it as changing \(mine.joined(separator: ", ").shown) too, so \(what): 'runsheet resume \(state.runID.shown)' records the change and continues that run, or end it first")
            }
            let theirs = compiled.touchedComponents
            guard let shared = theirs.first(where: { keys.contains(EnvironmentLock.Key.canonical($0)) }) else { continue }
            throw CommandFailure(status: .leased, message: "configuration item '\(shared.shown)' is being changed by \(holder); one open run changes a configuration item at a time, so \(what): " +
                                 "'runsheet resume \(state.runID.shown)' continues that run, or end it first")
        }
    }

    /// How to name what changed (given the runbook's shown path) when the runbook or a file it
    /// includes no longer has the SHA-256 the run last recorded (`run.started`, `run.changed`);
    /// nil when both match. Includes are compared by their hashes, as their recorded paths are
    /// relative to where the run was started from.
    static func changedSinceRecorded(_ state: RunState, sha256: String, includes: [String: String]) -> ((String) -> String)? {
        if !state.runbookSHA256.isEmpty, sha256 != state.runbookSHA256 { return { "its runbook \($0)" } }
        // Runs from before plans were recorded did not record their includes.
        if state.plan != nil, includes.values.sorted() != state.includes.values.sorted() { return { "a file its runbook \($0) includes" } }
        return nil
    }
}

extension ItemLocking {
    /// What a session asks before each production step of a run of `runbook`: the sentence naming
    /// an open run started before it that changes one of its items (as the start checks), or nil.
    static func holder(runsDirectory: String, runbook: Runbook) -> @Sendable (RunState) -> String? {
        { state in
            do {
                try refuseConflicts(runbook, runsDirectory: runsDirectory, resuming: state, what: "this run's production steps do not start")
                return nil
            } catch let refusal as CommandFailure {
                return refusal.message
            } catch {
                return "\(error)"
            }
        }
    }
}
