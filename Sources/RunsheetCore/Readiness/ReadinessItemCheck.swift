import Foundation

/// The blocking reasons and exceptions of one release item, and what its report row shows.
struct ItemCheck {
    typealias Finding = ReadinessReport.Finding

    let release: Release
    let entry: ReadinessReport.Evidence
    let now: Date
    var item: ReadinessReport.Item
    var blockers: [Finding] = []
    var exceptions: [Finding] = []

    init(release: Release, entry: ReadinessReport.Evidence, now: Date) {
        self.release = release
        self.entry = entry
        self.now = now
        item = ReadinessReport.Item(kind: entry.rollback ? "rollback" : "required", title: entry.item.title, link: entry.item.link, status: "ready")
    }

    /// The item with its status from its findings.
    var finishedItem: ReadinessReport.Item {
        var item = item
        item.status = !blockers.isEmpty ? "blocked" : !exceptions.isEmpty ? "exceptions" : "ready"
        return item
    }

    /// Said of the runs counted when some of the runbook's journals do not verify.
    private var trusted: String { entry.runs.contains { $0.fault != nil } ? " whose journal verifies" : "" }
    private var entryLocation: String { "\(release.path):\(entry.item.line)" }
    private var file: String { entry.item.link.split(separator: "#", maxSplits: 1).first.map(String.init) ?? entry.item.link }
    private func stepLink(_ step: Step?) -> String { step?.section.map { file + "#" + $0 } ?? file }
    private func stepLocation(_ step: Step?) -> String { step.map { "\(entry.item.path):\($0.line)" } ?? entryLocation }

    /// A finding about this item: at its release entry unless a step's link and place are given.
    private func finding(_ text: String, _ link: String?, _ location: String?, _ run: String?, _ by: String?, _ role: String?) -> Finding {
        Finding(item: entry.item.title, text: text, link: link ?? entry.item.link, location: location ?? entryLocation, run: run, by: by, role: role)
    }

    private mutating func block(_ text: String, link: String? = nil, location: String? = nil, run: String? = nil, by: String? = nil, role: String? = nil) {
        blockers.append(finding(text, link, location, run, by, role))
    }

    private mutating func except(_ text: String, link: String? = nil, location: String? = nil, run: String? = nil, by: String? = nil, role: String? = nil) {
        exceptions.append(finding(text, link, location, run, by, role))
    }

    mutating func evaluate(cutoff: Date?, conflictsSeen: inout Set<String>) {
        guard let runbook = entry.runbook else {
            block(entry.problem ?? "the runbook cannot be read")
            return
        }
        item.runbookId = runbook.id
        // Any run of the runbook whose journal does not verify blocks, however old it looks: its
        // start time is part of what may have been edited.
        for record in entry.runs.sorted(by: { $0.id > $1.id }) {
            guard let fault = record.fault else { continue }
            let what = fault.read ? "its journal does not verify" : "its journal cannot be read"
            block("run \(record.id) cannot be trusted: \(what): \(fault.location): \(fault.message); readiness takes no decision from it "
                  + "and does not fall back to an older run in its place; restore the journal from a copy and check it with: runsheet verify \(record.id)",
                  location: fault.location, run: record.id)
        }
        // Only parameters the runbook declares narrow the runs down.
        let filter = release.params.filter { name, _ in runbook.params.contains { $0.name == name } }
        // A release's change record narrows its required runs to those that name it (exactly);
        // a rollback rehearsal is not a run of the change.
        let change = entry.rollback ? nil : release.change
        let runs = entry.runs.compactMap { $0.state(asOf: cutoff) }
            .filter { run in filter.allSatisfy { run.params[$0.key] == $0.value } && (change == nil || run.changeRecord == change) }
            .sorted { ($0.startedAt, $0.runID) > ($1.startedAt, $1.runID) }
        var conditions = filter.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        if let change { conditions.append("change record \(change)") }
        let wanted = conditions.isEmpty ? "" : " with " + conditions.joined(separator: ", ")
        if entry.rollback {
            rollback(runbook, runs: runs, wanted: wanted)
        } else {
            required(runbook, runs: runs, wanted: wanted, conflictsSeen: &conflictsSeen)
        }
    }

