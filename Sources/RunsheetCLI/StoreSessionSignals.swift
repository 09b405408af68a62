import Foundation
import RunsheetCore

extension StoreRunSession {
    /// How long a signal waits for an append under way, and then for the output logs to be kept.
    static let stopWithin = 5.0

    /// When SIGTERM or SIGHUP stops the session (a shutdown, a closed terminal), it stops as it
    /// does when the store is lost, and says so in one sentence: the append under way finishes
    /// (or is named as one that may be there), none follows, the terminal is given back as it was
    /// and the output logs are kept with the run; then `ScratchFolders` removes the local copy
    /// and the halts' file, and the process ends by the signal (docs/TEAMS.md, "Running on the
    /// store"). The server drops the lease and locks with the connection. A command still running
    /// is ended with the session (`CommandSupervisor`), so `resume` says it may have run.
    /// Ctrl-C is not among these signals: in a session it stops a step's command.
    func stopsOnSignals(_ journal: StoreMirrorJournal, directory: String, terminal: any Terminal) {
        let runID = runID
        ScratchFolders.onStop { [self] number in
            let (events, unfinished) = journal.stopForGood(within: Self.stopWithin)
            terminal.restore()
            keepOutputs(of: directory, within: Self.stopWithin)
            let name = number == SIGHUP ? "SIGHUP" : number == SIGTERM ? "SIGTERM" : "signal \(number)"
            let maybe = unfinished ? ", and event \(events + 1), whose commit was under way, may be there too ('runsheet status' shows it)" : ""
            Output.error("\(name) stopped the session of run \(runID.shown): it stops here with every event up to \(events) in the store\(maybe), " +
                         "and nothing it did not acknowledge; 'runsheet resume \(runID)' continues the run")
        }
    }
}
