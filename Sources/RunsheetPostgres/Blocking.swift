import Dispatch
import Synchronization

/// Runs async postgres-nio work from the synchronous command line and waits for its result.
///
/// The work runs in a detached task on the cooperative pool while the calling thread waits on a
/// semaphore, so the caller must not itself be a task of that pool (a command's `run()` on the
/// main thread is not). The result crosses threads behind a `Mutex`.
public enum Blocking {
    public static func wait<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
        let outcome = Outcome<T>()
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            let result: Result<T, any Error>
            do { result = .success(try await work()) } catch { result = .failure(error) }
            outcome.result.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return try outcome.result.withLock { $0! }.get()
    }

    private final class Outcome<T: Sendable>: Sendable {
        let result = Mutex<Result<T, any Error>?>(nil)
    }
}
