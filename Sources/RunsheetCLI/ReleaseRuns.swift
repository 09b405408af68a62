import Foundation
import RunsheetCore
import RunsheetPostgres

/// The runs `readiness` decides a release from when a PostgreSQL store is chosen (docs/TEAMS.md,
/// "Readiness from the store"). A runs folder binds its runs to the release's repository by where
/// it lies (`RunBinding.readinessRefusal`); the store binds them by what it is and what each run
/// records: a run counts only when the runbook path `run.started` recorded is that repository's
/// own and the commit it recorded is in that repository's history (`StoreRunView.repositoryRunbook`).
/// Any other run of the store (another repository's, or one started from a copy of the runbook
/// elsewhere) is left out, named on standard error, and never counts. Its signatures are checked
/// against the release repository's allowed signers.
enum ReleaseRuns {
    /// The release's runs from the store `flag` chooses, fetched (`StoreRuns`); nil when the folder store is chosen.
    static func fromStore(_ flag: String?, release: Release) throws -> StoreRuns? {
        let folder = (RunBinding.absolute(release.path) as NSString).deletingLastPathComponent
        let repository = RunContext.gitRoot(of: folder)
        // The runbook ids the release requires; a runbook that cannot be read has no runs to fetch.
        let items = release.requires + release.rollback
        let ids = Set(items.compactMap { item -> String? in
            guard let bytes = try? FileReader.read(item.path) else { return nil }
            let result = Compiler().compile(path: item.path, bytes: bytes)
            return result.hasErrors ? nil : result.runbook.id
        })
        let parts = Set(ids.map { $0.isEmpty ? "run" : String($0.prefix(40)) })
        var unbound: [(String, String)] = []
        let runs = try StoreRuns.chosen(flag, repository: repository) { listed, started in
            // As a runs folder does: the runs whose first event names a required runbook, those
            // named like its runs, and those whose first event names none (to be flagged).
            guard let started else { return true }
            guard ids.contains(started.runbookId) || RunRecord.runbookPart(ofFolder: listed.id).map(parts.contains) == true else { return false }
            guard let repository, StoreRunView.repositoryRunbook(started, in: repository) == nil else { return true }
            unbound.append((listed.id, started.runbook + (started.gitCommit.map { " at commit \(String($0.prefix(12)))" } ?? "")))
            return false
        }
        if let runs, let repository {
            for (id, runbook) in unbound {
                Output.error("run \(id.shown) in the store \(runs.store) is left out: it was started from \(runbook.shown), which is not in the history of the repository \(repository.shown) of \(release.path.shown), so that repository's rules never applied to it")
            }
        }
        return runs
    }
}
