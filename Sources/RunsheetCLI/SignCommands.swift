import ArgumentParser
import Foundation
import RunsheetCore

/// Shared by `sign` and `reject`: the run, its runbook as it is now, and the gate step.
struct GateContext {
    var directory: String
    var state: RunState
    var runbook: Runbook
    var sha256: String
    var step: Step
    var roles: RolesFile?

    static func open(run: String, step id: String, runsDir: String?) throws -> GateContext {
        let directory = try RunContext.runDirectory(run, runsDir: runsDir)
        let state = RunState.fold(try RunSupport.events(in: directory, repair: false))
        let (result, bytes) = try RunSupport.compile(state.runbookPath)
        guard let step = result.runbook.step(id) else {
            throw CommandFailure(status: .usage, message: "there is no step '\(id)' in \(state.runbookPath); gates are: \(result.runbook.steps.filter(\.isGate).map(\.id).joined(separator: ", "))")
        }
        let roles = RolesFile.load(forRunbook: state.runbookPath)
        if let problems = roles?.1, let first = problems.first {
            throw CommandFailure(status: .usage, message: "\(first.formatted)")
        }
        return GateContext(directory: directory, state: state, runbook: result.runbook, sha256: SHA256Hex.of(bytes), step: step, roles: roles?.0)
    }

    func append(_ event: RunEvent) throws -> RunEvent {
        let journal = try JournalFile(path: RunSupport.journalPath(directory))
        defer { journal.close() }
        return try journal.append(event)
    }
}

struct Sign: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sign off a gate of a run, from any terminal.",
        discussion: """
            The signature names the signer, the role used, the time, the comment, and the runbook
            SHA-256 and step it approves; if the step's text changes later, it no longer counts.
            Examples:
              runsheet sign checkout-deploy-20261122 approve-the-switch-to-green --as carol@example.com
              runsheet sign checkout-deploy approve-the-switch-to-green --role sre --comment "dashboards green"
            """
    )

    @Argument(help: "The run id (or unique prefix).") var runID: String
    @Argument(help: "The gate's step id.") var step: String
    @Option(name: .customLong("as"), help: "Who is signing.") var actorName: String?
    @Option(help: "The role to sign with (default: the first role you hold that the gate needs).") var role: String?
    @Option(help: "A comment kept with the signature.") var comment: String?
    @Option(help: "Where runs are kept.") var runsDir: String?

    func run() throws {
        let context = try GateContext.open(run: runID, step: step, runsDir: runsDir)
        let signer = RunContext.actor(explicit: actorName)
        let event: RunEvent
        do {
            event = try SignOffs.signature(state: context.state, runbook: context.runbook, step: context.step, signer: signer,
                                           role: role, comment: comment, runbookSHA256: context.sha256, roles: context.roles)
        } catch let refusal as SignOffs.Refusal {
            throw CommandFailure(status: .findings, message: refusal.errorDescription ?? "\(refusal)")
        }
        let written = try context.append(event)
        var state = context.state
        state.apply(written)
        let status = GateStatus.evaluate(step: context.step, state: state, runbook: context.runbook, roles: context.roles)
        Output.line("signed \(context.step.id) as \(written.data["role"]?.string ?? "") (\(signer.name)); " +
                    (status.satisfied ? "the gate's rule is met" : "still needs \(status.missing.joined(separator: " and "))"))
    }
}

struct Reject: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Reject a gate of a run; the run follows the gate's On reject branch.",
        discussion: """
            Example:
              runsheet reject checkout-deploy approve-the-switch-to-green --reason "error budget exhausted"
            """
    )

    @Argument(help: "The run id (or unique prefix).") var runID: String
    @Argument(help: "The gate's step id.") var step: String
    @Option(help: "Why the change may not go ahead.") var reason: String
    @Option(name: .customLong("as"), help: "Who is rejecting.") var actorName: String?
    @Option(help: "Where runs are kept.") var runsDir: String?

    func run() throws {
        guard !reason.trimmed.isEmpty else { throw CommandFailure(status: .usage, message: "--reason must say why the gate is rejected") }
        let context = try GateContext.open(run: runID, step: step, runsDir: runsDir)
        let signer = RunContext.actor(explicit: actorName)
        do {
            let event = try SignOffs.rejection(state: context.state, step: context.step, signer: signer, reason: reason, roles: context.roles)
            _ = try context.append(event)
        } catch let refusal as SignOffs.Refusal {
            throw CommandFailure(status: .findings, message: refusal.errorDescription ?? "\(refusal)")
        }
        Output.line("rejected \(context.step.id) (\(signer.name)): \(reason)")
    }
}
