import Foundation
import RunsheetCore

/// The signature check of a run's journal, against the allowed signers file of the repository
/// its runbook is in: every command that reads a run asks it after the hash chain holds.
enum RunSignatures {
    /// The allowed signers for a run's runbook and the file's path; nil when the repository has none.
    static func signers(for state: RunState, runDirectory: String) -> (signers: AllowedSigners, path: String)? {
        let runbook = RunSupport.signersAnchor(of: state, runDirectory: runDirectory)
        guard !StoreRunView.unanchored(runDirectory), let (signers, _) = AllowedSigners.load(forRunbook: runbook) else { return nil }
        return (signers, signers.path)
    }

    /// The first signed event of the run whose signature does not verify; nil when all do (or
    /// none is signed, which costs nothing).
    static func problem(_ state: RunState, runDirectory: String) -> JournalProblem? {
        check(state, runDirectory: runDirectory).problem
    }

    /// Each signed event's outcome, by seq, for reports and `verify`.
    static func outcomes(_ state: RunState, runDirectory: String) -> [Int: SignatureVerification.Outcome] {
        check(state, runDirectory: runDirectory).outcomes
    }

    /// `problem` and `outcomes` from one check of each signature and one read of the allowed
    /// signers: what `verify` prints (checking them twice doubled its cost, docs/BENCHMARKS.md, "Signatures").
    /// A run that is not where it belongs (`RunBinding`) fails here too: its signatures would be
    /// checked against rules that are not the repository's. So does one whose recorded commit is
    /// not the repository's (`RecordedCommitCheck`).
    static func check(_ state: RunState, runDirectory: String) -> (problem: JournalProblem?, outcomes: [Int: SignatureVerification.Outcome]) {
        if let misplaced = RunBinding.problem(state, runDirectory: runDirectory) ?? RecordedCommitCheck.problem(state, runDirectory: runDirectory) {
            return (misplaced, [:])
        }
        guard !state.signedEvents.isEmpty else { return (nil, [:]) }
        // A store run of no repository here is checked against no allowed signers (StoreRunView).
        let loaded = StoreRunView.unanchored(runDirectory) ? nil : AllowedSigners.load(forRunbook: RunSupport.signersAnchor(of: state, runDirectory: runDirectory))
        var all = SignatureVerification.outcomes(of: state, signers: loaded?.0)
        // A file that cannot be read says so, not that the key is missing from it.
        if let unreadable = loaded.flatMap({ AllowedSigners.readProblem(in: $0.1) }) {
            all = all.map { outcome in
                var outcome = outcome
                if !outcome.verified { outcome.problem = "\(unreadable), so whose key made the signature cannot be known" }
                return outcome
            }
        }
        let outcomes = Dictionary(all.map { ($0.seq, $0) }, uniquingKeysWith: { first, _ in first })
        return (SignatureVerification.problem(among: all, in: state, signersPath: loaded?.0.path) ?? CommitTimeCheck.problem(state, runDirectory: runDirectory), outcomes)
    }
}
