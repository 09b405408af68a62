import ArgumentParser
import Foundation
import RunsheetCore

/// `runsheet release pir RELEASE --link URL`: marks the PIR follow-up of a closed release done.
struct ReleasePIRCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pir",
        abstract: "Mark a closed release's PIR follow-up done, with where the review is.",
        discussion: """
            By the release's owner or someone holding release-manager (or one of the \
            calendar's exception-roles) in the roles file, as for 'release close'; only \
            when the release's closure counts and a PIR follow-up fell due with it \
            (failures, rollbacks or exceptions), and once. The record goes to the \
            repository's .runsheet/closures.jsonl beside the closure, hash-chained, \
            naming the closure record's hash, signed where the policy requires \
            signatures (docs/JOURNAL.md, Governance logs). readiness then shows "PIR done \
            by NAME at TIME: LINK" instead of the follow-up due.

            Exit codes: 0 recorded; 1 refused (the release is not closed, no PIR \
            follow-up is due, it is already marked done, not the owner nor a release \
            manager, a closures file that does not verify, no key where signatures are \
            required); 2 bad input (no --link, the release file cannot be read, no roles \
            file).

            Examples:
              runsheet release pir releases/2026-12-checkout.md --link https://wiki.example.com/pir/2041
              runsheet release pir releases/2026-12-checkout.md --link "PIR held 2026-12-07, notes in INC-2041" --as rita --key ~/.ssh/id_ed25519
            """
    )

    @Argument(help: "The release file.", completion: Completions.runbook) var release: String
    @Option(help: "Where the review is: a URL, or a line of text (required).") var link: String?
    @OptionGroup var actor: ActorOption
    @OptionGroup var key: SigningKeyOption
    @OptionGroup var runsFolder: RunsFolderOption
    @OptionGroup var storeOption: StoreOption

    func run() throws {
        let storeURL = try StoreRoute.postgresURL(storeOption.store)
        guard let link = try RepositoryRules.text(self.link, option: "--link", required: nil) else {
            throw CommandFailure(status: .usage, message: "marking a PIR done needs --link saying where the review is, e.g. --link https://wiki.example.com/pir/2041; nothing was written")
        }
        let now = Date()
        let (parsed, report, _) = try ReleaseDecision.decide(release, at: now, rewound: false, runsDir: runsFolder.runsDir, store: storeOption.store)
        let folder = (release as NSString).deletingLastPathComponent
        let rules = try RepositoryRules.load(from: folder.isEmpty ? "." : folder, act: "marking a PIR done",
                                             hint: "the rules are found from the release file's folder, as readiness finds them")
        try rules.requireReadableGit(act: "marking the PIR of release \(parsed.id.shown) done")
        // On the PostgreSQL store, its closures log (StoreGovernanceMirror): read, appended and committed there.
        let mirror = try storeURL.map { try StoreGovernanceMirror.open(url: $0, log: "closures") }
        defer { mirror?.close() }
        let log = mirror?.governanceLog ?? rules.closureLog
        if let problem = report.blockers.first(where: { $0.item == "closures" }) {
            throw CommandFailure(status: .findings, message: "\(problem.location): \(problem.text); nothing was written")
        }
        guard let closure = report.closure, closure.notCounted == nil, let closed = Self.closureRecord(of: parsed, rules: rules, log: log) else {
            let why = report.closure?.notCounted.map { "its closure does not count (\($0))" } ?? "it is not closed"
            throw CommandFailure(status: .findings, message: "release \(parsed.id.shown) has no PIR follow-up due because \(why.shown); nothing was written ('runsheet release close \(release.shown)' closes it)")
        }
        guard !closure.followUp.isEmpty else {
            throw CommandFailure(status: .findings, message: "release \(parsed.id.shown) was \(closure.sentence.shown) with no PIR follow-up due (no failure, rollback or exception), so there is nothing to mark done; nothing was written")
        }
        if let pir = closure.pir, pir.notCounted == nil {
            throw CommandFailure(status: .findings, message: "the PIR of release \(parsed.id.shown) is already \(pir.sentence.shown), and it is marked done once; nothing was written")
        }
        let claimed = try RunContext.actor(explicit: actor.actorName)
        // With a key the person is the key's principal (as for `sign`): who may is asked of them, after binding.
        let (person, signer) = try rules.bind(claimed, explicit: actor.actorName, key: key, act: "marking a PIR done")
        if let refusal = rules.mayNotClose(person.name, release: parsed) {
            throw CommandFailure(status: .findings, message: "\(refusal.shown), so they may not mark the PIR of release \(parsed.id.shown) done; nothing was written")
        }
        let pir = ReleasePIR(release: parsed.id, by: person.name, at: "", link: link, closure: closed.hash)
        let written: GovernanceRecord
        do {
            written = try log.append(GovernanceRecord(type: ReleasePIR.done, by: person, data: pir.data.merging(rules.recordedRules.map { ["rules": $0] } ?? [:]) { a, _ in a },
                                                      repository: rules.identity), signer: signer) { records in
                if records.contains(where: { ReleasePIR($0)?.closure == closed.hash && rules.pirProblem($0, closure: closed, release: parsed) == nil }) { throw AlreadyDone() }
            }
        } catch is AlreadyDone {
            throw CommandFailure(status: .findings, message: "the PIR of release \(parsed.id.shown) was marked done by someone else a moment ago; nothing was written")
        } catch let problem as GovernanceLog.Problem {
            throw CommandFailure(status: .findings, message: "\(problem.errorDescription ?? problem.message); nothing was written")
        }
        try mirror?.commitAppended()
        Output.line("release \(parsed.id.shown): PIR \((ReleasePIR(written) ?? pir).sentence.shown)")
    }

    private struct AlreadyDone: Error {}

    /// The `release.closed` record that counts for `release` now.
    static func closureRecord(of release: Release, rules: RepositoryRules, log: GovernanceLog) -> GovernanceRecord? {
        (try? log.read())?.first { record in
            ReleaseClosure(record)?.release == release.id && rules.closeProblem(record, release: release) == nil
        }
    }
}

