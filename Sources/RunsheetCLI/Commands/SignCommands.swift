import ArgumentParser
import Foundation
import RunsheetCore

/// Shared by `sign` and `reject`: the run, its runbook as it is now, and the gate step.
struct GateContext {
    var directory: String
    var state: RunState
    var runbook: Runbook
    var sha256: String
    var step: Step?
    var governance: Governance
    /// The key the person acting signs their event with, when one is at hand (`--key` and the rest).
    var signingKey: SSHKeygenSigner?
    /// The run's journal in the PostgreSQL store, when the run is read from there; else its journal.jsonl.
    var storeJournal: StoreJournal?

    /// Opens the run; `id` names the step, or is nil for an act on the whole run (a follow-up review).
    /// With `production`, the step is one to grant a calendar exception for, not a gate.
    static func open(run: String, step id: String?, runsDir: String?, production: Bool = false) throws -> GateContext {
        try open(directory: try RunContext.runDirectory(run, runsDir: runsDir), step: id, production: production)
    }

    /// As `open(run:…)`, for the run in `directory` (a run folder, or a store run laid out by `StoreRunView`).
    static func open(directory: String, step id: String?, production: Bool = false) throws -> GateContext {
        let state = try RunSupport.verifiedState(in: directory, repair: false)
        let (result, bytes) = try RunSupport.compileRunbook(of: state, runDirectory: directory)
        var runbook = result.runbook
        runbook.releaseClass = state.releaseClass
        var step: Step?
        if let id {
            guard let found = runbook.step(id) else {
                let (kind, wanted) = production ? ("production steps", runbook.steps.filter { $0.production || runbook.production })
                                                : ("gates", runbook.steps.filter(\.isGate))
                let ids = wanted.map(\.id)
                let near = EditDistance.closest(to: id, in: ids, maximum: max(2, id.count / 3))
                    ?? ids.first { $0.hasPrefix(id) || $0.contains(id) }
                let hint = near.map { "did you mean '\($0)'?" }
                    ?? (ids.isEmpty ? "it has no \(kind)" : "its \(kind) are \(ids.joined(separator: ", "))")
                throw CommandFailure(status: .usage, message: "there is no step '\(id)' in \(state.runbookPath); \(hint)")
            }
            step = found
        }
        return GateContext(directory: directory, state: state, runbook: runbook, sha256: SHA256Hex.of(bytes), step: step,
                           governance: try RunSupport.governance(for: runbook))
    }

    var roles: RolesFile? { governance.roles }

    /// Who acts and with which key (`SigningIdentity.bind`), against the allowed signers of the run's runbook.
    func bindIdentity(_ claimed: Actor, explicit: String?, key: SigningKeyOption) throws -> (Actor, SSHKeygenSigner?) {
        let signingKey = try SSHKeygenSigner.locate(explicit: key.keyPath, near: FileManager.default.currentDirectoryPath)
        return try SigningIdentity.bind(claimed, explicit: explicit, key: signingKey,
                                        runbook: RunSupport.signersAnchor(of: state, runDirectory: directory))
    }

    /// Refuses an approval of a runbook other than the one the run will carry out: the file (or
    /// a file it includes) changed since the run last recorded it. The operator's next `resume`
    /// records the change (`run.changed`); then the approver signs what will run.
    func requireRecordedPlan() throws {
        let includesChanged = state.plan != nil && runbook.includedSHA256 != state.includes
        guard sha256 != state.runbookSHA256 || includesChanged else { return }
        throw CommandFailure(status: .findings, message: "\(state.runbookPath)\(includesChanged && sha256 == state.runbookSHA256 ? ", or a file it includes," : "") changed since run \(state.runID) last recorded it, so what you would approve is not what the run will carry out; " +
                             "the operator's next 'runsheet resume \(state.runID)' records the change, then sign again")
    }

    /// Text given with `option` as it may be recorded: refused (exit 2) when it holds a control
    /// character other than a line break or tab, and with every secret value this process knows
    /// masked (`TypedSecrets`): one given in its environment as the run reads it, or a word that
    /// matches the digest the run recorded.
    func typed(_ text: String?, option: String) throws -> String? {
        guard let text = text?.trimmed else { return nil }
        if let refusal = TypedText.refusal(text, as: .text, what: "the text given with \(option)") {
            throw CommandFailure(status: .usage, message: refusal)
        }
        let parameters = RunParameters(runbook)
        let environment = ProcessInfo.processInfo.environment
        let given = runbook.params.filter(\.secret).compactMap { environment[parameters.variable(for: $0.name)] }
        return TypedSecrets.mask(text, values: given, digests: Array(state.secretDigests.values))
    }

    /// Refuses, exit 1, an act without a key in a run that requires signatures: as its journal
    /// records (`run.started`, a later `run.resumed`), or as the policy says now for its class.
    func requireKey(for event: RunEvent, in state: RunState) throws {
        guard signingKey == nil, RunEvent.signedTypes.contains(event.type) else { return }
        guard state.signaturesRequired || governance.policy[state.releaseClass].requiresSignatures else { return }
        throw CommandFailure(status: .findings, message: SigningKeyOption.required(run: state.runID, act: "a \(event.type.rawValue) event"))
    }

