import ArgumentParser
import Foundation
import RunsheetCore

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show one run in detail, or a table of recent runs.",
        discussion: """
            Examples:
              runsheet status
              runsheet status checkout-deploy-20261122-051200-ab12
              runsheet status --runs-dir /srv/runsheet/runs --limit 5
            """
    )

    @Argument(help: "A run id (or unique prefix); without it, recent runs are listed.", completion: Completions.runID)
    var runID: String?

    @OptionGroup var runsFolder: RunsFolderOption

    @Option(help: "How many recent runs to list.")
    var limit = 20

    func run() throws {
        let runsDirectory = RunContext.runsDirectory(explicit: runsFolder.runsDir, near: FileManager.default.currentDirectoryPath)
        if let runID {
            let (_, directory) = try RunContext.locateRun(runID, runsDirectory: runsDirectory, explicit: runsFolder.runsDir != nil)
            let state = try RunSupport.state(in: directory, repair: false)
            let lease = RunLease.probe(folder: directory)
            Output.out(detail(state, lapsed: Self.lapsedGates(state, directory: directory),
                              session: lease.held ? lease.holder?.description ?? "another session" : nil))
            return
        }
        let catalog = RunCatalog.load(runsDirectory)
        guard !catalog.entries.isEmpty || !catalog.unreadable.isEmpty else {
            let exists = FileManager.default.fileExists(atPath: runsDirectory)
            Output.line("no runs in \(runsDirectory)\(exists ? " yet" : " (the folder does not exist)"); start one with 'runsheet run RUNBOOK'" +
                        (runsFolder.runsDir == nil ? ", or pass --runs-dir with the folder your runs are in" : ""))
            return
        }
        // Newest first; runs whose journal cannot be read are left out of the table.
        let rows = catalog.entries.map { ($0.id, $0.state) }
        var table = [["RUN", "RUNBOOK", "STATUS", "STEPS", "STARTED", "BY"]]
        for (id, state) in rows.prefix(limit) {
            let settled = state.settledCount
            // Names and ids from journals show escaped: a line break or escape in one cannot forge a row.
            table.append([id.shown, state.runbookID.shown, state.outcome?.rawValue ?? "in progress", "\(settled)/\(state.stepHashes.count)",
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
        guard !state.finished, let bytes = try? FileReader.read(RunSupport.runbookPath(of: state, runDirectory: directory)) else { return [:] }
        let result = Compiler().compile(path: RunSupport.runbookPath(of: state, runDirectory: directory), bytes: bytes)
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
    func detail(_ state: RunState, lapsed: [String: String] = [:], session: String? = nil) -> String {
        var lines: [String] = []
        lines.append("run      \(state.runID.shown)")
        lines.append("runbook  \(state.title.shown) (\(state.runbookPath.shown))")
        lines.append("sha256   \(state.runbookSHA256.shown)" + (state.gitCommit.map { "  commit \($0.shown)" } ?? ""))
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
        if let session { lines.append("session  driven by \(session.shown); another session is refused until it ends") }
        lines.append("actors   \(state.actors.map(\.shown).joined(separator: ", "))")
        lines.append("events   \(state.eventCount), head \(String(state.headHash.prefix(16)))")
        // Sorted as (time, id) pairs: sorting whole step records copies them, which a long run feels.
        let settledSteps = state.steps.compactMap { id, record in record.status.isSettled ? (record.endedAt ?? "", id) : nil }
            .sorted { $0.0 < $1.0 }
        if !settledSteps.isEmpty { lines.append("") }
        for (_, id) in settledSteps {
            let record = state.record(id)
            let why = lapsed[id]
            let lapsed = why != nil || state.approvalLapsed(id)
            var line = "  \(lapsed ? "↺" : record.mark) \(id.shown)  \((record.actor ?? "").shown)  \((record.endedAt ?? "").shown)"
            if let reason = record.reason?.shown { line += record.forced ? "  (FORCED: \(reason))" : "  (\(reason))" }
            if lapsed {
                line += "  (APPROVAL LAPSED: it no longer holds under the run's plan and rules as they are now" + (why.map { $0.isEmpty ? "" : ": \($0.shown)" } ?? "") + "; it must be approved again)"
            }
            for waiver in state.waivers[id] ?? [] { line += "  (WAIVED by \(waiver.actor.shown) as \(waiver.role.shown): \(waiver.reason.shown))" }
            lines.append(line)
        }
        let unfinished = state.unfinishedCommands
        if !unfinished.isEmpty { lines.append("") }
        for (step, command) in unfinished {
            lines.append("  ⚠ \(step)  command \(command.index) \(command.summary) (output: \(command.outputFile))")
        }
        let approvals = Approvals.lines(state, now: Date())
        if !approvals.isEmpty { lines.append("") }
        lines += approvals
        return lines.joined(separator: "\n") + "\n"
    }
}

struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a run's trail: who did what, when, from which host, on which runbook commit.",
        discussion: """
            Examples:
              runsheet audit checkout-deploy-20261122-051200-ab12
              runsheet audit checkout-deploy > audit.txt
            """
    )

    @Argument(help: "The run id (or unique prefix).", completion: Completions.runID) var runID: String
    @OptionGroup var runsFolder: RunsFolderOption

    func run() throws {
        let directory = try RunContext.runDirectory(runID, runsDir: runsFolder.runsDir)
        let events = try RunSupport.events(in: directory, repair: false)
        let state = RunState.fold(events)
        // Every name and text from the journal shows escaped (`ShownText`): one event, one line.
        var lines = ["Audit trail of run \(state.runID.shown): \(state.title.shown) (\(state.runbookPath.shown))",
                     "runbook sha256 \(state.runbookSHA256.shown)" + (state.gitCommit.map { ", commit \($0.shown)" } ?? ", not in a Git repository"), ""]
        for event in events {
            var what = event.type.rawValue
            if let step = event.step { what += " " + step.shown }
            let details = (try? event.payload())?.auditDetails ?? []
            // The OS account beside the claimed name (journal format 1.1).
            let account = event.uid.map { "; uid \($0)" + (event.login.map { " \($0.shown)" } ?? "") } ?? ""
            lines.append("\(event.time.shown)  \(event.actor.shown)@\(event.host.shown) (\(event.via.shown)\(account))  \(what)" + (details.isEmpty ? "" : "  " + details.joined(separator: " ")))
        }
        Output.out(lines.joined(separator: "\n") + "\n")
    }
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a run's journal: every event intact, in order, none removed.",
        discussion: """
            Exit codes: 0 the hash chain is intact; 1 an event was altered, removed or \
            reordered, or the journal no longer reaches the --head given; 2 no such run.

            A chain cut short after any event is still a valid chain. To catch events removed \
            from the end, keep the head hash this command prints somewhere else (a ticket, a \
            release note, a Git commit) and pass it back with --head later.

            Examples:
              runsheet verify checkout-deploy-20261122-051200-ab12
              runsheet verify runs/checkout-deploy-20261122-051200-ab12/journal.jsonl
              runsheet verify checkout-deploy-20261122-051200-ab12 --head 3f9a61c2d0e4b7a8
            """
    )

    @Argument(help: "The run id (or unique prefix, or the run's folder).", completion: Completions.runID)
    var runID: String

    @OptionGroup var runsFolder: RunsFolderOption

    @Option(name: .customLong("head"),
            help: ArgumentHelp("A head hash printed earlier (at least 8 hex digits); fail unless the journal still holds that event.", valueName: "hash"))
    var expectedHead: String?

    func validate() throws {
        if let expectedHead, expectedHead.count < 8 || expectedHead.count > 64 || !expectedHead.allSatisfy(\.isHexDigit) {
            throw ValidationError("--head takes 8 to 64 hex digits of a hash that verify or status printed, not '\(expectedHead)'")
        }
    }

    func run() throws {
        let directory = try RunContext.runDirectory(runID, runsDir: runsFolder.runsDir)
        let (path, report) = try RunSupport.verification(of: directory)
        if let problem = report.problem {
            Output.line("\(path):\(problem.line): journal does not verify: \(problem.message)")
            throw CommandFailure(status: .findings, message: "")
        }
        if let expectedHead = expectedHead?.lowercased(), !report.events.contains(where: { $0.hash.hasPrefix(expectedHead) }) {
            Output.line("\(path): journal does not verify: no event has the head hash \(expectedHead) given; the chain is intact but ends at event \(report.eventCount) (head \(String((report.headHash ?? "-").prefix(16)))), so events were removed from its end or the whole chain was rewritten")
            throw CommandFailure(status: .findings, message: "")
        }
        var line = "\(path): intact, \(report.eventCount) events, head \(report.headHash ?? "-")"
        if let torn = report.tornLine { line += " (plus a torn last line of \(torn.bytes) bytes from a crash)" }
        Output.line(line)
        // The approvals the intact chain proves.
        for approval in Approvals.lines(RunState.fold(report.events), now: Date()) { Output.line(approval) }
    }
}
