import Foundation

/// Wakes a waiting walk-through when a run's folder changes: `sign`, `reject`, `waive` and the
/// exception commands append to the journal from other processes, and the waiting screen should
/// move on within a moment, not at its next poll. inotify on the folder (not the file: a journal
/// put in place by rename is a change too); nil where the kernel offers none, and the callers poll.
final class ChangeWatch: @unchecked Sendable {
    /// Readable when something changed; `drain()` empties it.
    let descriptor: Int32

    init?(folder: String) {
        let fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { return nil }
        let mask = UInt32(IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE)
        guard inotify_add_watch(fd, folder, mask) >= 0 else {
            close(fd)
            return nil
        }
        descriptor = fd
    }

    deinit { close(descriptor) }

    /// Reads away the events waiting, so the next wait blocks until there is a new one.
    func drain() { Self.drain(descriptor) }

    /// Reads a non-blocking descriptor empty (inotify's, a wake-up pipe's).
    static func drain(_ descriptor: Int32) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        while buffer.withUnsafeMutableBytes({ LibC.read(descriptor, $0.baseAddress, $0.count) }) > 0 {}
    }

    /// Waits up to `seconds` for a change; true when one came.
    func wait(seconds: Double) -> Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let ready = poll(&entry, 1, Int32(max(0, seconds) * 1000))
        if ready > 0 { drain() }
        return ready > 0
    }
}
