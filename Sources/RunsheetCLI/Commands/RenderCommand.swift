import ArgumentParser
import Foundation
import RunsheetCore

struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Print the runbook's Markdown filled in from a run: boxes ticked and a trail per step.",
        discussion: """
            A done step's box becomes [x]; any other step's box is left empty. Each \
            settled step gets one bullet under it: who, when, how long against the \
            estimate, the skip or failure reason, sign-offs and notes; a step a completed \
            run jumped over with goto and never did gets a "⊘ NEVER DONE" bullet. No other \
            byte changes, so the diff against the source shows only those lines.

            Examples:
              runsheet render checkout-deploy-20261122-051200-ab12
              runsheet render checkout-deploy -o checklist.md
              git diff --no-index runbooks/blue-green-deploy.md checklist.md
            """
    )

    @Argument(help: "The run id (or unique prefix, or the run's folder).", completion: Completions.runID) var runID: String
    @OptionGroup var outputFile: OutputFileOption
    @OptionGroup var runsFolder: RunsFolderOption
    @OptionGroup var storeOption: StoreOption

    func run() throws {
        try StoreRoute.reading(runID, flag: storeOption.store, locate: { try RunContext.runDirectory(runID, runsDir: runsFolder.runsDir) }) { directory, _ in
            try render(directory)
        }
    }

    /// Renders the run in `directory` (a run folder, or a store run laid out by `StoreRunView`).
    func render(_ directory: String) throws {
        let (state, problem) = try RunSupport.shownState(in: directory)
        let (result, bytes) = try RunSupport.compileRunbook(of: state, runDirectory: directory)
        if SHA256Hex.of(bytes) != state.runbookSHA256 {
            Output.error("\(state.runbookPath) changed since run \(state.runID) started; its steps are matched by id")
        }
        let rendered = ChecklistRenderer.render(source: bytes, runbook: result.runbook, state: state)
        try OutputFile.write(rendered, to: outputFile.output)
        try RunSupport.finishShowing(problem)
    }
}
