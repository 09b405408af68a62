import Foundation
import Synchronization

/// Runs async postgres-nio work from the synchronous command line and waits for its result.
///
/// The work runs as a task whose executor is a thread of its own (`DedicatedThreadExecutor`), not
/// the shared cooperative pool, while the caller waits on a semaphore: so waiting never takes a
/// pool thread the work needs, even when the caller is itself running on that pool (a test, or a
/// command called from async code), where a pool of two threads on two cores would deadlock.
/// The result crosses threads behind a `Mutex`.
public enum Blocking {
    public static func wait<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
        try wait(seconds: nil, work)!
    }

    /// The same, giving up after `seconds`: nil then, the work left to finish or fail on its own
    /// (a server that stopped answering without closing the connection).
    public static func wait<T: Sendable>(seconds: Double?, _ work: @escaping @Sendable () async throws -> T) throws -> T? {
        let outcome = Outcome<T>()
        let done = DispatchSemaphore(value: 0)
        let executor = DedicatedThreadExecutor()
        Task.detached(executorPreference: executor) {
            let result: Result<T, any Error>
            do { result = .success(try await work()) } catch { result = .failure(error) }
            outcome.result.withLock { $0 = result }
            done.signal()
        }
        if let seconds {
            guard done.wait(timeout: .now() + seconds) == .success else {
                executor.finish()
                return nil
            }
        } else {
            done.wait()
        }
        executor.finish()
        return try outcome.result.withLock { $0! }.get()
    }

    private final class Outcome<T: Sendable>: Sendable {
        let result = Mutex<Result<T, any Error>?>(nil)
    }
}

/// A task executor that runs every job on one thread it starts, until `finish()` and its queue is empty.
final class DedicatedThreadExecutor: TaskExecutor, Sendable {
    private struct Queue: ~Copyable {
        var jobs: [UnownedJob] = []
        var finished = false
    }

    private let queue = Mutex(Queue())
    private let ready = DispatchSemaphore(value: 0)

    init() {
        let thread = Thread { [self] in run() }
        thread.name = "runsheet-store"
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.withLock { $0.jobs.append(job) }
        ready.signal()
    }

    /// Lets the thread end once the jobs queued so far have run.
    func finish() {
        queue.withLock { $0.finished = true }
        ready.signal()
    }

    private func run() {
        while true {
            ready.wait()
            while let job = queue.withLock({ $0.jobs.isEmpty ? nil : $0.jobs.removeFirst() }) {
                job.runSynchronously(on: asUnownedTaskExecutor())
            }
            if queue.withLock({ $0.finished && $0.jobs.isEmpty }) { return }
        }
    }
}
