import ArgumentParser
import Foundation
import RunsheetCore


struct Metrics: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Delivery metrics across runs: frequency, lead time, fail rate, recovery, rework.",
        discussion: """
            Per service and environment (never mixed): deployment frequency, time between \
            deployments, change lead time (when a run's commit_time or commit parameter \
            tells when the change was made), change fail rate, failed deployment recovery \
            time and deployment rework rate, each with n and, for durations, median and \
            p90; then step durations against estimates and the steps that fail, are \
            skipped, or are left never done (moved past with goto in a completed run, \
            judged against the runbook as it is now) most.

            A deployment is a finished, not aborted, run that started a production step. \
            Definitions and formulas: docs/METRICS.md. Markdown has Mermaid charts, HTML \
            inline SVG charts.

            Examples:
              runsheet metrics
              runsheet metrics --since 2026-10-01 --service checkout --format html \\
                  -o metrics.html
              runsheet metrics --format csv -o metrics.csv
              runsheet metrics --change CHG0012345
              runsheet metrics --runbooks runbooks    # the halts of runbooks/.runsheet/
            """
    )

    @Option(help: "Only runs started at or after this date (2026-10-01 or ISO 8601).") var since: String?
    @Option(help: "Only runs started at or before this time (default: now).") var until: String?
    @Option(help: "Only this service.") var service: String?
    @Option(help: ArgumentHelp("Only the runs that carry out this change record (run --change).", valueName: "REF")) var change: String?
    @OptionGroup var formatOption: FormatOption<MetricsRenderer.Format>
    @OptionGroup var outputFile: OutputFileOption
    @OptionGroup var layout: TemplateOption
    @OptionGroup var runsFolder: RunsFolderOption
    @OptionGroup var storeOption: StoreOption
    /// Whose halts the halted time counts: the .runsheet/ found from there (as `status --runbooks`).
    @OptionGroup var governed: GovernedFolderOption

    func run() throws {
        if let change, let problem = ChangeRecordRule().problem(with: change) {
            throw CommandFailure(status: .usage, message: "\(problem); give --change the reference a run was started with")
        }
        let from = try since.map { try DateOption.parse($0, option: "--since") }
        let to = try until.map { try DateOption.parse($0, option: "--until") } ?? Date()
        // On the PostgreSQL store, its runs read in memory as a runs folder's are (StoreRuns).
        let stored = try StoreRuns.chosen(storeOption.store)
        defer { stored?.close() }
        var catalog = stored.map(RunCatalog.load)
            ?? RunCatalog.load(RunContext.runsDirectory(explicit: runsFolder.runsDir, near: FileManager.default.currentDirectoryPath))
        // A run whose journal does not verify is no basis for the figures: warned about first, left out.
        let unverified = catalog.entries.filter { $0.problem != nil }
        for entry in unverified {
            Output.error(RunSupport.warning(entry.problem!, path: RunSupport.shownJournalPath(entry.directory)) + "; run \(entry.id) is left out of the metrics")
        }
        catalog.entries.removeAll { $0.problem != nil }
        catalog.reportUnreadable()
        // Estimates and never-done steps come from the runbook as it is now, found as `report` finds it.
        var runbooks = CurrentRunbooks()
        var commits: [String: Date?] = [:]
        let facts = catalog.entries.map { entry -> DeliveryMetrics.RunFacts in
            let state = entry.state
            let (runbook, problem) = runbooks.of(state, runDirectory: entry.directory)
            let estimates = Dictionary((runbook?.steps ?? []).compactMap { s in s.estimateSeconds.map { (s.id, $0) } }, uniquingKeysWith: { a, _ in a })
            return .init(state: state, commitTime: Self.commitTime(state, cache: &commits), estimates: estimates, runbook: runbook, runbookProblem: problem)
        }
        var metrics = DeliveryMetrics.compute(facts, since: from, until: to, service: service, change: change)
        metrics.halted = HaltStatus.metricsHalted(near: try governed.directory(), store: try StoreRoute.postgresURL(storeOption.store), from: from, to: to, service: service)
        let text = try ReportTemplate.render(layout.template) { try MetricsRenderer.render(metrics, format: formatOption.format, template: $0) }
        try OutputFile.write(Array(text.utf8), to: outputFile.output)
        if let halted = HaltStatus.metricsLine(metrics.halted, service: service) { Output.error(halted) }
        for run in metrics.neverDoneNotCounted { Output.error(run.text) }
        if !unverified.isEmpty { throw CommandFailure(status: .findings, message: "") }
    }

    /// When the shipped change was made: the `commit_time` parameter, else the committer time
    /// of the `commit` parameter in the Git repository holding the runbook.
    static func commitTime(_ state: RunState, cache: inout [String: Date?]) -> Date? {
        if let text = state.params["commit_time"] ?? state.params["commit-time"] { return Timestamp.parse(text) }
        guard let commit = state.params["commit"], !commit.isEmpty, commit.allSatisfy(\.isHexDigit) else { return nil }
        if let known = cache[commit] { return known }
        let folder = (state.runbookPath as NSString).deletingLastPathComponent
        let time = RunContext.gitOutput(["show", "-s", "--format=%cI", commit], in: folder.isEmpty ? "." : folder).flatMap(Timestamp.parse)
        cache[commit] = time
        return time
    }
}