    private mutating func rollback(_ runbook: Runbook, runs: [RunState], wanted: String) {
        let since = now.addingTimeInterval(-Double(release.rehearsalWithin))
        if let rehearsal = runs.first(where: { $0.outcome == .completed && (Timestamp.parse($0.endedAt ?? "") ?? .distantPast) >= since }) {
            describe(rehearsal, runbook)
            sealCheck(rehearsal)
            neverDoneCheck(rehearsal, runbook)
            for step in runbook.steps { overrides(step, of: rehearsal) }
            return
        }
        let last = runs.first.map { "; the last run, \($0.runID), \($0.outcome.map { "ended \($0.rawValue)" } ?? "is still in progress")" } ?? ""
        block("the rollback runbook has not been rehearsed: no completed run\(wanted)\(trusted) in the last \(DurationText.format(release.rehearsalWithin))\(last); rehearse it with: runsheet run \(entry.item.path)",
              run: runs.first?.runID)
        if let run = runs.first { describe(run, runbook) }
    }

    private mutating func required(_ runbook: Runbook, runs: [RunState], wanted: String, conflictsSeen: inout Set<String>) {
        // The change calendar at the target time, for runbooks that make production changes.
        if let target = release.target, let calendar = entry.calendar,
           runbook.production || runbook.steps.contains(where: \.production), let conflict = calendar.conflict(at: target) {
            let key = (calendar.path ?? "") + conflict
            if conflictsSeen.insert(key).inserted {
                block("the target time \(Timestamp.plain(target)) UTC \(conflict)", location: calendar.path ?? entryLocation)
            }
        }
        guard let run = runs.first else {
            block("no run of \(runbook.id)\(wanted)\(trusted.isEmpty ? " yet" : trusted); start one with: runsheet run \(entry.item.path)")
            return
        }
        describe(run, runbook)
        guard let outcome = run.outcome else {
            let settled = run.settledCount
            let at = run.cursor.map { " and is at step \($0)" } ?? ""
            block("run \(run.runID) is still in progress: \(settled) of \(run.stepHashes.count) steps settled\(at); continue it with: runsheet resume \(run.runID)",
                  link: stepLink(run.cursor.flatMap(runbook.step)), location: stepLocation(run.cursor.flatMap(runbook.step)), run: run.runID)
            return
        }
        if outcome != .completed {
            block("run \(run.runID) ended \(outcome.rawValue)" + (run.endReason.map { ": \($0)" } ?? ""), run: run.runID)
        }
        sealCheck(run)
        classCheck(run)
        neverDoneCheck(run, runbook)
        for step in runbook.steps {
            let record = run.record(step.id)
            switch record.status {
            case .failed:
                let text = "step \(step.id) failed" + (record.reason.map { ": \($0)" } ?? "")
                if outcome == .completed {
                    except(text + " (the run continued past it)", link: stepLink(step), location: stepLocation(step), run: run.runID, by: record.actor)
                } else {
                    block(text, link: stepLink(step), location: stepLocation(step), run: run.runID, by: record.actor)
                }
            case .skipped where !record.automatic:
                if step.isGate {
                    block("gate \(step.id) was skipped without its sign-offs (\(step.signOffSummary))" + (record.reason.map { ": \($0)" } ?? ""),
                          link: stepLink(step), location: stepLocation(step), run: run.runID, by: record.actor)
                } else {
                    except("step \(step.id) skipped" + (record.reason.map { ": \($0)" } ?? ""), link: stepLink(step), location: stepLocation(step), run: run.runID, by: record.actor)
                }
            default:
                break
            }
            if step.isGate, record.status == .done { unsignedGateCheck(step, run, runbook) }
            for signature in run.signatures[step.id] ?? [] where signature.stepHash != StepHash.of(step) && record.status == .done {
                block("the sign-off by \(signature.signer.shownName) on gate \(step.id) is stale: the step changed after it was signed",
                      link: stepLink(step), location: stepLocation(step), run: run.runID, by: signature.signer, role: signature.role)
            }
            overrides(step, of: run)
        }
        unapprovedGateCheck(run, runbook)
        let changes = RunbookChanges(recorded: run.stepHashes, runbook: runbook)
        if !changes.isEmpty && outcome == .completed {
            block("run \(run.runID) followed an earlier version of the runbook (\(changes.summary)); run it again", run: run.runID)
        }
        switch FollowUp.of(run, now: now, roles: entry.governance.roles) {
        // An emergency run's class exception already names its review's state.
        case .due(let due) where run.releaseClass != .emergency:
            except("the follow-up review this \(run.releaseClass.rawValue) change owes is due by \(due)", run: run.runID)
        case .overdue(let due):
            block("the follow-up review this \(run.releaseClass.rawValue) change owes is overdue since \(due); record it with: runsheet sign \(run.runID) --follow-up --comment ...", run: run.runID)
        default:
            break
        }
    }

