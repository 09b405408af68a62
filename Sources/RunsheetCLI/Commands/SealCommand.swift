import ArgumentParser
import Foundation
import RunsheetCore

struct Seal: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seal",
        abstract: "Sign a run's journal as it stands, so a later rewrite shows even with every hash recomputed.",
        discussion: """
            Appends journal.sealed, signed with your SSH key, naming the hash and seq of the \
            journal's last event. 'runsheet verify' then fails if any event up to it is \
            changed, removed or added, even when every hash after it was recomputed. Anyone \
            the roles file names may seal, during the run (while another session drives it \
            too) or after it ended. A key is required: an unsigned seal proves nothing.

            When the policy requires signatures, readiness wants each run sealed after it \
            ended by someone other than its starter.

            Exit codes: 0 sealed; 1 refused (no key, not named in the roles file, a journal \
            that does not verify, unsigned sign-offs while the policy requires signatures); 2 bad input (no such run, an unusable key).

            Examples:
              runsheet seal checkout-deploy-20261122-051200-ab12 --key ~/.ssh/id_ed25519
              runsheet seal checkout-deploy --as carol@example.com
            """
    )

    @Argument(help: "The run id (or unique prefix, or the run's folder).", completion: Completions.runID) var runID: String
    @OptionGroup var actor: ActorOption
    @OptionGroup var key: SigningKeyOption
    @OptionGroup var runsFolder: RunsFolderOption
    @OptionGroup var storeOption: StoreOption

    func run() throws {
        let claimed = try RunContext.actor(explicit: actor.actorName)
        let (opened, view) = try StoreRoute.gate(runID, flag: storeOption.store, runsDir: runsFolder.runsDir, step: nil, command: "seal")
        var context = opened
        defer { context.storeJournal?.close(); view?.close() }
        let state = context.state
        let (person, boundKey) = try context.bindIdentity(claimed, explicit: actor.actorName, key: key)
        guard let roles = context.roles else {
            throw CommandFailure(status: .findings, message: "only people a roles file names may seal a run, and no roles file applies to \(state.runbookPath.shown); add \(RolesFile.relativePath), so nothing was written")
        }
        guard !roles.roles(of: person.name).isEmpty else {
            throw CommandFailure(status: .findings, message: "\(person.name.shown) is not named in \(roles.path.shown), and only people the roles file names may seal a run (check the name given with --as, RUNSHEET_USER or git config user.email), so nothing was written")
        }
        guard let signingKey = boundKey else {
            throw CommandFailure(status: .findings, message: "a seal must be signed, since an unsigned one proves nothing against a rewritten chain, and no key is at hand; give one with --key PATH, RUNSHEET_SIGNING_KEY or Git's user.signingkey (with gpg.format ssh), so nothing was written")
        }
        if let rule = UnsignedSignOffs.rule(state, context.governance), case let unsigned = UnsignedSignOffs.of(state), !unsigned.isEmpty {
            throw CommandFailure(status: .findings, message: "run \(state.runID.shown) holds sign-offs without a signature (\(UnsignedSignOffs.list(unsigned, in: state))), and \(rule), so it is not sealed: a seal would vouch for approvals nobody signed; nothing was written")
        }
        // A gate recorded done without the sign-offs its rule needed then fails verify; a seal must not vouch for it.
        if let events = (try? RunSupport.verification(of: context.directory))?.1.events,
           let finding = VerifyGates.findings(state, events: events, runDirectory: context.directory).first {
            throw CommandFailure(status: .findings, message: "run \(state.runID.shown): \(UnapprovedGates.describe(finding)), so it is not sealed: a seal would vouch for a gate the run did not pass; nothing was written")
        }
        context.signingKey = signingKey
        let seal = try RunEvent(by: person, .journalSealed(JournalSealed(head: state.headHash, seq: state.eventCount)))
        let written = try context.append(seal) { _ in }.written
        guard case .journalSealed(let sealed) = try written.payload() else { return }
        Output.line("sealed run \(state.runID.shown) at event \(sealed.seq) (head \(sealed.head)) as \(person.name.shown)")
        Output.line("receipt: event \(written.seq), hash \(written.hash); 'runsheet verify \(state.runID.shown) --contains \(written.hash)' checks it is still in the journal")
    }
}
