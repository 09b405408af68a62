import ArgumentParser
import Foundation
@testable import RunsheetCLI
import RunsheetTestSupport
import Testing

/// `runsheet run` and `runsheet resume` in the test's own process, walked on a scripted terminal:
/// no binary to launch, and the screens it draws can be read back. Paths must be absolute (the
/// test process has one working directory for every test).
enum InProcess {
    /// Runs `arguments` (a `run` or `resume` command line) on `terminal`; the status is the exit
    /// status the binary would give, standard error ends with the message it would print.
    static func walk(_ arguments: [String], on terminal: ScriptedTerminal,
                     sourceLocation: SourceLocation = #_sourceLocation) throws -> ProcessResult {
        var status = ExitStatus.success
        var message = ""
        let command = try RunsheetCommand.parseAsRoot(arguments)
        do {
            switch command {
            case let run as Run: try run.run(on: terminal)
            case let resume as Resume: try resume.run(on: terminal)
            default: Issue.record("only run and resume walk in process, not \(arguments.first ?? "nothing")", sourceLocation: sourceLocation)
            }
        } catch let failure as CommandFailure {
            status = failure.status
            message = failure.message
        }
        #expect(!terminal.isRaw, "the terminal was left in raw mode", sourceLocation: sourceLocation)
        return ProcessResult(status: status.rawValue, stdout: terminal.output,
                             stderr: terminal.errors + (message.isEmpty ? "" : "runsheet: \(message)\n"))
    }

    /// Runs `arguments` with `stdin` as the script of actions, as `Fixtures.runsheet(_:stdin:)` does
    /// through the binary with standard input a pipe.
    static func runsheet(_ arguments: [String], stdin: String = "",
                         sourceLocation: SourceLocation = #_sourceLocation) throws -> ProcessResult {
        var lines = stdin.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        return try walk(arguments, on: ScriptedTerminal(script: lines), sourceLocation: sourceLocation)
    }
}
