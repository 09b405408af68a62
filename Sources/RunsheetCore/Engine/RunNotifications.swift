import Foundation

extension RunEngine {
    /// The notifications an event just written calls for, sent through `notifier`: a step
    /// failed, a rollback started, the run ended; and, from the run as it now stands, a gate that
    /// waits for sign-offs or a production step the calendar blocks (once each arrival).
    func notify(after written: RunEvent) {
        guard let notifier, !notifier.targets.isEmpty else { return }
        switch try? written.payload() {
        case .stepFailed(let failed)?:
            send(.stepFailed, about: written, step: written.step, reason: failed.reason)
        case .branchTaken(let taken)? where taken.kind == "failure":
            send(.rollbackStarted, about: written, step: taken.to ?? written.step, reason: "step '\(taken.from)' failed")
        case .runEnded(let ended)?:
            send(.runEnded, about: written, step: nil, reason: ended.reason, outcome: ended.outcome.rawValue)
        default:
            break
        }
        let step = state.finished ? nil : currentStep
        let conflict = step == nil ? nil : calendarConflict()
        if notifier.firstBlocked(at: conflict == nil ? nil : step?.id), let step {
            send(.calendarBlocked, about: written, step: step.id, reason: conflict)
        }
        let waiting = step.flatMap { step -> GateStatus? in
            guard applies(step), let status = currentGate, !status.satisfied else { return nil }
            return status
        }
        if notifier.firstWaiting(at: waiting == nil ? nil : step?.id), let step, let waiting {
            send(.gateWaiting, about: written, step: step.id, reason: "needs " + waiting.missing.joined(separator: " and "))
        }
    }

    private func send(_ kind: NotificationKind, about event: RunEvent, step: String?, reason: String?, outcome: String? = nil) {
        let title = step.flatMap { id in stepIndex[id].map { displayText(runbook.steps[$0].title) } }
        let notification = Notification(
            id: "\(state.runID)/\(event.seq)/\(kind.rawValue)", kind: kind, run: state.runID, runbook: state.runbookPath, title: state.title,
            releaseClass: state.releaseClass.rawValue, service: state.service, environment: state.environment, step: step, stepTitle: title,
            actor: actor.name, time: Timestamp.now(), outcome: outcome, reason: reason, seq: event.seq, hash: event.hash)
        notifier?.send(notification.masked(secretValues), step: step)
    }

    /// Appends a `notify.failed` for each delivery that failed since the last call, through the
    /// session's writer, and queues a line for the screen (`RunNotifier.takeUnshown`). A journal
    /// older than format 1.5 cannot hold the event: the failure is only shown, and says so.
    public func recordNotificationFailures(unfinished: Bool = false) {
        guard let notifier else { return }
        let recordable = state.format >= JournalFormat(major: 1, minor: 5)
        for (taken, step) in notifier.takeFailures(unfinished: unfinished) {
            var failed = taken
            // A command's error output may say anything: no secret value reaches the journal or the screen.
            failed.reason = ShellQuoting.mask(failed.reason, secrets: secretValues)
            let line = "notification \(failed.kind) to \(failed.target) failed after \(failed.attempts) attempt\(failed.attempts == 1 ? "" : "s"): \(failed.reason)"
            guard recordable else {
                notifier.unshown(line.shown + " (this run's journal is \(state.format), which cannot record it)")
                continue
            }
            do {
                _ = try journal.append(try RunEvent(by: actor, step: step, .notifyFailed(failed)), onto: &state) { _ in }
                notifier.unshown(line.shown)
            } catch {
                notifier.unshown(line.shown + " (not recorded: \((error as? LocalizedError)?.errorDescription ?? "\(error)"))")
            }
        }
    }

    /// At the end of a session: waits for deliveries still in flight (at most until the latest of
    /// their bounds) and records their failures, and a failure for each still unfinished then.
    public func finishNotifications() {
        guard let notifier else { return }
        notifier.waitForDeliveries()
        recordNotificationFailures(unfinished: true)
    }
}
