import ArgumentParser
import Foundation
import RunsheetCore


struct Readiness: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "readiness",
        abstract: "Decide GO, NO-GO or GO with exceptions for a release, from its runs.",
        discussion: """
            The release is a Markdown file: front matter with its id, target date, class \
            and owner; links to the runbooks it requires under a "Requires" heading and to \
            its rollback runbook under a "Rollback" heading (docs/FORMAT.md, Release files).

            The decision comes from the newest run of each runbook, never typed in. \
            Missing runs, runs in progress, failed or aborted runs, a run under a less \
            strict class than the release's, gates skipped, sign-offs older than the \
            step, runs on an older runbook, an overdue follow-up review, a target time \
            outside the change windows or in a freeze, a rollback runbook never \
            rehearsed, and a run that requires signatures (signatures: required) but \
            was not sealed after it ended by someone other than its starter ('runsheet \
            seal') block the release. So does any run of a required runbook whose \
            journal does not verify or cannot be read, named at its first bad line: \
            readiness never falls back to an older run in its place. Manual skips, \
            failures continued past, forced steps, waived gates, emergency runs and \
            change-calendar exceptions are exceptions, each with who made it. A halt \
            in force ('runsheet halt') that matches the release blocks it, with who, why \
            and since when. A release closed with 'runsheet release close' shows who \
            closed it and when, the runs started after it, and a PIR follow-up due when \
            it had failures, rollbacks or exceptions.

            The report names the runsheet version, and for each item the run used, its \
            class against the release's, the approvers (signatures that count, and \
            waivers), plan changes, its journal's event count and head hash, and its \
            seals.

            --at decides as of that time: each journal counts as it stood then, so later \
            runs are not there, a run that ended later is in progress, and a signature \
            made later does not count. The same files and --at give the same bytes.

            Exit codes: 0 GO, 1 NO-GO, 4 GO with exceptions, 2 bad usage or an \
            unreadable release file.

            Examples:
              runsheet readiness releases/2026-12-checkout.md
              runsheet readiness releases/2026-12-checkout.md --format html -o ready.html
              runsheet readiness releases/2026-12-checkout.md --format json \\
                  --at 2026-12-01T09:00:00Z
            """
    )

    @Argument(help: "The release file.", completion: Completions.runbook) var release: String
    @OptionGroup var formatOption: FormatOption<ReadinessRenderer.Format>
    @OptionGroup var outputFile: OutputFileOption
    @OptionGroup var layout: TemplateOption
    @Option(help: "Decide as of this time (ISO 8601, or a date), counting only what had happened by then.") var at: String?
    @OptionGroup var runsFolder: RunsFolderOption
    @OptionGroup var storeOption: StoreOption

    func run() throws {
        let now = try at.map { try DateOption.parse($0, option: "--at") } ?? Date()
        let (parsed, report, _) = try ReleaseDecision.decide(release, at: now, rewound: at != nil, runsDir: runsFolder.runsDir, store: storeOption.store)
        let text = try ReportTemplate.render(layout.template) { try ReadinessRenderer.render(report, format: formatOption.format, template: $0) }
        try OutputFile.write(Array(text.utf8), to: outputFile.output)
        if outputFile.output != nil {
            Output.error("\(parsed.id): \(report.decision.rawValue) (\(report.blockers.count) blocking, \(report.exceptions.count) exceptions); report in \(outputFile.output ?? "")")
        }
        switch report.decision {
        case .go: return
        case .noGo: throw CommandFailure(status: .findings, message: "")
        case .goWithExceptions: throw CommandFailure(status: .exceptions, message: "")
        }
    }

    /// The runbook behind a release entry, its runs, its change calendar, and the roles and class
    /// policy that say which signatures on its gates count. A rule file that cannot be read,
    /// decoded or parsed stops the decision.
    static func evidence(_ item: Release.Item, rollback: Bool, runs runsOf: (String) -> [RunRecord]) throws -> ReadinessReport.Evidence {
        let bytes: [UInt8]
        do {
            bytes = try FileReader.read(item.path)
        } catch {
            return .init(item: item, rollback: rollback, runbook: nil, problem: RunbookFiles.describe(error, path: item.path), runs: [], calendar: nil)
        }
        let result = Compiler().compile(path: item.path, bytes: bytes)
        try RunSupport.refuseUnreadableRules(result.diagnostics, runbook: item.path)
        if result.hasErrors {
            return .init(item: item, rollback: rollback, runbook: nil, problem: "\(item.path) has \(result.errors.count) error(s); see runsheet check \(item.path)", runs: [], calendar: nil)
        }
        let governance = try RunSupport.governance(for: result.runbook)
        var evidence = ReadinessReport.Evidence(item: item, rollback: rollback, runbook: result.runbook, problem: nil,
                                                runs: runsOf(result.runbook.id), calendar: governance.calendar)
        evidence.governance = governance
        return evidence
    }
}
