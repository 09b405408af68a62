import Foundation
import RunsheetCore
import Synchronization

/// The commit a run's `run.started` records (`gitCommit`) must be HEAD, or an ancestor of HEAD, of
/// the repository the run belongs to (the one holding its runs folder, else its runbook's). A
/// commit outside that history (unknown there, or only fetched into some other ref)
/// means the run was started from another history (a run folder moved in from another repository
/// with the same allowed signers), and it would also switch off `CommitTimeCheck`; so would a run
/// that records no commit in a repository that requires signatures. Both fail `verify`, and
/// readiness does not decide from such a run. Fail closed: a commit a shallow clone or a
/// squash-merged branch lost cannot be told from a foreign one, so the sentence says to check
/// out or merge the branch the run was started from (docs/JOURNAL.md, "The recorded commit").
enum RecordedCommitCheck {
    /// Answers by repository and commit, so that a folder of runs asks Git once per commit.
    private static let known = Mutex<[String: Bool]>([:])

    static func problem(_ state: RunState, runDirectory: String) -> JournalProblem? {
        guard let (runbook, repository) = repository(of: state, runDirectory: runDirectory) else { return nil }
        func flagged(_ message: String) -> JournalProblem { JournalProblem(kind: .misplaced, line: 1, seq: 1, message: message) }
        guard let recorded = state.gitCommit, !recorded.isEmpty else {
            guard requiresSignatures(state, runbook: runbook), readable(repository) else { return nil }
            return flagged("run.started records no commit, but the repository \(repository.shown) requires signatures, so the run cannot be shown to come from this repository's history nor to be dated after its commit; start signed runs from a committed runbook of the repository")
        }
        let commit = String(recorded.prefix { $0 != "+" })
        let name = String(commit.prefix(12)).shown
        guard readable(repository) else {
            return flagged("run.started records commit \(name), which cannot be checked because Git cannot read the repository \(repository.shown), so the run cannot be shown to come from it; check the run in a clone of the repository")
        }
        if inHistory(commit, in: repository) { return nil }
        if RunContext.gitOutput(["rev-parse", "--is-shallow-repository"], in: repository) == "true" {
            return flagged("run.started records commit \(name), which cannot be checked in the shallow clone \(repository.shown), so the run cannot be shown to come from this repository's history; fetch the history with 'git fetch --unshallow' and check again")
        }
        return flagged("run.started records commit \(name), which is not in the history of HEAD of the repository \(repository.shown) that holds the run, so the run comes from another history (a moved run folder) or from a branch that is not checked out; check out or merge the branch the run was started from")
    }

    /// The runbook and the repository a run's recorded commit is checked against: for a run
    /// folder, the repository holding it (else its runbook's). For a run read from the store
    /// (`StoreRunView`), the repository around the command when it is the run's (its runbook at
    /// the recorded path); elsewhere none, as no signature of such a run verifies either (the
    /// store's binding is its run id, docs/TEAMS.md).
    private static func repository(of state: RunState, runDirectory: String) -> (runbook: String, repository: String)? {
        if let layout = StoreRunView.layout(of: runDirectory) {
            guard let anchor = layout.signersAnchor else { return nil }
            let folder = (anchor as NSString).deletingLastPathComponent
            return RunContext.gitRoot(of: folder.isEmpty ? "." : folder).map { (anchor, $0) }
        }
        let runbook = RunSupport.runbookPath(of: state, runDirectory: runDirectory)
        let runbookFolder = (runbook as NSString).deletingLastPathComponent
        let inRunFolder = FileManager.default.fileExists(atPath: runDirectory + "/journal.jsonl")
        let holder = inRunFolder ? RunBinding.repository(ofRun: runDirectory) : RunContext.gitRoot(of: RunBinding.absolute(runDirectory))
        return (holder ?? RunContext.gitRoot(of: runbookFolder.isEmpty ? "." : runbookFolder)).map { (runbook, $0) }
    }

    /// A refusal before a run that requires signatures starts where it could record no commit
    /// (its repository has none yet), since such a run would never verify; nil when it may start.
    static func startRefusal(runbook: String) -> String? {
        let folder = (runbook as NSString).deletingLastPathComponent
        guard let repository = RunContext.gitRoot(of: folder.isEmpty ? "." : folder), readable(repository),
              RunContext.gitCommit(for: runbook) == nil else { return nil }
        return "the repository \(repository.shown) requires signatures, and a signed run records the commit it starts from, but it has no commit yet, so the run would never verify and nothing was written; commit \(runbook.shown) first"
    }

    /// Whether Git itself reads `repository` as a work tree with that root (not an empty or
    /// made-up `.git`, nor a repository around it).
    private static func readable(_ repository: String) -> Bool {
        let key = "readable\u{0}" + repository
        if let cached = known.withLock({ $0[key] }) { return cached }
        let top = RunContext.gitOutput(["rev-parse", "--show-toplevel"], in: repository)
        let answer = top.map { RunBinding.resolved($0) == RunBinding.resolved(repository) } ?? false
        known.withLock { $0[key] = answer }
        return answer
    }

    /// Whether `commit` (a recorded `gitCommit` without its `+dirty`) is HEAD or an ancestor of
    /// it: a commit object merely present (fetched from another repository into some ref, even
    /// one deleted since) does not count, nor does text that is no commit name.
    static func inHistory(_ commit: String, in repository: String) -> Bool {
        guard commit.count >= 7, commit.count <= 64, commit.allSatisfy(\.isHexDigit) else { return false }
        let key = repository + "\u{0}" + commit
        if let cached = known.withLock({ $0[key] }) { return cached }
        let answer = RunContext.gitOutput(["cat-file", "-e", commit + "^{commit}"], in: repository) != nil
            && RunContext.gitOutput(["merge-base", "--is-ancestor", commit + "^{commit}", "HEAD"], in: repository) != nil
        known.withLock { $0[key] = answer }
        return answer
    }

    /// The run recorded that it requires signatures, or the repository's policy requires them for its class now.
    private static func requiresSignatures(_ state: RunState, runbook: String) -> Bool {
        if state.signaturesRequired { return true }
        return Policy.load(forRunbook: runbook).map { $0.0[state.releaseClass].requiresSignatures } ?? false
    }
}
