import Foundation
import RunsheetCore

extension RunSupport {
    /// Where a run of `runbook` sends its notifications: the targets of the repository's
    /// `.runsheet/config.yaml`, or nil when it declares none. A config file with an error stops
    /// the command, as a roles or policy file does (exit 2, one sentence at path:line:col).
    static func notifier(for runbook: Runbook) throws -> RunNotifier? {
        guard let (config, problems) = RepositoryConfig.load(forRunbook: runbook.path) else { return nil }
        try refuseUnreadableRules(problems, runbook: runbook.path)
        guard !config.notify.isEmpty else { return nil }
        // Commands run from the repository root: the folder that holds `.runsheet/`.
        let root = ((config.path as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent
        return RunNotifier(targets: config.notify, directory: root.isEmpty ? "." : root)
    }

    /// Ends the session's notifications: waits for deliveries in flight (at most their bound),
    /// records their failures and shows every failure not shown yet.
    static func finishNotifications(of walk: WalkThrough) {
        walk.engine.finishNotifications()
        walk.showNotificationFailures()
    }
}

extension WalkThrough {
    /// Records the notifications that failed since the last look (`notify.failed`) and shows them.
    func showNotificationFailures() {
        for line in notificationFailureLines() { write("  " + style.yellow("⚠ " + line) + "\n") }
    }

    /// The same, as lines for the full-screen walk-through's message.
    func notificationFailureLines() -> [String] {
        guard let notifier = engine.notifier else { return [] }
        engine.recordNotificationFailures()
        return notifier.takeUnshown()
    }
}
