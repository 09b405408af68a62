import Foundation
import RunsheetCore

/// The runbooks of many runs as they are now, for `metrics`: each found where `report` finds a
/// run's runbook (`RunSupport.runbookPath`), read and compiled once per file, or the sentence
/// why it cannot be. A run of the PostgreSQL store read with others (`StoreRuns`) has no runbook
/// laid out: its runbook in the current repository is taken, when the run is that repository's.
struct CurrentRunbooks {
    private var compiled: [String: (runbook: Runbook?, problem: String?)] = [:]

    mutating func of(_ state: RunState, runDirectory: String) -> (runbook: Runbook?, problem: String?) {
        if let layout = StoreRunView.layout(of: runDirectory), layout.signersAnchor == nil {
            return (nil, "its runbook \(state.runbookPath.shown) is not in the repository around the current folder, or its recorded commit is not in that repository's history")
        }
        let path = RunSupport.signersAnchor(of: state, runDirectory: runDirectory)
        if let known = compiled[path] { return known }
        let result: (runbook: Runbook?, problem: String?)
        do {
            result = (try RunSupport.compile(path, quiet: true).0.runbook, nil)
        } catch let failure as CommandFailure {
            result = (nil, failure.message)
        } catch {
            result = (nil, RunbookFiles.describe(error, path: path))
        }
        compiled[path] = result
        return result
    }
}
