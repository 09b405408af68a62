import Foundation
import RunsheetCore

/// Where a run's record belongs. A run folder in a runs folder inside a Git repository is that
/// repository's run: its rules (roles, policy, calendar, allowed signers) are the repository's,
/// so its runbook must be in that repository, and the folder must be named for the run its
/// journal records. Otherwise a copy of a runbook elsewhere, beside rule files of the operator's
/// own, or a copied run folder (one set of approvals used twice), would pass as the repository's.
enum RunBinding {
    /// The Git work tree that holds `runDirectory`'s runs folder, if any.
    static func repository(ofRun runDirectory: String) -> String? {
        RunContext.gitRoot(of: (absolute(runDirectory) as NSString).deletingLastPathComponent)
    }

    /// Why the run in `runDirectory` is not where it belongs; nil when it is.
    /// Only a run folder (one holding `journal.jsonl`) is bound: a journal exported or copied
    /// under another name (`export -o RUN.jsonl`) verifies anywhere, as an auditor needs.
    static func problem(_ state: RunState, runDirectory: String) -> JournalProblem? {
        if !state.startedPlanHolds {
            return JournalProblem(kind: .altered, line: 1, seq: 1, message:
                "run.started's plan is not the hash of its runbook, parameters and change record, so one of them was edited after the run started; an approval covers them as they were")
        }
        // A run of the PostgreSQL store is bound by its id, the store's key, not by where it lies.
        let store = StoreRunView.layout(of: runDirectory)
        guard store != nil || FileManager.default.fileExists(atPath: runDirectory + "/journal.jsonl") else { return nil }
        let folder = store?.run ?? (absolute(runDirectory) as NSString).lastPathComponent
        if !state.runID.isEmpty, folder != state.runID {
            return JournalProblem(kind: .misplaced, line: 1, seq: 1, message:
                "the folder \(folder.shown) holds the journal of run \(state.runID.shown), a copy or a move; a run's approvals count once, in the folder named for it")
        }
        if store == nil, let repository = repository(ofRun: runDirectory), let outside = outside(state.runbookPath, repository: repository) {
            return JournalProblem(kind: .misplaced, line: 1, seq: 1, message:
                "the run was started from \(outside.shown), outside the repository \(repository.shown) that holds its runs folder, so the repository's rules never applied to it")
        }
        return nil
    }

    /// The path of `runbook` when it is not the repository's own; nil when it is. A relative path
    /// counts from the repository's root (where a later command looks for it).
    static func outside(_ runbook: String, repository: String) -> String? {
        let path = runbook.hasPrefix("/") ? runbook : repository + "/" + runbook
        guard runbook.hasPrefix("/") || FileManager.default.fileExists(atPath: path) else { return nil }
        return inside(path, repository: repository) ? nil : path
    }

    /// Whether `path` is the repository's own: with its links resolved it lies under
    /// `repository`, and the Git work tree around it, found both through the path as written and
    /// through the resolved one, is `repository` itself, not a nested repository or a `git
    /// worktree` inside it (whose rule files and allowed signers would be found first), nor
    /// another repository linking to it.
    static func inside(_ path: String, repository: String) -> Bool {
        let root = resolved(repository)
        let target = resolved(path)
        return under(target, root) && [(absolute(path) as NSString).deletingLastPathComponent, (target as NSString).deletingLastPathComponent]
            .allSatisfy { folder($0, belongsTo: root) }
    }

    /// Whether `folder` lies under the resolved repository `root` and the Git work tree around it
    /// is `root` itself.
    static func folder(_ folder: String, belongsTo root: String) -> Bool {
        guard under(resolved(folder), root), let around = RunContext.gitRoot(of: folder) else { return false }
        return resolved(around) == root
    }

    static func under(_ path: String, _ root: String) -> Bool {
        path == root || path.hasPrefix(root.hasSuffix("/") ? root : root + "/")
    }

    /// A refusal before a run starts: a runs folder inside a repository takes only that
    /// repository's runbooks (nil when `runbook` may start there).
    static func startRefusal(runbook: String, runsDirectory: String) -> String? {
        guard let repository = RunContext.gitRoot(of: absolute(runsDirectory)), !inside(absolute(runbook), repository: repository) else { return nil }
        return "\(runbook.shown) is outside the repository \(repository.shown) that holds the runs folder \(runsDirectory.shown), so its rules would not be that repository's; " +
            "run a runbook of that repository, or choose the runs folder of the runbook's own repository with --runs-dir; nothing was written"
    }

    /// A refusal before readiness decides: a release in a Git repository is decided from that
    /// repository's runs only (the runs of another repository, or of a folder outside any, are
    /// checked against rules and allowed signers that are not the release's). nil when it may.
    static func readinessRefusal(release: String, runsDirectory: String) -> String? {
        let folder = (absolute(release) as NSString).deletingLastPathComponent
        guard let repository = RunContext.gitRoot(of: folder) else { return nil }
        if Self.folder(absolute(runsDirectory), belongsTo: resolved(repository)) { return nil }
        return "the runs folder \(runsDirectory.shown) is not in the repository \(repository.shown) of \(release.shown), so its runs were not checked against that repository's rules and allowed signers; " +
            "decide from the repository's own runs folder (its runs/, or --runs-dir inside it)"
    }

    static func absolute(_ path: String) -> String {
        let full = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        return URL(fileURLWithPath: full).standardizedFileURL.path
    }

    /// `path` with every link resolved as far as it exists (a missing tail is kept as written).
    static func resolved(_ path: String) -> String {
        var head = absolute(path)
        var tail: [String] = []
        while head != "/" {
            if let real = realpath(head, nil) {
                defer { free(real) }
                return ([String(cString: real)] + tail.reversed()).joined(separator: "/").replacingOccurrences(of: "//", with: "/")
            }
            tail.append((head as NSString).lastPathComponent)
            head = (head as NSString).deletingLastPathComponent
        }
        return "/" + tail.reversed().joined(separator: "/")
    }
}