    /// A step the completed run never did nor skipped with a reason (moved past with `goto`):
    /// the run did not carry the runbook out, so it does not count as done.
    private mutating func neverDoneCheck(_ run: RunState, _ runbook: Runbook) {
        for step in run.neverDone(in: runbook) {
            block("step \(step.id) was never done: run \(run.runID) ended without it being done or skipped with a reason (it was moved past with goto); "
                  + "run it again with: runsheet run \(entry.item.path)",
                  link: stepLink(step), location: stepLocation(step), run: run.runID)
        }
    }

    /// A run that requires signatures (as its journal records, or as the policy does now for its
    /// class: a journal rewritten without its requirement and its signatures must not pass) counts
    /// only once someone other than its starter sealed it, signed, after it ended: their seal
    /// vouches for the whole record.
    private mutating func sealCheck(_ run: RunState) {
        let required = run.signaturesRequired || entry.governance.policy[run.releaseClass].requiresSignatures
        guard required, run.finished, run.sealAfterEnd == nil else { return }
        block("run \(run.runID) requires signatures and was not sealed after it ended by someone other than its starter, \(run.startedBy); "
              + "someone the roles file names seals it with: runsheet seal \(run.runID) --key PATH", run: run.runID, by: run.startedBy)
    }

    /// A done gate met only by sign-offs that do not count as the rules are now: unsigned ones
    /// while the policy requires signatures for the run's class (UnsignedSignOffs), or a second
    /// sign-off by a key that already counted (SharedKeys): the gate is not met.
    private mutating func unsignedGateCheck(_ step: Step, _ run: RunState, _ runbook: Runbook) {
        let rule = UnsignedSignOffs.rule(run, entry.governance)
        let unsigned = rule == nil ? [] : (run.signatures[step.id] ?? []).filter { !$0.signed }
        let repeated = SharedKeys.repeats(in: run).filter { $0.step == step.id }
        guard !unsigned.isEmpty || !repeated.isEmpty else { return }
        let status = GateStatus.evaluate(step: step, state: run, runbook: runbook, governance: entry.governance)
        guard !status.satisfied else { return }
        var why: [String] = []
        if let rule, !unsigned.isEmpty { why.append("its sign-offs \(UnsignedSignOffs.list(unsigned, in: run)) are not signed, and \(rule), so they do not count") }
        why += repeated.map { SharedKeys.problem($0.record, key: $0.key, first: $0.first) }
        block("gate \(step.id) is not met: " + why.joined(separator: "; ")
              + (status.missing.isEmpty ? "" : "; it still needs \(status.missing.joined(separator: " and "))")
              + "; run it again with: runsheet run \(entry.item.path)",
              link: stepLink(step), location: stepLocation(step), run: run.runID, by: unsigned.first?.signer ?? repeated.first?.record.signer)
    }

    /// A gate the journal records done although its rule was not met at that point (a completion
    /// appended by hand, the chain recomputed): the run did not pass it (`UnapprovedGates`).
    private mutating func unapprovedGateCheck(_ run: RunState, _ runbook: Runbook) {
        guard run.eventCount > 0, let events = entry.runs.lazy.compactMap(\.events).first(where: {
            $0.count >= run.eventCount && $0[run.eventCount - 1].hash == run.headHash
        }) else { return }
        for finding in UnapprovedGates.find(events: Array(events.prefix(run.eventCount)), runbook: runbook, governance: entry.governance) {
            let step = runbook.step(finding.step)
            block("gate \(finding.step) is recorded done (event \(finding.seq)) without the sign-offs its rule needs: \(finding.needed); "
                  + "the run did not pass it; run it again with: runsheet run \(entry.item.path)",
                  link: stepLink(step), location: stepLocation(step), run: run.runID, by: finding.actor)
        }
    }

    /// How strict a class's path is; emergency, the break-glass path, is judged apart.
    private static func rank(_ releaseClass: ReleaseClass) -> Int {
        switch releaseClass {
        case .standard: 0
        case .normal: 1
        case .major: 2
        case .emergency: -1
        }
    }

