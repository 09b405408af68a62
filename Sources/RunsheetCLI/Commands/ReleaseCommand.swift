import ArgumentParser
import Foundation
import RunsheetCore

struct ReleaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "Acts on a release as a whole.",
        discussion: """
            close: record that a GO release is closed (see 'runsheet release close --help').
            pir: mark a closed release's PIR follow-up done (see 'runsheet release pir --help').

            Examples:
              runsheet release close releases/2026-12-checkout.md
              runsheet release pir releases/2026-12-checkout.md --link https://wiki.example.com/pir/2041
            """,
        subcommands: [ReleaseClose.self, ReleasePIRCommand.self]
    )
}

struct ReleaseClose: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "close",
        abstract: "Close a release: record who closed it, when, and the readiness decision then.",
        discussion: """
            By the release's owner (its release file's owner key; inside Git only while \
            the release file is as committed at HEAD) or someone holding \
            release-manager, or one of the calendar's exception-roles, in the roles file; \
            only when readiness decides GO or GO with exceptions. The closure goes to the \
            repository's .runsheet/closures.jsonl (docs/JOURNAL.md, Governance logs) with \
            the decision and the SHA-256 of the readiness report as JSON at that moment, \
            which 'runsheet readiness RELEASE --format json --at ASOF' (ASOF as printed) \
            gives again. readiness then shows the release as closed, flags runs started \
            after it, and shows a PIR follow-up due when the release had failures, \
            rollbacks or exceptions, until 'runsheet release pir' marks it done. A \
            release is closed once.

            Exit codes: 0 closed; 1 refused (NO-GO, already closed, not the owner nor a \
            release manager, a closures file that does not verify, no key where \
            signatures are required); 2 bad input (the release file cannot be read, no \
            roles file).

            Examples:
              runsheet release close releases/2026-12-checkout.md
              runsheet release close releases/2026-12-checkout.md --as rita --key ~/.ssh/id_ed25519
            """
    )

    @Argument(help: "The release file.", completion: Completions.runbook) var release: String
    @OptionGroup var actor: ActorOption
    @OptionGroup var key: SigningKeyOption
    @OptionGroup var runsFolder: RunsFolderOption
    @OptionGroup var storeOption: StoreOption

    func run() throws {
        let storeURL = try StoreRoute.postgresURL(storeOption.store)
        // Decided as of one instant, as `readiness --at` would: the report's hash can be checked again.
        let now = Timestamp.parse(Timestamp.now()) ?? Date()
        let (parsed, report, evidence) = try ReleaseDecision.decide(release, at: now, rewound: true, runsDir: runsFolder.runsDir, store: storeOption.store)
        let folder = (release as NSString).deletingLastPathComponent
        let rules = try RepositoryRules.load(from: folder.isEmpty ? "." : folder, act: "closing a release",
                                             hint: "the rules are found from the release file's folder, as readiness finds them, so keep it beside or below the .runsheet/ that governs its runbooks")
        try rules.requireReadableGit(act: "closing release \(parsed.id.shown)")
        if let closure = report.closure, closure.notCounted == nil {
            throw CommandFailure(status: .findings, message: "release \(parsed.id.shown) is already \(closure.sentence.shown), and a release is closed once; nothing was written")
        }
        guard report.decision != .noGo else {
            let first = report.blockers.first.map { ": \($0.item.shown): \($0.text.shown)" } ?? ""
            throw CommandFailure(status: .findings, message: "release \(parsed.id.shown) is NO-GO (\(report.blockers.count) blocking reason\(report.blockers.count == 1 ? "" : "s"), the first\(first)), and only a GO release, or one GO with exceptions, can be closed; nothing was written ('runsheet readiness \(release.shown)' lists them)")
        }
        let claimed = try RunContext.actor(explicit: actor.actorName)
        // With a key the person is the key's principal (as for `sign`): who may close is asked of them, after binding.
        let (person, signer) = try rules.bind(claimed, explicit: actor.actorName, key: key, act: "a release's closure")
        if let refusal = rules.mayNotClose(person.name, release: parsed) { throw CommandFailure(status: .findings, message: "\(refusal.shown), so they may not close release \(parsed.id.shown); nothing was written") }
        let json = try ReadinessRenderer.render(report, format: .json)
        let used = Set(report.items.compactMap(\.run))
        let rolledBack = ReleaseDecision.facts(evidence, now: now).filter { $0.rolledBack && used.contains($0.id) }.map(\.id)
        var closure = ReleaseClosure(release: parsed.id, by: person.name, at: "", verdict: report.decision.rawValue, reportSHA256: SHA256Hex.of(json),
                                     asOf: report.asOf, followUp: ReleaseClosure.followUp(for: report, rolledBack: rolledBack))
        // The hash of the bytes the decision above was taken on (`Release.sha256`): the file is read once.
        let file = rules.releaseFile(parsed)
        closure.file = file.path
        closure.fileSHA256 = file.sha256
        // On the PostgreSQL store, its closures (StoreGovernanceMirror): read, appended and committed there.
        let mirror = try storeURL.map { try StoreGovernanceMirror.open(url: $0, log: "closures") }
        defer { mirror?.close() }
        let log = mirror?.governanceLog ?? rules.closureLog
        let written: GovernanceRecord
        do {
            written = try log.append(GovernanceRecord(type: ReleaseClosure.closed, by: person, data: closure.data.merging(rules.recordedRules.map { ["rules": $0] } ?? [:]) { a, _ in a },
                                                      repository: rules.identity), signer: signer) { records in
                if records.contains(where: { ReleaseClosure($0)?.release == parsed.id && rules.closeProblem($0, release: parsed) == nil }) { throw AlreadyClosed() }
            }
        } catch is AlreadyClosed {
            throw CommandFailure(status: .findings, message: "release \(parsed.id.shown) was closed by someone else a moment ago, and a release is closed once; nothing was written")
        } catch let problem as GovernanceLog.Problem {
            throw CommandFailure(status: .findings, message: "\(problem.errorDescription ?? problem.message); nothing was written")
        }
        try mirror?.commitAppended()
        let recorded = ReleaseClosure(written) ?? closure
        Output.line("release \(parsed.id.shown) \(recorded.sentence.shown)")
        Output.line("readiness as of \(report.asOf): runsheet readiness \(release.shown) --format json --at \(report.asOf) | sha256sum")
        Output.line(recorded.followUp.isEmpty ? "no PIR follow-up is due" : "PIR follow-up due: " + recorded.followUp.map(\.shown).joined(separator: "; ")
                    + "; once held, mark it done with: runsheet release pir \(release.shown) --link URL")
    }

    private struct AlreadyClosed: Error {}
}