    /// Appends `event` if it still applies to the run as the journal stands under its lock: the
    /// journal's own rules (`RunState.refusal(of:)`), then `check`, which builds the event again
    /// from that state so every refusal it makes holds at the moment of writing. Returns the event
    /// as written and the run with it.
    func append(_ event: RunEvent, check: (RunState) throws -> Void) throws -> (written: RunEvent, state: RunState) {
        let file = storeJournal == nil ? try JournalFile(path: RunSupport.journalPath(directory)) : nil
        defer { file?.close() }
        let journal: any JournalWriter = storeJournal.map { $0 as any JournalWriter } ?? file!
        var head = state
        try requireKey(for: event, in: head)
        // Signed before the journal's lock is taken: a passphrase or a key touch holds up nobody.
        let event = try event.signed(by: signingKey, run: state.runID)
        do {
            // Checked again at the head: a resume may have recorded since that signatures are required.
            let written = try journal.append(event, onto: &head) { try requireKey(for: event, in: $0); try check($0) }
            return (written, head)
        } catch let refusal as AppendRefusal {
            throw CommandFailure(status: .findings, message: refusal.reason)
        }
    }
}

struct Sign: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign",
        abstract: "Sign off or waive a gate, grant a change-calendar exception, or record a follow-up review.",
        discussion: """
            A signature names the signer, the role used, the time, the comment, and the \
            runbook SHA-256 and step it approves; if the step's text changes later, it no \
            longer counts.

            --exception lets a production step go ahead outside the change windows or \
            inside a freeze; it needs --reason and a role the calendar's exception-roles \
            names.

            --waive lets a gate go ahead without its sign-offs; it needs --reason and a \
            role the calendar's exception-roles names, held by someone who neither started \
            nor drove the run. The gate shows as waived in every report and in readiness.

            --follow-up records the review an emergency change owes (see the class \
            policy); it takes no step, needs --comment, and works after the run has ended.

            Examples:
              runsheet sign checkout-deploy approve-the-switch-to-green --as carol \\
                  --role sre --comment "dashboards green"
              runsheet sign checkout-deploy approve-the-switch-to-green --as rita \\
                  --role release-manager
              runsheet sign checkout-deploy switch-to-green --exception \\
                  --reason "security fix, CVE-2026-1234"
              runsheet sign checkout-deploy approve-the-switch-to-green --waive \\
                  --as rita --reason "CAB approved by phone, CHG-1182"
              runsheet sign emergency-change --follow-up --comment "PIR held, see INC-881"
            """
    )

    @Argument(help: "The run id (or unique prefix).", completion: Completions.runID) var runID: String
    @Argument(help: "The step id: a gate, or with --exception a production step. Not given with --follow-up.") var step: String?
    @OptionGroup var actor: ActorOption
    @Option(help: "The role to sign with (default: the first role you hold that is needed).") var role: String?
    @Option(help: "A comment kept with the signature (required with --follow-up).") var comment: String?
    @Flag(help: "Grant an exception to the change calendar for a production step.") var exception = false
    @Flag(help: "Let a gate go ahead without its sign-offs (an exception role; not the run's starter or driver).") var waive = false
    @Option(help: "Why the exception or waiver is needed (with --exception or --waive).") var reason: String?
    @Flag(help: "Record the follow-up review the run's class requires.") var followUp = false
    @OptionGroup var key: SigningKeyOption
    @OptionGroup var runsFolder: RunsFolderOption
    @OptionGroup var storeOption: StoreOption

    func validate() throws {
        if [exception, followUp, waive].filter({ $0 }).count > 1 { throw ValidationError("use one of --exception, --waive and --follow-up") }
        if waive && (reason ?? "").isBlank { throw ValidationError("--waive needs --reason saying why the gate may go ahead without its sign-offs") }
        if followUp && step != nil { throw ValidationError("--follow-up reviews the whole run; leave out the step id") }
        if !followUp && step == nil { throw ValidationError("name the step to sign, e.g. 'runsheet sign \(runID) approve-release'") }
        if exception && (reason ?? "").isBlank { throw ValidationError("--exception needs --reason saying why the change cannot wait") }
    }

    func run() throws {
        let claimed = try RunContext.actor(explicit: actor.actorName)
        if let role { try RunContext.requireName(role, "the role given with --role") }
        let (opened, view) = try StoreRoute.gate(runID, flag: storeOption.store, runsDir: runsFolder.runsDir, step: step, production: exception, command: "sign")
        var context = opened
        defer { context.storeJournal?.close(); view?.close() }
        let signer: Actor
        (signer, context.signingKey) = try context.bindIdentity(claimed, explicit: actor.actorName, key: key)
        let comment = try context.typed(self.comment, option: "--comment"), reason = try context.typed(self.reason, option: "--reason")
        do {
            if followUp {
                let review = { (state: RunState) in try SignOffs.review(state: state, signer: signer, role: role, comment: comment ?? "", roles: context.roles) }
                let written = try context.append(try review(context.state)) { _ = try review($0) }.written
                guard case .reviewSigned(let review) = try written.payload() else { return }
                Output.line("recorded the follow-up review of \(context.state.runID) as \(review.role) (\(signer.name))")
                return
            }
            guard let step = context.step else { return }
            try context.requireRecordedPlan()
            if waive {
                let waiver = { (state: RunState) in
                    try SignOffs.waiver(state: state, runbook: context.runbook, step: step, signer: signer, role: role,
                                        reason: reason ?? "", governance: context.governance)
                }
                let written = try context.append(try waiver(context.state)) { _ = try waiver($0) }.written
                guard case .gateWaived(let waived) = try written.payload() else { return }
                Output.line("waived gate \(step.id) as \(waived.role) (\(signer.name.shownName)); it needed \(waived.unmet)")
                return
            }
            if exception {
                let exception = { (state: RunState) in
                    try SignOffs.exception(state: state, runbook: context.runbook, step: step, signer: signer, role: role,
                                           reason: reason ?? "", governance: context.governance)
                }
                let written = try context.append(try exception(context.state)) { _ = try exception($0) }.written
                guard case .exceptionGranted(let granted) = try written.payload() else { return }
                Output.line("granted an exception for \(step.id) as \(granted.role) (\(signer.name)): \(granted.conflict)")
                return
            }
            let signature = { (state: RunState) in
                try SignOffs.signature(state: state, runbook: context.runbook, step: step, signer: signer, role: role, comment: comment,
                                       runbookSHA256: context.sha256, roles: context.roles, governance: context.governance)
            }
            let (written, state) = try context.append(try signature(context.state)) { _ = try signature($0) }
            let status = GateStatus.evaluate(step: step, state: state, runbook: context.runbook, governance: context.governance)
            guard case .signOff(let signed) = try written.payload() else { return }
            Output.line("signed \(step.id) as \(signed.role) (\(signer.name.shownName)); " +
                        (status.satisfied ? "the gate's rule is met" : "still needs \(status.missing.joined(separator: " and "))"))
            // The signer's receipt: 'verify --contains' shows later that this signature is still in the chain.
            Output.line("receipt: event \(written.seq), hash \(written.hash); 'runsheet verify \(state.runID) --contains \(written.hash)' checks it is still in the journal")
        } catch let refusal as SignOffs.Refusal {
            throw CommandFailure(status: .findings, message: refusal.errorDescription ?? "\(refusal)")
        }
    }
}

