import ArgumentParser
import Foundation
import RunsheetCore

enum CheckFormat: String, OutputFormat {
    case text, json, sarif

    static var standard: Self { .text }
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Lint runbooks and print findings as path:line:col.",
        discussion: """
            PATH may be a file or a directory (searched recursively for *.md, hidden \
            folders skipped).

            Exit codes: 0 no errors; 1 errors found (or warnings, with --strict); 2 bad \
            usage or unreadable input.

            Examples:
              runsheet check runbooks/
              runsheet check --quiet runbooks/blue-green-deploy.md
              runsheet check --strict --format sarif runbooks/ > runsheet.sarif
            """
    )

    @Argument(help: "Runbook files or directories.", completion: Completions.runbook)
    var paths: [String]

    @OptionGroup var formatOption: FormatOption<CheckFormat>

    @Flag(help: "Treat warnings as errors for the exit code.")
    var strict = false

    @Flag(name: .shortAndLong, help: "Print only the summary line and errors, no warnings.")
    var quiet = false

    func run() throws {
        let files = RunbookFiles.expand(paths)
        var results: [(path: String, diagnostics: [Diagnostic])] = []
        let compiler = Compiler()
        var readFailures = 0
        for problem in files.problems {
            Output.error(problem)
        }
        // A finding in a shared file (the roles file) is reported once, not once per runbook.
        var seen = Set<Diagnostic>()
        var ids: [(path: String, id: String)] = []
        for (path, outcome) in zip(files.paths, Self.compileAll(files.paths, with: compiler)) {
            switch outcome {
            case .success(let (diagnostics, id)):
                results.append((path, diagnostics.filter { $0.path == path || seen.insert($0).inserted }))
                ids.append((path, id))
            case .failure(let error):
                Output.error(RunbookFiles.describe(error, path: path))
                results.append((path, []))
                readFailures += 1
            }
        }
        // Two runbooks with one id: the second is the error (readiness would take one's runs for the other's).
        for duplicate in RunbookIDs.duplicates(ids, read: { try? FileReader.read($0) }) {
            if let index = results.firstIndex(where: { $0.path == duplicate.path }) { results[index].diagnostics.append(duplicate) }
        }
        let all = results.flatMap(\.diagnostics)
        let errors = all.filter { $0.severity == .error }.count
        let warnings = all.count - errors
        switch formatOption.format {
        case .text:
            let style = Style(enabled: Output.colorEnabled(fd: 1))
            for diagnostic in all where !(quiet && diagnostic.severity == .warning) {
                let label = diagnostic.severity == .error ? style.red("error") : style.yellow("warning")
                Output.line("\(style.bold("\(diagnostic.path):\(diagnostic.line):\(diagnostic.column):")) \(label): \(diagnostic.message) \(style.dim("[\(diagnostic.code.rawValue)]"))")
            }
            let summary = "checked \(files.paths.count) file\(files.paths.count == 1 ? "" : "s"): \(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s")"
            _ = try? FileHandle.standardError.write(contentsOf: Data((summary + "\n").utf8))
        case .json:
            Output.out(try CheckReport.json(results))
        case .sarif:
            Output.out(try CheckReport.sarif(results, version: RunsheetCommand.version))
        }
        if readFailures > 0 || !files.problems.isEmpty {
            throw CommandFailure(status: .usage, message: "")
        }
        if files.paths.isEmpty {
            throw CommandFailure(status: .usage, message: "no Markdown files found in \(paths.joined(separator: ", "))")
        }
        if errors > 0 || (strict && warnings > 0) {
            throw CommandFailure(status: .findings, message: "")
        }
    }

    /// Compiles the files on all cores; the outcomes come back in the order of `paths`, so the
    /// output is the same as compiling one file after the other.
    static func compileAll(_ paths: [String], with compiler: Compiler) -> [Result<([Diagnostic], String), any Error>] {
        paths.parallelMap { path in
            Result {
                let signers = AllowedSigners.load(forRunbook: path)
                let (diagnostics, id) = try compiler.diagnosticsAndID(path: path)
                return (diagnostics + (signers.map { $0.1 + $0.0.sharedKeys() } ?? [])
                    + AllowedSigners.keylessMembers(forRunbook: path) + LookAlikeNames.diagnostics(forRunbook: path, signers: signers?.0) + (RepositoryConfig.load(forRunbook: path)?.1 ?? []), id)
            }
        }
    }
}
