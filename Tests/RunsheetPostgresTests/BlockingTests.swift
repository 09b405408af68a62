import Foundation
@testable import RunsheetPostgres
import Testing

/// Waiting for async work from synchronous code, as every store command does.
@Suite struct BlockingTests {
    @Test func resultsAndErrorsComeBack() throws {
        #expect(try Blocking.wait { try await Task.sleep(for: .milliseconds(5)); return 42 } == 42)
        #expect(throws: StoreError.schemaMissing("s")) { try Blocking.wait { () async throws -> Int in throw StoreError.schemaMissing("s") } }
    }

    /// Callers that are themselves on the cooperative pool, more of them than it has threads:
    /// waiting must not hold a thread the work needs (with the work on the pool this hangs).
    @Test(.timeLimit(.minutes(1))) func waitingOnThePoolDoesNotStarveTheWork() async throws {
        let callers = ProcessInfo.processInfo.activeProcessorCount * 2 + 2
        let sum = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<callers {
                group.addTask {
                    try Blocking.wait {
                        try await Task.sleep(for: .milliseconds(20))
                        await Task.yield()
                        return index
                    }
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(sum == (0..<callers).reduce(0, +))
    }
}
