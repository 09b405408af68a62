import Foundation
import Synchronization

/// Sends a session's notifications off the operator's thread and keeps what failed until the
/// session records it (docs/FORMAT.md, "Notifications").
///
/// The journal has one writer, the session: a delivery runs on a thread of its own and only
/// queues its result here; the engine appends `notify.failed` for each failure at its next event,
/// while the walk-through waits (at a gate, for an exception), and at the end of the session,
/// which waits for deliveries still in flight at most until the latest of their bounds.
public final class RunNotifier: Sendable {
    public let targets: [NotifyTarget]
    /// Where commands run: the repository root (the folder holding `.runsheet/`).
    let directory: String
    let environment: [String: String]

    private struct Flight: Sendable {
        var inFlight = 0
        /// When the last delivery started so far must have ended.
        var deadline = Date.distantPast
        /// Failures not yet recorded in the journal.
        var failed: [(NotifyFailed, step: String?)] = []
        /// Deliveries not finished yet, each as the failure it would be, with its attempts so far.
        var pending: [UUID: (NotifyFailed, step: String?)] = [:]
        /// Failures recorded (or not recordable) and not yet shown to the operator.
        var unshown: [String] = []
        /// The gate this session already said is waiting, and the step it said the calendar blocks.
        var waitingAt: String?
        var blockedAt: String?
    }

    private let flight = Mutex(Flight())

    public init(targets: [NotifyTarget], directory: String, environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.targets = targets
        self.directory = directory
        self.environment = environment
    }

    /// Sends `notification` to every target that asked for its kind, each on a thread of its own.
    func send(_ notification: Notification, step: String?) {
        let chosen = targets.filter { $0.events.contains(notification.kind) }
        guard !chosen.isEmpty else { return }
        let body: Data
        do {
            body = try notification.body()
        } catch {
            return
        }
        for target in chosen {
            let id = UUID()
            let unfinished = NotifyFailed(target: target.name, kind: notification.kind.rawValue, attempts: 0,
                                          reason: "no result within its bound of \(DurationText.format(Int(target.bound.rounded(.up)))) when the session ended", seq: notification.seq)
            flight.withLock {
                $0.inFlight += 1
                $0.deadline = max($0.deadline, Date().addingTimeInterval(target.bound))
                $0.pending[id] = (unfinished, step)
            }
            let directory = self.directory, environment = self.environment
            Thread.detachNewThread { [self] in
                let outcome = NotificationDelivery.deliver(notification, body: body, to: target, directory: directory, environment: environment) { attempt in
                    flight.withLock { $0.pending[id]?.0.attempts = attempt }
                }
                flight.withLock {
                    $0.inFlight -= 1
                    $0.pending[id] = nil
                    if let failure = outcome.failure {
                        $0.failed.append((NotifyFailed(target: target.name, kind: notification.kind.rawValue, attempts: outcome.attempts,
                                                       reason: failure, seq: notification.seq), step))
                    }
                }
            }
        }
    }

    /// Waits until no delivery is in flight, or until the latest bound of those that are has passed.
    public func waitForDeliveries() {
        while true {
            let (busy, deadline) = flight.withLock { ($0.inFlight > 0, $0.deadline) }
            guard busy, Date() < deadline.addingTimeInterval(0.2) else { return }
            Thread.sleep(forTimeInterval: 0.02)
        }
    }

    /// The failures not yet recorded, taken out of the queue; with `unfinished`, also each
    /// delivery still in flight (past its bound: the session ends, and its result would be lost).
    func takeFailures(unfinished: Bool = false) -> [(NotifyFailed, step: String?)] {
        flight.withLock { flight in
            defer {
                flight.failed = []
                if unfinished { flight.pending = [:] }
            }
            return flight.failed + (unfinished ? flight.pending.values.sorted { ($0.0.seq ?? 0, $0.0.target) < ($1.0.seq ?? 0, $1.0.target) } : [])
        }
    }

    func unshown(_ line: String) { flight.withLock { $0.unshown.append(line) } }

    /// Lines about failed notifications the operator has not seen yet, taken out of the queue.
    public func takeUnshown() -> [String] {
        flight.withLock { flight in
            defer { flight.unshown = [] }
            return flight.unshown
        }
    }

    /// Whether the session should say the gate `step` waits (or the calendar blocks it): once
    /// each time the run arrives there. `nil` resets.
    func firstWaiting(at step: String?) -> Bool {
        flight.withLock { flight in
            defer { flight.waitingAt = step }
            return step != nil && flight.waitingAt != step
        }
    }

    func firstBlocked(at step: String?) -> Bool {
        flight.withLock { flight in
            defer { flight.blockedAt = step }
            return step != nil && flight.blockedAt != step
        }
    }
}
