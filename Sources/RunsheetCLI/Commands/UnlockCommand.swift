import ArgumentParser
import Foundation
import RunsheetCore

struct Unlock: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unlock",
        abstract: "Release a stuck environment lock; recorded in the journal of the run that held it.",
        discussion: """
            A run with production steps holds a lock on its service and environment while it \
            is open, paused or crashed included; another such run is refused (exit 5). unlock \
            releases it: by someone holding one of the calendar's exception-roles (default \
            release-manager) in the roles file, who neither started nor drove the holding \
            run, with \
            --reason. It is recorded as lock.released in the holding run's journal. It \
            releases only the lock of a run no session drives: while one does, ask its \
            operator to quit. When the holding run is resumed, it takes the lock again, or is refused (exit 5) while \
            another run holds it. Names compare as people's names do: Prod and prod are one \
            environment.

            All or nothing: when several runs share the lock, each is checked first, and \
            none is released unless all may be. The rules are those that apply to the \
            holding run's runbook, recorded with the release.

            Exit codes: 0 released; 1 refused by a rule (role, starter, nothing held, a \
            journal that does not verify); 2 bad input (the holding run's runbook gone \
            included); 5 a session drives the holding run.

            'runsheet status' lists the locks held.

            Examples:
              runsheet unlock checkout production --as rita \\
                  --reason "run abandoned after INC-881, operator off shift"
              runsheet unlock checkout staging --reason "CI run killed" --runs-dir /srv/runs
            """
    )

    @Argument(help: "The service the lock is on.") var service: String
    @Argument(help: "The environment the lock is on.") var environment: String
    @Option(help: "Why the lock may be released (required).") var reason: String
    @OptionGroup var actor: ActorOption
    @Option(help: "The exception role to release it as (default: the first one you hold).") var role: String?
    @OptionGroup var key: SigningKeyOption
    @OptionGroup var runsFolder: RunsFolderOption
    @OptionGroup var storeOption: StoreOption

    func run() throws {
        try StoreRoute.requireFolder(storeOption.store, command: "unlock")
        let person = try RunContext.actor(explicit: actor.actorName)
        if let role { try RunContext.requireName(role, "the role given with --role") }
        if let refusal = TypedText.refusal(reason, as: .text, what: "the text given with --reason") {
            throw CommandFailure(status: .usage, message: refusal)
        }
        guard !reason.isBlank else { throw CommandFailure(status: .usage, message: EnvironmentLock.Refusal.reasonRequired.errorDescription ?? "") }
        let runsDirectory = RunContext.runsDirectory(explicit: runsFolder.runsDir, near: FileManager.default.currentDirectoryPath)
        let wanted = LockClaim(service: service, environment: environment, mode: .exclusive)
        let folder = LockFolder(runsDirectory: runsDirectory)
        guard FileManager.default.fileExists(atPath: runsDirectory) else {
            throw CommandFailure(status: .usage, message: "the runs folder \(runsDirectory) does not exist, so no lock is held there; pass --runs-dir with the folder the holding run is in")
        }
        let guardLock: LockFolder.Guard
        do { guardLock = try folder.take() } catch {
            throw CommandFailure(status: .usage, message: (error as? LocalizedError)?.errorDescription ?? "\(error)")
        }
        defer { guardLock.release() }
        let holders = folder.conflicts(with: wanted).filter { $0.stem == wanted.key.stem }
        guard !holders.isEmpty else {
            let held = folder.holders().compactMap(\.claim).map(\.shownName)
            throw CommandFailure(status: .findings, message: "no run holds the lock on \(wanted.shownName) in \(runsDirectory), so nothing was released" +
                                 (held.isEmpty ? "" : "; the locks held there are \(held.joined(separator: ", ")) ('runsheet status' lists them)"))
        }
        if let unchecked = holders.first(where: { $0.problem != nil }) {
            throw CommandFailure(status: .findings, message: "\(unchecked.lockName) is held by \(unchecked.description); runsheet does not act on a journal it cannot check, so nothing was released: " +
                                 "move that run folder out of \(runsDirectory) and remove its file in \(folder.path) once you know the run is over")
        }
        for holder in holders {
            let directory = (runsDirectory as NSString).appendingPathComponent(holder.runID)
            let lease = RunLease.probe(folder: directory)
            if lease.held {
                throw CommandFailure(status: .leased, message: "run \(holder.runID) holds the lock on \(holder.lockName) and is being driven by a session now" +
                                     (lease.holder.map { " (\($0.description.shown))" } ?? "") +
                                     "; unlock releases only the lock of a run no session drives, so nothing was released: ask them to quit ('q') or end the run")
            }
        }
        // All or nothing: every holder is checked (role, starter, drivers) before any is released.
        var releases: [(holder: EnvironmentLock.Holder, context: GateContext, release: (RunState) throws -> RunEvent)] = []
        for holder in holders {
            let directory = (runsDirectory as NSString).appendingPathComponent(holder.runID)
            var context: GateContext
            do {
                context = try GateContext.open(run: directory, step: nil, runsDir: runsFolder.runsDir)
            } catch let failure as CommandFailure {
                let runbook = (try? RunSupport.verifiedState(in: directory, repair: false)).map { RunSupport.runbookPath(of: $0, runDirectory: directory) }
                let why = runbook.map { FileManager.default.fileExists(atPath: $0) ? "which cannot be compiled now (\(failure.message))" : "which is gone (\($0.shown))" } ?? "which cannot be read now (\(failure.message))"
                throw CommandFailure(status: failure.status, message: "run \(holder.runID.shown) holds the lock on \(holder.lockName), and unlock decides by the rules (roles, calendar) that apply to its runbook, \(why), so nothing was released: " +
                                     "put the runbook back where the run started it, or move that run folder out of \(runsDirectory) and remove its file in \(folder.path) once you know the run is over")
            }
            // With a key, who releases is the person the run's allowed signers name for it.
            let signer: Actor
            (signer, context.signingKey) = try context.bindIdentity(person, explicit: actor.actorName, key: key)
            let reason = try context.typed(self.reason, option: "--reason") ?? ""
            let release = { (state: RunState) in
                try EnvironmentLock.release(state: state, signer: signer, role: role, reason: reason, governance: context.governance)
            }
            do {
                _ = try release(context.state)
            } catch let refusal as EnvironmentLock.Refusal {
                throw CommandFailure(status: .findings, message: refusal.errorDescription ?? "\(refusal)")
            } catch let refusal as SignOffs.Refusal {
                throw CommandFailure(status: .findings, message: refusal.errorDescription ?? "\(refusal)")
            }
            releases.append((holder, context, release))
        }
        for (holder, context, release) in releases {
            let written: RunEvent
            do {
                written = try context.append(try release(context.state)) { _ = try release($0) }.written
            } catch let refusal as EnvironmentLock.Refusal {
                throw CommandFailure(status: .findings, message: refusal.errorDescription ?? "\(refusal)")
            } catch let refusal as SignOffs.Refusal {
                throw CommandFailure(status: .findings, message: refusal.errorDescription ?? "\(refusal)")
            }
            folder.removeFiles(of: holder.runID)
            guard case .lockReleased(let released) = try written.payload() else { continue }
            Output.line("released the lock on \(holder.lockName) held by run \(holder.runID.shown) as \(released.role.shown) (\(written.actor.shown)); " +
                        "recorded in its journal as event \(written.seq); 'runsheet resume \(holder.runID.shown)' takes it again if it is free then")
        }
    }
}