    /// The run's class against the release's: a less strict one blocks; an emergency run is an exception.
    private mutating func classCheck(_ run: RunState) {
        let releaseClass = release.releaseClass
        let forRelease = releaseClass.map { " for a \($0.rawValue) release" } ?? ""
        if run.releaseClass == .emergency {
            item.classCheck = "break-glass"
            let review: String
            switch FollowUp.of(run, now: now, roles: entry.governance.roles) {
            case .notRequired: review = "its class policy asks for no follow-up review"
            case .done(let by, let at): review = "its follow-up review was recorded by \(by.shownName) at \(at)"
            case .due(let due): review = "its follow-up review is due by \(due)"
            case .overdue(let due): review = "its follow-up review is overdue since \(due)"
            }
            except("run \(run.runID) ran as an emergency change (the break-glass path)\(forRelease); \(review)", run: run.runID, by: run.startedBy)
            return
        }
        guard let releaseClass else { return }
        if releaseClass == .emergency || Self.rank(run.releaseClass) >= Self.rank(releaseClass) {
            item.classCheck = "meets"
            return
        }
        item.classCheck = "below"
        block("run \(run.runID) ran as a \(run.releaseClass.rawValue) change, below the release's class \(releaseClass.rawValue), so its gates and approvals "
              + "were those of a \(run.releaseClass.rawValue) change; run it again with: runsheet run \(entry.item.path) --class \(releaseClass.rawValue)",
              run: run.runID, by: run.startedBy)
    }

    /// A step forced done, a gate waived, a change-calendar exception: each an exception with who made it.
    private mutating func overrides(_ step: Step, of run: RunState) {
        let record = run.record(step.id)
        if record.forced {
            let codes = StepForced.exitCodes(record.overrode)
            except("step \(step.id) was forced done although " + (codes.isEmpty ? "it had failed" : "its command did not pass (overrode exit \(codes))")
                   + (record.reason.map { ": \($0)" } ?? ""),
                   link: stepLink(step), location: stepLocation(step), run: run.runID, by: record.actor)
        }
        for waiver in run.waivers[step.id] ?? [] {
            let stale = waiver.stepHash != StepHash.of(step) ? "the step changed after it was waived" : run.staleness(of: waiver.plan)
            except("gate \(step.id) was waived without its sign-offs: \(waiver.reason); it still needed \(waiver.unmet)"
                   + (stale.map { " (the waiver no longer counts: \($0))" } ?? ""),
                   link: stepLink(step), location: stepLocation(step), run: run.runID, by: waiver.actor, role: waiver.role)
        }
        for grant in run.exceptions[step.id] ?? [] {
            except("change-calendar exception for \(step.id): \(grant.text)", link: stepLink(step), location: stepLocation(step), run: run.runID, by: grant.actor, role: grant.role)
        }
    }

    /// What the item's row shows of the run used: outcome, class, journal head, approvers, plan changes.
    private mutating func describe(_ run: RunState, _ runbook: Runbook) {
        item.run = run.runID
        item.outcome = run.outcome?.rawValue ?? "in progress"
        item.startedAt = run.startedAt
        item.endedAt = run.endedAt
        item.runClass = run.releaseClass.rawValue
        item.change = run.changeRecord
        item.eventCount = run.eventCount
        item.headHash = run.headHash
        item.changes = run.changes.map { ReadinessReport.PlanChange(at: $0.time, by: $0.actor, reasons: $0.reasons) }
        item.seals = run.seals.isEmpty ? nil : run.seals.map { .init(by: $0.actor, at: $0.time, seq: $0.sealedSeq, head: $0.head, signed: $0.signed) }
        for step in runbook.steps where step.isGate {
            let status = GateStatus.evaluate(step: step, state: run, runbook: runbook, governance: entry.governance)
            let comments = run.signatures[step.id] ?? []
            for signature in status.signatures where signature.problem == nil {
                let comment = comments.first { $0.signer == signature.signer && $0.time == signature.time }?.comment
                item.approvers.append(.init(gate: step.id, by: signature.signer, role: signature.role, at: signature.time, waived: false, text: comment,
                                            key: Self.signingKey(run, .signOff, step: step.id, actor: signature.signer, time: signature.time)))
            }
            if let waiver = status.waiver {
                item.approvers.append(.init(gate: step.id, by: waiver.actor, role: waiver.role, at: waiver.time, waived: true, text: waiver.reason,
                                            key: Self.signingKey(run, .gateWaived, step: step.id, actor: waiver.actor, time: waiver.time)))
            }
        }
    }
}

extension ItemCheck {
    /// The fingerprint of the key that signed the event of `type` on `step` by `actor` at `time`, if it is signed.
    static func signingKey(_ run: RunState, _ type: EventType, step: String, actor: String, time: String) -> String? {
        run.signedEvents.first { $0.type == type && $0.step == step && $0.actor == actor && $0.time == time }
            .flatMap { $0.signature.flatMap(SSHSignature.signer(of:))?.fingerprint }
    }
}