struct Reject: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reject",
        abstract: "Reject a gate of a run; the run follows the gate's On reject branch.",
        discussion: """
            Without an On reject branch the run ends as aborted. A run waiting at the gate \
            ('wait') moves on by itself.

            Examples:
              runsheet reject checkout-deploy approve-the-switch-to-green \\
                  --reason "error budget exhausted"
              runsheet reject checkout-deploy approve-the-switch-to-green --as carol \\
                  --role sre --reason "no rollback tested"
            """
    )

    @Argument(help: "The run id (or unique prefix).", completion: Completions.runID) var runID: String
    @Argument(help: "The gate's step id.") var step: String
    @Option(help: "Why the change may not go ahead.") var reason: String
    @OptionGroup var actor: ActorOption
    @Option(help: "The role to reject with (default: the first role you hold that the gate needs).") var role: String?
    @OptionGroup var key: SigningKeyOption
    @OptionGroup var runsFolder: RunsFolderOption
    @OptionGroup var storeOption: StoreOption

    func run() throws {
        guard !reason.isBlank else { throw CommandFailure(status: .usage, message: "--reason must say why the gate is rejected") }
        let claimed = try RunContext.actor(explicit: actor.actorName)
        if let role { try RunContext.requireName(role, "the role given with --role") }
        let (opened, view) = try StoreRoute.gate(runID, flag: storeOption.store, runsDir: runsFolder.runsDir, step: step, command: "reject")
        var context = opened
        defer { context.storeJournal?.close(); view?.close() }
        let signer: Actor
        (signer, context.signingKey) = try context.bindIdentity(claimed, explicit: actor.actorName, key: key)
        let reason = try context.typed(self.reason, option: "--reason") ?? ""
        do {
            guard let step = context.step else { return }
            let rejection = { (state: RunState) in
                try SignOffs.rejection(state: state, runbook: context.runbook, step: step, signer: signer, role: role,
                                       reason: reason, roles: context.roles)
            }
            _ = try context.append(try rejection(context.state)) { _ = try rejection($0) }
        } catch let refusal as SignOffs.Refusal {
            throw CommandFailure(status: .findings, message: refusal.errorDescription ?? "\(refusal)")
        }
        Output.line("rejected \(step) (\(signer.name.shownName)): \(reason)")
    }
}
