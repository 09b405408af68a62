import ArgumentParser
import Foundation
import RunsheetCore


struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Write a run's report: Markdown, HTML, JSON, JUnit XML or CSV.",
        discussion: """
            The header names the runbook, its commit and SHA-256, the parameters (secrets \
            masked), the class, the actors, start, end and outcome; then every step with \
            its outcome, who, when, how long against the estimate, notes, exit codes, \
            sign-offs and the branch taken. Markdown carries a Mermaid timeline; HTML is \
            one self-contained file with an inline SVG timeline. The same journal always \
            gives the same bytes.

            Layouts are Mustache templates (templates/reports/ in the source); --template \
            uses your own. JSON is the schema runsheet.report/1.

            Examples:
              runsheet report checkout-deploy-20261122-051200-ab12 --format md -o report.md
              runsheet report checkout-deploy --format junit -o junit.xml
              runsheet report checkout-deploy --format html -o report.html \\
                  --template ours.html.mustache
            """
    )

    @Argument(help: "The run id (or unique prefix, or the run's folder).", completion: Completions.runID) var runID: String
    @OptionGroup var formatOption: FormatOption<ReportRenderer.Format>
    @OptionGroup var outputFile: OutputFileOption
    @OptionGroup var layout: TemplateOption
    @OptionGroup var runsFolder: RunsFolderOption
    @OptionGroup var storeOption: StoreOption

    func run() throws {
        try StoreRoute.reading(runID, flag: storeOption.store, locate: { try RunContext.runDirectory(runID, runsDir: runsFolder.runsDir) }) { directory, view in
            try report(directory, voided: VoidedLines.reported(of: view, run: runID))
        }
    }

    /// Writes the report of the run in `directory`; `voided`: what `store void` took out of it.
    func report(_ directory: String, voided: [RunReport.VoidedRecords]? = nil) throws {
        let (events, problem) = try RunSupport.shownEvents(in: directory)
        let state = RunState.fold(events)
        let (result, bytes) = try RunSupport.compileRunbook(of: state, runDirectory: directory)
        var report = RunReport.make(events: events, runbook: result.runbook, currentSHA256: SHA256Hex.of(bytes),
                                    signatures: RunSignatures.outcomes(state, runDirectory: directory))
        if let rule = UnsignedSignOffs.rule(state, Governance.load(for: result.runbook).0) { report.markUnsignedSignOffs(rule) }
        report.voided = voided
        let text = try ReportTemplate.render(layout.template) { try ReportRenderer.render(report, format: formatOption.format, template: $0) }
        try OutputFile.write(Array(text.utf8), to: outputFile.output)
        try RunSupport.finishShowing(problem)
    }
}
