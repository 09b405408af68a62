import ArgumentParser
import Foundation
import RunsheetCore

/// Exit codes shared by every command; documented in the README.
public enum ExitStatus: Int32, Sendable {
    case success = 0
    /// Findings with errors, a failed verification, a NO-GO.
    case findings = 1
    /// Bad usage, or a file that cannot be read or written.
    case usage = 2
    /// The run is paused (quit, end of scripted input, or --auto reached a manual step): resume it later.
    case paused = 3
    /// `readiness`: GO with exceptions.
    case exceptions = 4
    /// Another session drives the run (it holds the run's lease), or holds a lock runsheet needs.
    case leased = 5
    /// The PostgreSQL store cannot be used: unreachable, a refused password or TLS, no such
    /// database, a schema missing, too old or too new; it refused an event; or the command does
    /// not work on a PostgreSQL store and one is chosen (docs/TEAMS.md).
    case store = 6
}

/// Runs the command line, mapping every failure to a one-sentence message and a documented exit code.
public enum RunsheetMain {
    public static func run(_ arguments: [String]? = nil) -> Never {
        let given = arguments ?? Array(CommandLine.arguments.dropFirst())
        // The hidden supervisor mode (CommandSupervisor): not a command, never in --help.
        if given.first == CommandSupervisor.mode { exit(CommandSupervisor.main(Array(given.dropFirst()))) }
        // Commands this process runs go through its own supervisor mode.
        if arguments == nil, let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
            CommandSupervisor.executable = executable
        }
        do {
            var command = try RunsheetCommand.parseAsRoot(arguments)
            try command.run()
            exit(ExitStatus.success.rawValue)
        } catch let status as CommandFailure {
            if !status.message.isEmpty { Output.error(status.message) }
            exit(status.status.rawValue)
        } catch let refusal as AppendRefusal {
            // An event that no longer applied to the run when it was to be written (docs/JOURNAL.md).
            Output.error(refusal.reason)
            exit(ExitStatus.findings.rawValue)
        } catch {
            let code = RunsheetCommand.exitCode(for: error)
            if code == .success {
                print(RunsheetCommand.fullMessage(for: error))
                exit(0)
            }
            if let exitCode = error as? ExitCode {
                exit(exitCode.rawValue)
            }
            Output.error(usageSentence(for: error))
            exit(code == .validationFailure ? ExitStatus.usage.rawValue : code.rawValue)
        }
    }
}

extension RunsheetMain {
    /// ArgumentParser's complaint about the command line as one line: its message (without the
    /// usage block it prints after it) and where to read the usage, from the `See '…'` line.
    static func usageSentence(for error: any Error) -> String {
        let lines = RunsheetCommand.message(for: error).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        var text = lines.filter { !$0.isEmpty && !$0.hasPrefix("Help:") && !$0.hasPrefix("Usage:") }.joined(separator: " ")
        while text.hasSuffix(".") { text.removeLast() }
        let full = RunsheetCommand.fullMessage(for: error)
        let help = full.range(of: "See '").flatMap { start in full[start.upperBound...].range(of: "'").map { full[start.upperBound..<$0.lowerBound] } }
        return text + "; see '\(help ?? "runsheet --help")' for the usage."
    }
}

/// A failure already explained in one sentence.
struct CommandFailure: Error {
    var status: ExitStatus
    var message: String
}

public struct RunsheetCommand: ParsableCommand {
    public static let version = "0.1.0"

    public static let configuration = CommandConfiguration(
        commandName: "runsheet",
        abstract: "Compile Markdown runbooks into step graphs, lint them, and walk people through them.",
        discussion: """
            'runsheet help COMMAND' shows a command's options and examples.

            Exit codes:
              0  success: no errors, the run completed, the journal is intact
              1  findings: errors in a runbook (warnings too with --strict); a run that
                 failed, rolled back or was aborted; a journal that does not verify;
                 a refusal by a rule (role, separation of duties, freeze); a NO-GO
              2  bad usage or input: unknown option, missing parameter, unreadable file,
                 unknown run id; a roles, policy or calendar file that cannot be read,
                 decoded or parsed ('check' reports it as an error)
              3  the run is paused (quit, end of scripted input, or --auto reached a
                 manual step, a gate, a command that may have run or a step whose
                 commands failed and that waits for a person's decision):
                 'runsheet resume RUN' continues it
              4  readiness: GO with exceptions (0 is GO, 1 is NO-GO)
              5  another session drives the run ('run', 'resume', 'unlock'), or another
                 open run holds the lock on the service and environment a run with
                 production steps changes ('run', 'resume'); nothing was written:
                 'runsheet status' lists the runs and the locks
              6  the PostgreSQL store cannot be used: unreachable, password or TLS
                 refused, no such database, its schema missing, too old or too new;
                 it refused an event; or the command does not work on a PostgreSQL
                 store yet and one is chosen ('--store folder' uses the run folders)

            Examples:
              runsheet check runbooks/
              runsheet compile runbooks/blue-green-deploy.md --format mermaid
              runsheet run runbooks/blue-green-deploy.md --dry-run --param version=1.4.2
              runsheet status
            """,
        version: version,
        // Each subcommand spells out its commandName: ArgumentParser would otherwise derive it with String(describing:),
        // whose casts scan every protocol conformance in the binary, a quarter of a short command's instructions.
        subcommands: [Check.self, CompileCommand.self, Run.self, Resume.self, Status.self, Verify.self, Sign.self, Reject.self, Seal.self, Unlock.self, Audit.self, Render.self, Report.self, Update.self, Readiness.self, ReleaseCommand.self, HaltCommand.self, Metrics.self, New.self, StoreCommand.self, Export.self]
    )

    public init() {}
}
