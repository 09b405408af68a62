import ArgumentParser
import Foundation
import RunsheetCore

struct Update: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update",
        abstract: "Propose edits to a runbook from real runs: estimates, added steps, lessons.",
        discussion: """
            From the runs given, sets each step's Estimate to the median time operators \
            took (rounded: 5 s under a minute, whole minutes under an hour, 5 min beyond; \
            an estimate within --tolerance of it is kept), inserts the steps operators \
            recorded with the walk-through's `add` action before the step they were on, \
            and adds the notes they marked with `lesson` as `Lesson:` annotations.

            Every change is a whole line replaced or inserted; no other byte changes, so \
            the Git diff is exactly the proposal, and running it again changes nothing. \
            Without --patch the runbook is rewritten in place (in one piece); with --patch \
            a unified diff for `git apply` is printed, or written with -o.

            Examples:
              runsheet update runbooks/canary-deploy.md --all --patch
              runsheet update runbooks/canary-deploy.md --from canary-deploy-2026 \\
                  --min-samples 3
              runsheet update runbooks/canary-deploy.md --all --patch -o estimates.patch
            """
    )

    @Argument(help: "The runbook to update.", completion: Completions.runbook) var runbook: String
    @Option(name: .customLong("from"), help: "A run of this runbook (id, unique prefix or folder); repeat for more.", completion: Completions.runID) var runs: [String] = []
    @Flag(help: "Use every run of this runbook in the runs folder.") var all = false
    @Flag(help: "Print a unified diff instead of changing the file.") var patch = false
    // Not OutputFileOption: without --patch, update writes the runbook itself, not standard output.
    @Option(name: [.short, .customLong("output")], help: "With --patch: write the diff to this file.") var output: String?
    @Option(help: "Fewest observed durations before an estimate is proposed.") var minSamples = 1
    @Option(help: "Keep an estimate when the median is within this percentage of it.") var tolerance = 20
    @OptionGroup var runsFolder: RunsFolderOption
    @OptionGroup var storeOption: StoreOption

    func validate() throws {
        if runs.isEmpty && !all { throw ValidationError("name the runs to learn from with --from RUN (repeatable), or use --all") }
        if minSamples < 1 { throw ValidationError("--min-samples must be at least 1") }
        if tolerance < 0 { throw ValidationError("--tolerance is a percentage, 0 or more") }
        if output != nil && !patch { throw ValidationError("-o/--output goes with --patch; without it the runbook itself is updated") }
    }

    func run() throws {
        let (result, bytes) = try RunSupport.compile(runbook)
        let book = result.runbook
        // On the PostgreSQL store, its runs of this runbook read in memory as a runs folder's are (StoreRuns).
        let stored = try StoreRuns.chosen(storeOption.store) { _, started in started?.runbookId == book.id }
        defer { stored?.close() }
        let storeCatalog = stored.map(RunCatalog.load)
        let runsDirectory = RunContext.runsDirectory(explicit: runsFolder.runsDir, near: (runbook as NSString).deletingLastPathComponent.isEmpty ? "." : (runbook as NSString).deletingLastPathComponent)
        var states: [RunState] = []
        for reference in runs {
            let state: RunState
            if let storeCatalog, let stored {
                // A run of the store is named by its whole id.
                guard let entry = storeCatalog.entries.first(where: { $0.id == reference }) else {
                    throw CommandFailure(status: .usage, message: "the store \(stored.store) holds no run '\(reference.shown)' of '\(book.id)' (a run in the store is named by its whole id)")
                }
                if let problem = entry.problem { throw CommandFailure(status: .findings, message: RunSupport.refusal(problem, path: RunSupport.shownJournalPath(entry.directory))) }
                state = entry.state
            } else {
                state = try RunSupport.verifiedState(in: try RunContext.runDirectory(reference, runsDir: runsFolder.runsDir ?? runsDirectory), repair: false)
            }
            guard state.runbookID == book.id else {
                throw CommandFailure(status: .usage, message: "run \(state.runID) is a run of '\(state.runbookID)', not of '\(book.id)' (\(runbook)); pick runs of this runbook ('runsheet status' lists them)")
            }
            states.append(state)
        }
        if all {
            let catalog = storeCatalog ?? RunCatalog.load(runsDirectory)
            for entry in catalog.entries where entry.state.runbookID == book.id && !states.contains(where: { $0.runID == entry.state.runID }) {
                if let problem = entry.problem {
                    Output.error("run \(entry.id) is left out: " + RunSupport.refusal(problem, path: RunSupport.journalPath(entry.directory)))
                    continue
                }
                states.append(entry.state)
            }
            if states.isEmpty { throw CommandFailure(status: .usage, message: "no runs of '\(book.id)' in \(stored.map { "the store \($0.store)" } ?? runsDirectory); run it first, or pass --runs-dir") }
        }
        let update = RunbookUpdate.propose(source: bytes, runbook: book, runs: states,
                                           options: .init(minSamples: minSamples, tolerance: Double(tolerance) / 100))
        for line in update.unplaced { Output.error(line) }
        let summary = { (text: String) in patch && output == nil ? Output.error(text) : Output.line(text) }
        guard !update.edits.isEmpty else {
            summary("\(runbook): nothing to update from \(states.count) run\(states.count == 1 ? "" : "s")")
            return
        }
        for change in update.changes { summary("\(runbook):\(change.line): \(change.summary)") }
        if patch {
            let diff = update.edits.unifiedDiff(source: bytes, path: Self.repositoryPath(runbook))
            try OutputFile.write(Array(diff.utf8), to: output)
        } else {
            try OutputFile.write(update.edits.apply(to: bytes), to: runbook)
        }
    }

    /// The runbook's path from the root of its Git work tree (what `git apply` expects), else as given.
    static func repositoryPath(_ path: String) -> String {
        let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
        let directory = (absolute as NSString).deletingLastPathComponent
        if let root = RunContext.gitRoot(of: directory), absolute.hasPrefix(root + "/") {
            return String(absolute.dropFirst(root.count + 1))
        }
        return path.hasPrefix("./") ? String(path.dropFirst(2)) : path
    }
}
