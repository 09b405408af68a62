import ArgumentParser
import Foundation
import RunsheetCore
import RunsheetPostgres

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show one run in detail, or a table of recent runs.",
        discussion: """
            Examples:
              runsheet status
              runsheet status checkout-deploy-20261122-051200-ab12
              runsheet status --runs-dir /srv/runsheet/runs --limit 5
              runsheet status --runbooks runbooks    # the halts of runbooks/.runsheet/
            """
    )

    @Argument(help: "A run id (or unique prefix); without it, recent runs are listed.", completion: Completions.runID)
    var runID: String?

    @OptionGroup var runsFolder: RunsFolderOption
    @OptionGroup var storeOption: StoreOption
    /// Whose halts the list shows: the .runsheet/ found from there (as `halt --runbooks`).
    @OptionGroup var governed: GovernedFolderOption

    @Option(help: "How many recent runs to list.")
    var limit = 20

    func run() throws {
        let runsDirectory = RunContext.runsDirectory(explicit: runsFolder.runsDir, near: FileManager.default.currentDirectoryPath)
        if let runID {
            try StoreRoute.reading(runID, flag: storeOption.store, outputs: false, fold: true, locate: {
                try RunContext.locateRun(runID, runsDirectory: runsDirectory, explicit: runsFolder.runsDir != nil).directory
            }) { directory, view in try show(directory, voided: VoidedLines.lines(of: view, run: runID), folded: view?.folded()) }
            return
        }
        // On the PostgreSQL store, its runs read in memory as a runs folder's are (StoreRuns).
        let stored = try StoreRuns.chosen(storeOption.store)
        defer { stored?.close() }
        let catalog = stored.map(RunCatalog.load) ?? RunCatalog.load(runsDirectory)
        // Runs whose journal does not verify are listed, marked, after a warning for each.
        let unverified = catalog.entries.compactMap { entry in entry.problem.map { (entry, $0) } }
        for (entry, problem) in unverified { Output.error(RunSupport.warning(problem, path: RunSupport.shownJournalPath(entry.directory))) }
        catalog.reportUnreadable()
        let locks = EnvironmentLocking.statusLines(holders: stored?.lockHolders() ?? LockFolder(runsDirectory: runsDirectory).holders()) + HaltStatus.lines(near: try governed.directory(), store: try StoreRoute.postgresURL(storeOption.store))
        guard !catalog.entries.isEmpty || !catalog.unreadable.isEmpty else {
            for line in locks { Output.line(line) }
            if let stored {
                Output.line("no runs in the store \(stored.store) yet; copy runs into it with 'runsheet store push RUN'")
                return
            }
            let exists = FileManager.default.fileExists(atPath: runsDirectory)
            Output.line("no runs in \(runsDirectory)\(exists ? " yet" : " (the folder does not exist)"); start one with 'runsheet run RUNBOOK'" +
                        (runsFolder.runsDir == nil ? ", or pass --runs-dir with the folder your runs are in" : ""))
            return
        }
        // Newest first; runs whose journal cannot be read are left out of the table (and named on standard error).
        let rows = catalog.entries.map { ($0.id, $0.state) }
        let unverifiedIDs = Set(unverified.map(\.0.id))
        var table = [["RUN", "RUNBOOK", "STATUS", "STEPS", "STARTED", "BY"]]
        for (id, state) in rows.prefix(limit) {
            let settled = state.settledCount
            // Names and ids from journals show escaped: a line break or escape in one cannot forge a row.
            let status = (state.outcome?.rawValue ?? "in progress") + (unverifiedIDs.contains(id) ? " (does not verify)" : "")
            table.append([id.shown, state.runbookID.shown, status, "\(settled)/\(state.stepHashes.count)",
                          String(state.startedAt.prefix(16)).replacingOccurrences(of: "T", with: " ").shown, state.startedBy.shown])
        }
        Output.out(Self.format(table))
        let owing = rows.map { ($0.0, $0.1, FollowUp.of($0.1)) }.filter { $0.2.missing }
        if !owing.isEmpty {
            Output.line("")
            Output.line("\(owing.count) run\(owing.count == 1 ? "" : "s") still owe\(owing.count == 1 ? "s" : "") the follow-up review their class requires:")
            for (id, state, followUp) in owing {
                Output.line("  \(id.shown) (\(state.releaseClass.rawValue)): \((followUp.phrase ?? "").shown); record it with: runsheet sign \(id.shown) --follow-up --comment ...")
            }
        }
        for line in locks { Output.line(line) }
        if !unverified.isEmpty { throw CommandFailure(status: .findings, message: "") }
    }

    /// One run in detail, from its folder; `voided`: what `store void` took out of it, said after
    /// it; `folded`: its journal's fold, already made from the store's copy.
    func show(_ directory: String, voided: [String] = [], folded: JournalFold? = nil) throws {
        let (state, problem) = try RunSupport.shownState(in: directory, folded: folded)
        let lease = RunLease.probe(folder: directory)
        Output.out(detail(state, lapsed: Self.lapsedGates(state, directory: directory), unsignedRule: Self.unsignedRule(state, directory: directory),
                          session: lease.held ? lease.holder?.description ?? "another session" : nil, items: StatusItemDemands.lines(state, directory: directory),
                          neverDone: Self.neverDone(state, directory: directory)))
        for line in voided { Output.line(line) }
        try RunSupport.finishShowing(problem)
        RunSupport.keepUntilExit(state)
    }

    static func format(_ rows: [[String]]) -> String {
        var widths = [Int](repeating: 0, count: rows.first?.count ?? 0)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        return rows.map { row in
            row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }

    /// Done gates whose approval does not hold under the runbook and rules as they are now: a
    /// signer no longer holds the role, a waiver's author drove the run, the plan changed. Empty
    /// when the run has ended or its runbook cannot be compiled (the journal alone then decides).
    /// The value says why, from the gate's rule: what it still needs, and which approvals do not count.
    static func lapsedGates(_ state: RunState, directory: String) -> [String: String] {
        let path = RunSupport.runbookPath(of: state, runDirectory: directory)
        guard !state.finished, let bytes = try? FileReader.read(path) else { return [:] }
        let result = Compiler().compile(path: path, bytes: bytes)
        guard !result.hasErrors else { return [:] }
        var runbook = result.runbook
        runbook.releaseClass = state.releaseClass
        let governance = Governance.load(for: runbook).0
        var lapsed: [String: String] = [:]
        for step in runbook.steps where step.isGate && state.record(step.id).status == .done {
            let status = GateStatus.evaluate(step: step, state: state, runbook: runbook, governance: governance)
            guard !status.satisfied else { continue }
            let needs = status.missing.isEmpty ? [] : ["it needs " + status.missing.joined(separator: " and ")]
            var seen = Set<String>()
            lapsed[step.id] = (needs + status.signatures.compactMap(\.problem)).filter { seen.insert($0).inserted }.joined(separator: "; ")
        }
        return lapsed
    }

    /// The run in detail; every name and text from the journal shows escaped (`ShownText`).
    /// `session` names who drives the run now (its lease's holder), if anyone does.
    /// `items`: what the criticality rule adds to the run's gates (`StatusItemDemands`).
    /// The steps a completed run never did nor skipped with a reason (`RunState.neverDone`), by
    /// the runbook as it is now; empty when it cannot be compiled.
    static func neverDone(_ state: RunState, directory: String) -> [String] {
        let path = RunSupport.runbookPath(of: state, runDirectory: directory)
        guard state.outcome == .completed, let bytes = try? FileReader.read(path) else { return [] }
        let result = Compiler().compile(path: path, bytes: bytes)
        return result.hasErrors ? [] : state.neverDone(in: result.runbook).map(\.id)
    }

    /// `neverDone`: the steps a completed run moved past and never did (`RunState.neverDone`).
    func detail(_ state: RunState, lapsed: [String: String] = [:], unsignedRule: String? = nil, session: String? = nil, items: [String] = [],
                neverDone: [String] = []) -> String {
        var lines: [String] = []
        lines.append("run      \(state.runID.shown)")
        lines.append("runbook  \(state.title.shown) (\(state.runbookPath.shown))")
        lines.append("sha256   \(state.runbookSHA256.shown)" + (state.gitCommit.map { "  commit \($0.shown)" } ?? ""))
        if let change = state.changeRecord { lines.append("change   \(change.shown)") }
        var classLine = "class    \(state.releaseClass.rawValue)"
        if let declared = state.declaredClass {
            let permission = state.downgrade.map { "; chosen by \(state.startedBy.shown) as \($0.role.shown), as \(Policy.relativePath) permits" } ?? ""
            classLine += " (the runbook declares \(declared.rawValue)\(permission))"
        }
        lines.append(classLine)
        if !state.params.isEmpty {
            lines.append("params   " + state.params.sorted { $0.key < $1.key }.map { "\($0.key.shown)=\($0.value.shown)" }.joined(separator: " "))
        }
        lines.append("started  \(state.startedAt.shown) by \(state.startedBy.shown) on \(state.host.shown) (\(state.via.shown))")
        if let rules = state.rules, !rules.isEmpty {
            lines.append("rules    " + rules.sorted { $0.key < $1.key }.map { "\($0.key.shown) \(String($0.value.prefix(12)).shown)" }.joined(separator: ", "))
        }
        for change in state.ruleChanges {
            lines.append("rules    changed \(change.time.shown), seen by \(change.actor.shown) at resume: \(change.reasons.joined(separator: "; ").shown); the rules as they are now apply from then on")
        }
        for change in state.changes {
            lines.append("changed  \(change.time.shown) by \(change.actor.shown): \(change.reasons.joined(separator: "; ").shown); earlier sign-offs no longer count")
        }
        let settled = state.settledCount
        lines.append("status   \(state.outcome?.rawValue ?? "in progress")" + (state.endReason.map { ": \($0.shown)" } ?? "") + " · \(settled)/\(state.stepHashes.count) steps settled")
        if let cursor = state.cursor, !state.finished { lines.append("at       \(cursor.shown)") }
        lines += items
        if let session { lines.append("session  driven by \(session.shown); another session is refused until it ends") }
        if let lock = state.lock, !state.finished {
            lines.append("lock     \(lock.shownName)" + (state.holdsLock ? " held since \((state.lockSince ?? "").shown)" + (lock.mode == .shared ? " (shared)" : "")
                                                       : " released by \((state.lockReleases.last?.actor ?? "").shown) at \((state.lockReleases.last?.time ?? "").shown); resume takes it again"))
        }
        lines.append("actors   \(state.actors.map(\.shownName).joined(separator: ", "))")
        lines.append("events   \(state.eventCount), head \(state.headHash)")  // whole, as verify --head takes it
        lines += Self.signingLines(state, unsignedRule: unsignedRule)
        // In the order the journal settled them, each step where it was settled last: no sort,
        // which a run of tens of thousands of steps would feel.
        // Each record is copied out once (a read of a field through the dictionary's values
        // copied the whole record, a retain of each of its fields, every time).
        let settledSteps = state.settlements.compactMap { entry -> (String, RunState.StepRecord)? in
            guard let record = state.steps[entry.step], record.status.isSettled, record.settledSeq == entry.seq else { return nil }
            return (entry.step, record)
        }
        if !settledSteps.isEmpty { lines.append("") }
        // One text for all of them, written piece by piece: a string of its own for each line
        // (then joined) was tens of thousands of allocations and copies on a long run.
        var settledLines = ""
        settledLines.reserveCapacity(settledSteps.count * 64)
        for (id, record) in settledSteps {
            let why = lapsed[id]
            let lapsed = why != nil || state.approvalLapsed(id)
            if !settledLines.isEmpty { settledLines += "\n" }
            settledLines += "  "
            settledLines += lapsed ? "↺" : record.mark
            settledLines += " "
            settledLines += id.shown
            settledLines += "  "
            settledLines += (record.actor ?? "").shownName
            settledLines += "  "
            settledLines += (record.endedAt ?? "").shown
            if let reason = record.reason?.shown { settledLines += record.forced ? "  (FORCED: \(reason))" : "  (\(reason))" }
            if lapsed {
                settledLines += "  (APPROVAL LAPSED: it no longer holds under the run's plan and rules as they are now" + (why.map { $0.isEmpty ? "" : ": \($0.shown)" } ?? "") + "; it must be approved again)"
            }
            for waiver in state.waivers[id] ?? [] { settledLines += "  (WAIVED by \(waiver.actor.shown) as \(waiver.role.shown): \(waiver.reason.shown))" }
        }
        if !settledSteps.isEmpty { lines.append(settledLines) }
        if !neverDone.isEmpty { lines.append("") }
        lines += neverDone.map { "  \(RunState.neverDoneMark) \($0.shown)  \(RunState.neverDoneText)" }
        let unfinished = state.unfinishedCommands
        if !unfinished.isEmpty { lines.append("") }
        for (step, command) in unfinished {
            lines.append("  ⚠ \(step)  command \(command.index) \(command.summary) (output: \(command.outputFile))")
        }
        let failedChecks = FailedChecks.lines(state)
        if !failedChecks.isEmpty { lines.append("") }
        lines += failedChecks
        let approvals = Approvals.lines(state, now: Date())
        if !approvals.isEmpty { lines.append("") }
        lines += approvals
        if !state.notificationFailures.isEmpty { lines.append("") }
        lines += state.notificationFailures.map { "  ⚠ " + $0.summary }
        return lines.joined(separator: "\n") + "\n"
    }
}

struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Print a run's trail: who did what, when, from which host, on which runbook commit.",
        discussion: """
            Examples:
              runsheet audit checkout-deploy-20261122-051200-ab12
              runsheet audit checkout-deploy > audit.txt
            """
    )

    @Argument(help: "The run id (or unique prefix).", completion: Completions.runID) var runID: String
    @OptionGroup var runsFolder: RunsFolderOption
    @OptionGroup var storeOption: StoreOption

    func run() throws {
        try StoreRoute.reading(runID, flag: storeOption.store, origins: true, locate: { try RunContext.runDirectory(runID, runsDir: runsFolder.runsDir) }) { directory, view in
            try show(directory, origins: view.map { Dictionary($0.origins.map { ($0.seq, $0) }, uniquingKeysWith: { first, _ in first }) },
                     voided: VoidedLines.lines(of: view, run: runID))
        }
    }

    /// The trail of the run in `directory`; for a run read from the store, each event's database
    /// user and server time (`origins`, by seq) stand beside the actor it claims.
    /// `voided`: what `store void` took out of the run, after the trail.
    func show(_ directory: String, origins: [Int: EventOrigin]?, voided: [String] = []) throws {
        let (events, problem) = try RunSupport.shownEvents(in: directory)
        let state = RunState.fold(events)
        // Every name and text from the journal shows escaped (`ShownText`): one event, one line.
        var lines = ["Audit trail of run \(state.runID.shown): \(state.title.shown) (\(state.runbookPath.shown))",
                     "runbook sha256 \(state.runbookSHA256.shown)" + (state.gitCommit.map { ", commit \($0.shown)" } ?? ", not in a Git repository")]
        if let change = state.changeRecord { lines.append("change record \(change.shown)") }
        lines.append("")
        for event in events {
            var what = event.type.rawValue
            if let step = event.step { what += " " + step.shown }
            let details = (try? event.payload())?.auditDetails ?? []
            // The OS account beside the claimed name (journal format 1.1).
            var account = event.uid.map { "; uid \($0)" + (event.login.map { " \($0.shown)" } ?? "") } ?? ""
            if let origins {
                account += origins[event.seq].map { "; \($0.pushed ? "pushed by" : "written by") database user \($0.dbUser.shown) at \($0.serverTime.shown) server time" }
                    ?? "; not in the store"
            }
            lines.append("\(event.time.shown)  \(event.actor.shownName)@\(event.host.shown) (\(event.via.shown)\(account))  \(what)" + (details.isEmpty ? "" : "  " + details.joined(separator: " ")))
        }
        if !voided.isEmpty { lines += [""] + voided }
        Output.out(lines.joined(separator: "\n") + "\n")
        try RunSupport.finishShowing(problem)
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check a run's journal: every event intact, in order, none removed.",
        discussion: """
            Exit codes: 0 the hash chain is intact; 1 an event was altered, removed or \
            reordered, the journal does not end at the --head given, or no event of it has \
            the --contains hash; 2 no such run.

            A chain cut short after any event is still a valid chain. To catch events removed \
            from the end, keep the head hash this command prints somewhere else (a ticket, a \
            release note, a Git commit) and pass it back with --head later: it must still be \
            the last event's hash. A signer keeps the hash of the event their signature wrote \
            (a receipt); --contains checks that event is still in the chain, unchanged.

            Event times that go backwards while seq goes up are listed as warnings: times \
            are recorded, not checked against a clock, so they do not fail the check.

            Every SSH signature an event carries is checked against the repository's \
            .runsheet/allowed_signers at the event's time; one that does not verify fails \
            the check. --explain DIR writes each signed event's bytes and signature and the \
            allowed signers into DIR, and prints the stock 'ssh-keygen -Y verify' command \
            that checks each with OpenSSH alone (or run 'sh verify.sh' there).

            Examples:
              runsheet verify checkout-deploy-20261122-051200-ab12
              runsheet verify runs/checkout-deploy-20261122-051200-ab12/journal.jsonl
              runsheet verify checkout-deploy-20261122-051200-ab12 --head "$KEPT_HEAD"
              runsheet verify checkout-deploy-20261122-051200-ab12 --contains "$SIGNATURE_RECEIPT"
              runsheet verify checkout-deploy-20261122-051200-ab12 --explain audit/
            """
    )

    @Argument(help: "The run id (or unique prefix, or the run's folder).", completion: Completions.runID)
    var runID: String

    @OptionGroup var runsFolder: RunsFolderOption
    @OptionGroup var storeOption: StoreOption

    @Option(name: .customLong("head"),
            help: ArgumentHelp("The head hash printed earlier (all 64 hex digits); fail unless it is still the last event's hash.", valueName: "hash"))
    var expectedHead: String?

    @Option(name: .customLong("contains"),
            help: ArgumentHelp("An event's hash (all 64 hex digits), such as a signer's receipt; fail unless that event is still in the chain, unchanged.", valueName: "hash"))
    var containedHash: String?

    @Option(name: .customLong("explain"),
            help: ArgumentHelp("Write into this new or empty folder each signed event's bytes and signature and the allowed signers, and print the ssh-keygen command that checks each with OpenSSH alone.", valueName: "folder"),
            completion: .directory)
    var explainFolder: String?

    func validate() throws {
        for (option, value) in [("--head", expectedHead), ("--contains", containedHash)] {
            if let value, !Self.isFullHash(value) {
                throw ValidationError("\(option) takes a whole SHA-256 hash, 64 hex digits as verify or status printed it, not '\(value)' (\(value.count) characters)")
            }
        }
    }

    static func isFullHash(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0 | 0x20) }
    }

    func run() throws {
        try StoreRoute.reading(runID, flag: storeOption.store, locate: { try RunContext.runDirectory(runID, runsDir: runsFolder.runsDir) }) { directory, _ in
            try verify(directory)
        }
    }

    /// Checks the run in `directory` and prints what it proves.
    func verify(_ directory: String) throws {
        let (path, report) = try RunSupport.verification(of: directory)
        // One fold, the gate check judged in it (a chain that does not hold is not judged).
        var gates = VerifyGateFold(events: report.events, runDirectory: directory)
        let folded = report.problem == nil ? gates.fold() : RunState.fold(report.events)
        let signatures = report.problem == nil ? RunSignatures.check(folded, runDirectory: directory) : (problem: nil, outcomes: [:])
        if let problem = report.problem ?? signatures.problem {
            Output.line("\(path):\(problem.line): journal does not verify: \(problem.message)")
            throw CommandFailure(status: .findings, message: "")
        }
        let head = report.headHash ?? "-"
        if let expectedHead = expectedHead?.lowercased(), expectedHead != head {
            let position = report.events.firstIndex { $0.hash == expectedHead }
            let why = position.map { "that is the hash of event \($0 + 1), and \(report.eventCount - $0 - 1) event(s) were appended after it; if they are expected, keep the new head" }
                ?? "no event of the chain has that hash, so events were removed from its end or the whole chain was rewritten"
            Output.line("\(path): journal does not verify: it ends at event \(report.eventCount) with head \(head), not at the head \(expectedHead) given; \(why)")
            throw CommandFailure(status: .findings, message: "")
        }
        if let containedHash = containedHash?.lowercased(), !report.events.contains(where: { $0.hash == containedHash }) {
            Output.line("\(path): journal does not verify: no event of the intact chain (\(report.eventCount) events, head \(head)) has the hash \(containedHash), so that event was removed or changed, or the whole chain was rewritten")
            throw CommandFailure(status: .findings, message: "")
        }
        // A gate recorded done without the sign-offs its rule needed then: the chain is whole, the record is not.
        let unapproved = gates.findings(after: folded)
        if !unapproved.isEmpty {
            for finding in unapproved { Output.line("\(path):\(finding.seq): journal does not verify: \(UnapprovedGates.describe(finding))") }
            throw CommandFailure(status: .findings, message: "")
        }
        var line = "\(path): intact, \(report.eventCount) events, head \(head)"
        if let torn = report.tornLine { line += " (plus a torn last line of \(torn.bytes) bytes from a crash)" }
        Output.line(line)
        for index in report.events.indices where report.events[index].type == .journalSealed {  // by index: no copy of every event
            let event = report.events[index]
            guard case .journalSealed(let sealed)? = try? event.payload() else { continue }
            Output.line("sealed at event \(sealed.seq) by \(event.actor.shown) at \(event.time.shown) (seal: event \(event.seq)\(event.signature == nil ? ", unsigned" : ""))")
        }
        if let containedHash = containedHash?.lowercased(), let index = report.events.firstIndex(where: { $0.hash == containedHash }) {
            let event = report.events[index]
            Output.line("contains \(containedHash): event \(event.seq), \(event.type.rawValue)\(event.step.map { " " + $0 } ?? "") by \(event.actor) at \(event.time)")
        }
        let backwards = report.timesGoingBack
        for time in backwards.prefix(5) {
            Output.line("\(path):\(time.line): warning: event \(time.seq) is stamped \(time.time), earlier than \(time.previousTime) on the line before; a clock was set back, or the events come from hosts whose clocks disagree (times are recorded, not checked, so the chain still verifies)")
        }
        if backwards.count > 5 { Output.line("\(path): warning: and \(backwards.count - 5) more event(s) stamped earlier than the one before them") }
        // The approvals the intact chain proves.
        for approval in Approvals.lines(folded, now: Date()) { Output.line(approval) }
        // Every signature, checked natively against the allowed signers at its event's time (all verified, or the chain would have failed above).
        let outcomes = signatures.outcomes
        for event in folded.signedEvents {
            guard let outcome = outcomes[event.seq] else { continue }
            Output.line("signed   event \(event.seq) \(event.type.rawValue)\(event.step.map { " " + $0.shown } ?? "") by \(outcome.principal.shownName), key \(outcome.fingerprint ?? "?"): \(outcome.verified ? "verified" : "does not verify")")
        }
        for repeated in SharedKeys.repeats(in: folded) {
            Output.line("note     \(SharedKeys.problem(repeated.record, key: repeated.key, first: repeated.first)) at gate \(repeated.step.shown)")
        }
        if let explainFolder {
            let runbook = RunSupport.runbookPath(of: folded, runDirectory: directory)
            guard let signers = RunSignatures.signers(for: folded, runDirectory: directory)?.path else {
                throw CommandFailure(status: .usage, message: "no .runsheet/allowed_signers was found above \(runbook), the runbook of run \(folded.runID), so there is nothing to check its signatures against")
            }
            for line in try VerifyExplain.write(events: report.events, runID: folded.runID, allowedSigners: signers, into: explainFolder) { Output.line(line) }
        }
        RunSupport.keepUntilExit(folded, report)
    }
}
