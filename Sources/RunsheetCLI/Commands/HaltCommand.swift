import ArgumentParser
import Foundation
import RunsheetCore

struct HaltCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "halt",
        abstract: "Stop every matching production step from starting, at once; or lift a halt.",
        discussion: """
            By someone holding one of the calendar's exception-roles (default \
            release-manager) in the roles file, with --reason. Every production step of \
            every run on the service and environment given (all, when not given) refuses \
            to start from then on: an operator waiting at one sees who halted, why and \
            since when within a second, and no key, goto, skip or class gets past it. \
            Rollback steps (in a branch section, after an On failure branch) are never \
            halted. --until ends it by itself at that time.

            --lift ends halts: every halt in force, or with --service and --environment \
            only those declared with exactly that service and environment.

            The rules (roles, calendar, halts) are the .runsheet/ found from the current \
            folder up to the repository's root, or from the folder --runbooks names: the \
            one a run of a runbook there obeys (e.g. --runbooks runbooks when the rules \
            are in runbooks/.runsheet/).

            Halts are kept in the repository's .runsheet/halts.jsonl, hash-chained and \
            signed where the policy requires signatures (docs/JOURNAL.md, Governance \
            logs); a file that does not verify halts every production step. 'runsheet \
            status' lists the halts in force.

            Exit codes: 0 recorded; 1 refused by a rule (no exception role, nothing to \
            lift, a halts file that does not verify, no key where signatures are \
            required); 2 bad input (no --reason, an --until that is not a time or is in \
            the past, no roles file found, a --runbooks that is not a folder).

            Examples:
              runsheet halt --reason "INC-2041: checkout errors" --service checkout
              runsheet halt --reason "payment provider outage" --until 2026-12-04T20:00:00Z
              runsheet halt --lift --reason "INC-2041 resolved"
              runsheet halt --runbooks runbooks --reason "INC-2041: checkout errors"
            """
    )

    @Option(help: "Why production is halted (required), or why it is lifted.") var reason: String?
    @Option(help: "Halt (or lift) only runs on this service.") var service: String?
    @Option(help: "Halt (or lift) only runs in this environment.") var environment: String?
    @Option(help: "End the halt by itself at this time (ISO 8601, or a date).") var until: String?
    @Flag(help: "Lift the halts in force (with --service/--environment: those declared with exactly them).") var lift = false
    @OptionGroup var governed: GovernedFolderOption
    @OptionGroup var actor: ActorOption
    @OptionGroup var key: SigningKeyOption
    @OptionGroup var storeOption: StoreOption

    func run() throws {
        let storeURL = try StoreRoute.postgresURL(storeOption.store)
        let what = lift ? "lifting a halt" : "a halt"
        let reason = try RepositoryRules.text(self.reason, option: "--reason", required: lift ? nil : what)
        let service = try RepositoryRules.text(self.service, option: "--service", required: nil)
        let environment = try RepositoryRules.text(self.environment, option: "--environment", required: nil)
        if lift, until != nil { throw CommandFailure(status: .usage, message: "--until goes with a halt, not with --lift; nothing was written") }
        let now = Date()
        let end = try until.map { try DateOption.parse($0, option: "--until") }
        if let end, end <= now {
            throw CommandFailure(status: .usage, message: "--until \(until ?? "") is in the past (it is \(Timestamp.plain(now)) UTC now), so the halt would end before it began; nothing was written")
        }
        let rules = try RepositoryRules.load(from: try governed.directory(), act: lift ? "lifting a halt" : "halting production", hint: governed.hint)
        if lift { try rules.requireReadableGit(act: "lifting a halt") }
        let claimed = try RunContext.actor(explicit: actor.actorName)
        // With a key the person is the key's principal (as for `sign`), so the role is asked of them, after binding.
        let (person, signer) = try rules.bind(claimed, explicit: actor.actorName, key: key, act: what)
        _ = try rules.requireExceptionRole(person.name, act: lift ? "lift a halt" : "halt production")
        // On the PostgreSQL store, its halts (StoreGovernanceMirror): read, appended and committed there.
        let mirror = try storeURL.map { try StoreGovernanceMirror.open(url: $0, log: "halts") }
        defer { mirror?.close() }
        let log = mirror?.governanceLog ?? rules.haltLog, watch = rules.halts
        let book: (([GovernanceRecord]) -> HaltBook) = { records in
            HaltBook(records, liftProblem: { watch.liftProblem($0) })
        }
        let records: [GovernanceRecord]
        do { records = try log.read() } catch {
            throw CommandFailure(status: .findings, message: "\(error.errorDescription ?? error.message); nothing was written: restore it from Git or a copy first")
        }
        if let bad = records.first(where: { watch.signatureProblem($0) != nil }) {
            // On the store no file can be restored: its owner voids the record (`store void`).
            let place = mirror.map { "the halts log of the store \($0.shown), record \(bad.seq)," } ?? "\(log.path):\(bad.seq)"
            let way = mirror == nil ? "" : "; the store's owner voids it, with the records after it, by: runsheet store void --log halts --from \(bad.seq) --reason TEXT"
            throw CommandFailure(status: .findings, message: "\(place) does not verify: the signature of record \(bad.seq) does not (\(watch.signatureProblem(bad) ?? "")); nothing was written\(way)")
        }
        if lift {
            let chosen = { (records: [GovernanceRecord]) -> [Halt] in
                book(records).active(at: now).filter { halt in
                    (service == nil && environment == nil) || (Self.same(halt.service, service) && Self.same(halt.environment, environment))
                }
            }
            let lifting = chosen(records)
            guard !lifting.isEmpty else {
                let scope = service == nil && environment == nil ? "" : " declared for exactly " + [service.map { "service \($0)" }, environment.map { "environment \($0)" }].compactMap { $0 }.joined(separator: " and ")
                throw CommandFailure(status: .findings, message: "no halt\(scope) is in force in \(log.path), so there is nothing to lift and nothing was written" +
                                     (book(records).active(at: now).isEmpty ? "" : "; 'runsheet status' lists the halts in force"))
            }
            var data: [String: JSONValue] = ["halts": .array(lifting.map { .string($0.hash) })]
            if let reason { data["reason"] = .string(reason) }
            if let rules = rules.recordedRules { data["rules"] = rules }
            try append(GovernanceRecord(type: Halt.lifted, by: person, data: data, repository: rules.identity), to: log, signer: signer) { current in
                guard chosen(current).map(\.hash) == lifting.map(\.hash) else { throw Moved() }
            }
            try mirror?.commitAppended()
            for halt in lifting { Output.line("lifted halt \(halt.seq): \(halt.sentence.shown)") }
            return
        }
        var data: [String: JSONValue] = ["reason": .string(reason ?? "")]
        if let service { data["service"] = .string(service) }
        if let environment { data["environment"] = .string(environment) }
        if let end { data["until"] = .string(Timestamp.format(end)) }
        if let rules = rules.recordedRules { data["rules"] = rules }
        let written = try append(GovernanceRecord(type: Halt.declared, by: person, data: data, repository: rules.identity), to: log, signer: signer) { _ in }
        try mirror?.commitAppended()
        let halt = book([written]).halts[0]
        Output.line("production \(halt.sentence.shown)")
        Output.line("production steps of matching runs do not start until 'runsheet halt --lift'\(end == nil ? "" : " or the halt's end"); rollback steps still run")
    }

    private struct Moved: Error {}

    private func append(_ record: GovernanceRecord, to log: GovernanceLog, signer: EventSigner?,
                        check: ([GovernanceRecord]) throws -> Void) throws -> GovernanceRecord {
        do {
            return try log.append(record, signer: signer, check: check)
        } catch is Moved {
            throw CommandFailure(status: .findings, message: "the halts in \(log.path) changed while this was being signed; nothing was written, run it again")
        } catch let problem as GovernanceLog.Problem {
            throw CommandFailure(status: .findings, message: "\(problem.errorDescription ?? problem.message); nothing was written")
        }
    }

    /// A scope given for a lift against a halt's: both absent, or the same name.
    static func same(_ a: String?, _ b: String?) -> Bool {
        switch (a, b) {
        case (nil, nil): true
        case (let a?, let b?): PersonName.same(a, b)
        default: false
        }
    }
}
