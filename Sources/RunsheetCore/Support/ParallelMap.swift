import Foundation
import Synchronization

extension Array where Element: Sendable {
    /// `map` on all cores: `transform` runs for each element on several threads at once, and the
    /// results come back in the order of the elements, so output is the same as a plain `map`'s.
    public func parallelMap<T: Sendable>(_ transform: @Sendable (Element) -> T) -> [T] {
        let slots = Mutex([T?](repeating: nil, count: count))
        DispatchQueue.concurrentPerform(iterations: count) { index in
            let value = transform(self[index])
            slots.withLock { $0[index] = value }
        }
        return slots.withLock { $0.compactMap { $0 } }
    }
}