extension RepositoryRules {
    /// The PIR recorded by `now` that completes the closure `closed`: the first that counts, else
    /// the last that does not (with why); a failure when one's signature does not verify.
    func pir(completing closed: GovernanceRecord, of release: Release, in records: [GovernanceRecord], log: GovernanceLog, at now: Date) -> Result<ReleasePIR?, GovernanceLog.Problem> {
        var found: ReleasePIR?
        for record in records {
            guard var pir = ReleasePIR(record), pir.closure == closed.hash, let time = Timestamp.parse(record.time), time < now else { continue }
            if let problem = record.signatureProblem(log: log.name, signers: AllowedSigners.load(forRunbook: anchor)?.0) {
                return .failure(GovernanceLog.Problem(path: log.path, line: record.seq, message: "the signature of record \(record.seq) does not verify: \(problem)"))
            }
            pir.notCounted = pirProblem(record, closure: closed, release: release)
            if pir.notCounted == nil { return .success(pir) }
            found = pir
        }
        return .success(found)
    }

    /// Why a recorded PIR does not count under the rules as they are now: written in another
    /// repository, for another release, by someone who may not close it, or unsigned where
    /// signatures are required.
    func pirProblem(_ record: GovernanceRecord, closure closed: GovernanceRecord, release: Release) -> String? {
        guard let pir = ReleasePIR(record), let closure = ReleaseClosure(closed), pir.release == closure.release else { return "it is not this release's PIR" }
        guard record.repository == identity else {
            return "it was written in another repository (\(RepositoryIdentity.shown(record.repository))), not this one (\(RepositoryIdentity.shown(identity)))"
        }
        return authorProblem(record, release: release)
    }
}
