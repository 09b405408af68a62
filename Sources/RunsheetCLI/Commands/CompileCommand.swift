import ArgumentParser
import Foundation
import RunsheetCore

enum GraphFormat: String, OutputFormat {
    case json, mermaid, dot

    static var standard: Self { .json }
}

struct CompileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compile",
        abstract: "Print a runbook's step graph as JSON (the versioned IR), Mermaid or Graphviz DOT.",
        discussion: """
            Findings are printed to standard error; with errors nothing is printed and the \
            exit code is 1.

            Examples:
              runsheet compile runbooks/blue-green-deploy.md --format mermaid
              runsheet compile runbooks/canary-deploy.md --format dot | dot -Tsvg > c.svg
              runsheet compile runbooks/upgrade-checklist.md > upgrade.json
            """
    )

    @Argument(help: "The runbook file.", completion: Completions.runbook)
    var file: String

    @OptionGroup var formatOption: FormatOption<GraphFormat>

    func run() throws {
        let result: CompileResult
        do {
            result = try Compiler().compile(path: file)
        } catch {
            throw CommandFailure(status: .usage, message: RunbookFiles.describe(error, path: file))
        }
        for diagnostic in result.diagnostics {
            _ = try? FileHandle.standardError.write(contentsOf: Data((diagnostic.formatted + "\n").utf8))
        }
        if result.hasErrors {
            throw CommandFailure(status: .findings, message: "\(file) has \(result.errors.count) error(s); nothing compiled")
        }
        switch formatOption.format {
        case .json:
            // Streamed in chunks: the JSON of a large runbook is several times its size.
            RunbookJSON.write(result.runbook) { _ = try? FileHandle.standardOutput.write(contentsOf: Data(buffer: $0)) }
        case .mermaid: Output.out(GraphRenderer.mermaid(result.runbook))
        case .dot: Output.out(GraphRenderer.dot(result.runbook))
        }
        // Everything is written; the process ends here rather than freeing the step graph of a
        // large runbook object by object first, which took a tenth of the command's time on a
        // 10 MB runbook (docs/BENCHMARKS.md).
        Foundation.exit(ExitStatus.success.rawValue)
    }
}
