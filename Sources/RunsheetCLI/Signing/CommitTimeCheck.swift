import Foundation
import RunsheetCore
import Synchronization

/// A signed run's events may not be dated before the commit its `run.started` records (`gitCommit`)
/// was made, when that commit is in the runbook's repository: a run backdated to before a key was
/// retired, and re-signed with it, still names the commit that retired the key (docs/JOURNAL.md,
/// "Signatures in the journal"). The committer's clock and the writer's may disagree by
/// `SignatureVerification.clockTolerance`.
enum CommitTimeCheck {
    /// Committer dates by repository and commit, so that a folder of runs asks Git once per commit.
    private static let known = Mutex<[String: Date?]>([:])

    /// The first event checked (`run.started` and each signed event) stamped before the commit was made.
    static func problem(_ state: RunState, runDirectory: String) -> JournalProblem? {
        guard let recorded = state.gitCommit, case let commit = String(recorded.prefix { $0 != "+" }),
              commit.count >= 7, commit.allSatisfy(\.isHexDigit), !StoreRunView.unanchored(runDirectory) else { return nil }
        let runbook = RunSupport.signersAnchor(of: state, runDirectory: runDirectory)
        let directory = (runbook as NSString).deletingLastPathComponent.isEmpty ? "." : (runbook as NSString).deletingLastPathComponent
        guard let root = RunContext.gitRoot(of: directory), let made = committed(commit, in: root) else { return nil }
        return SignatureVerification.stampedBeforeCommit(state, commit: commit, made: made)
    }

    private static func committed(_ commit: String, in root: String) -> Date? {
        let key = root + "\u{0}" + commit
        if let cached = known.withLock({ $0[key] }) { return cached }
        let date = RunContext.gitOutput(["show", "-s", "--format=%ct", commit + "^{commit}"], in: root)
            .flatMap { TimeInterval($0) }.map { Date(timeIntervalSince1970: $0) }
        known.withLock { $0[key] = date }
        return date
    }
}
