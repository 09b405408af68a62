import ArgumentParser
import Foundation
import RunsheetCore


struct Readiness: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decide GO, NO-GO or GO with exceptions for a release, from its runs.",
        discussion: """
            The release is a Markdown file: front matter with its id, target date, class \
            and owner; links to the runbooks it requires under a "Requires" heading and to \
            its rollback runbook under a "Rollback" heading (docs/FORMAT.md, Release files).

            The decision comes from the newest run of each runbook, never typed in. \
            Missing runs, runs in progress, failed or aborted runs, gates skipped, \
            sign-offs older than the step, runs on an older runbook, an overdue follow-up \
            review, a target time outside the change windows or in a freeze, and a \
            rollback runbook never rehearsed block the release. Manual skips, failures \
            continued past and change-calendar exceptions are exceptions, each with who \
            made it.

            Exit codes: 0 GO, 1 NO-GO, 4 GO with exceptions, 2 bad usage or an \
            unreadable file.

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
    @Option(help: "Decide as of this time (ISO 8601, or a date) instead of now.") var at: String?
    @OptionGroup var runsFolder: RunsFolderOption

    func run() throws {
        let bytes: [UInt8]
        do {
            bytes = try FileReader.read(release)
        } catch {
            throw CommandFailure(status: .usage, message: RunbookFiles.describe(error, path: release))
        }
        let parsed: Release
        do {
            parsed = try Release.parse(path: release, bytes: bytes)
        } catch let problem as Release.Problem {
            throw CommandFailure(status: .usage, message: problem.errorDescription ?? problem.message)
        }
        let now = try at.map { try DateOption.parse($0, option: "--at") } ?? Date()
        let folder = (release as NSString).deletingLastPathComponent
        let catalog = RunCatalog.load(RunContext.runsDirectory(explicit: runsFolder.runsDir, near: folder.isEmpty ? "." : folder))
        catalog.reportUnreadable()
        let evidence = try parsed.requires.map { try Self.evidence($0, rollback: false, catalog: catalog) }
            + parsed.rollback.map { try Self.evidence($0, rollback: true, catalog: catalog) }
        let report = ReadinessReport.evaluate(parsed, evidence: evidence, now: now)
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

    /// The runbook behind a release entry, its runs (newest first) and its change calendar. A rule
    /// file that cannot be read, decoded or parsed stops the decision.
    static func evidence(_ item: Release.Item, rollback: Bool, catalog: RunCatalog) throws -> ReadinessReport.Evidence {
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
        let runs = catalog.entries.filter { $0.state.runbookID == result.runbook.id }.map(\.state)
        return .init(item: item, rollback: rollback, runbook: result.runbook, problem: nil, runs: runs,
                     calendar: try RunSupport.governance(for: result.runbook).calendar)
    }
}
