import Foundation
import PostgresNIO
import Synchronization

/// The confirmation that a connection's own append committed.
///
/// An autocommit statement commits when the server takes the Sync that ends it, after the
/// statement's CommandComplete is written; postgres-nio ends the statement's rows at that
/// CommandComplete. A commit that fails (a full NOTIFY queue, a serialization failure) would
/// then look like a success. So each append also notifies a channel only this connection
/// listens on, with the event's hash: the server sends that notification only once the
/// transaction has committed (and its WAL is flushed), before it is ready for the next
/// statement, in the same packet. A commit that fails sends none, and postgres-nio closes the
/// connection on the unexpected error, which ends the wait as unconfirmed.
public final class AppendConfirmations: Sendable {
    /// The connection's own channel: `runsheet_ack_` and 16 random hex digits.
    public let channel = "runsheet_ack_" + (0..<8).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()

    private struct State {
        var started = false
        var ended = false
        var heard: Set<String> = []
        var waiting: [String: CheckedContinuation<Void, any Error>] = [:]
        var listener: Task<Void, Never>?
        var executor: DedicatedThreadExecutor?
    }
    private let state = Mutex(State())

    /// The connection ended, or stopped listening, before the commit was confirmed.
    struct Unconfirmed: Error {}

    /// Listens on the channel, the first time only (one round trip a connection).
    func start(_ store: StoreConnection) async throws {
        guard state.withLock({ state in
            defer { state.started = true }
            return !state.started
        }) else { return }
        store.countStatement()
        let ready = AsyncStream<(any Error)?>.makeStream()
        let channel = channel
        // On a thread of its own: the notification must be heard even when every thread of the
        // shared pool is blocked (a test process, or a command waiting on it).
        let executor = DedicatedThreadExecutor()
        let listener = Task.detached(executorPreference: executor) {
            do {
                try await store.connection.listen(on: channel) { notifications in
                    ready.continuation.yield(nil)
                    for try await notification in notifications { self.heard(notification.payload) }
                }
            } catch {
                ready.continuation.yield(error)
            }
            self.end()
        }
        state.withLock { $0.listener = listener; $0.executor = executor }
        for await failure in ready.stream {
            if let failure = failure as? PSQLError { throw RunStore.serverError(failure, store) }
            if let failure { throw failure }
            break
        }
    }

    /// Returns once the notification `payload` has come (the append committed); throws when the
    /// connection ends first.
    func confirm(_ payload: String, store: StoreConnection) async throws {
        do {
            try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<Void, any Error>) in
                let outcome: Result<Void, any Error>? = state.withLock { state in
                    if state.heard.remove(payload) != nil { return .success(()) }
                    if state.ended { return .failure(Unconfirmed()) }
                    state.waiting[payload] = waiter
                    return nil
                }
                if let outcome { waiter.resume(with: outcome) }
            }
        } catch is Unconfirmed {
            throw StoreError.unreachable(store.settings.description, why: "the connection ended before the commit was confirmed")
        }
    }

    private func heard(_ payload: String) {
        let waiter = state.withLock { state in
            if let waiter = state.waiting.removeValue(forKey: payload) { return Optional(waiter) }
            state.heard.insert(payload)
            return nil
        }
        waiter?.resume()
    }

    private func end() {
        let waiters = state.withLock { state in
            state.ended = true
            defer { state.waiting = [:] }
            return Array(state.waiting.values)
        }
        for waiter in waiters { waiter.resume(throwing: Unconfirmed()) }
    }

    /// Stops listening (the connection is closing).
    func stop() {
        let (listener, executor) = state.withLock { ($0.listener, $0.executor) }
        listener?.cancel()
        executor?.finish()
    }
}
