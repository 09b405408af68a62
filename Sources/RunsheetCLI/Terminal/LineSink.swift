import Synchronization

/// Streams command output to the terminal line by line with a gutter.
final class LineSink: Sendable {
    private let terminal: any Terminal
    private let pending = Mutex("")

    init(_ terminal: any Terminal) { self.terminal = terminal }

    func write(_ chunk: String) {
        pending.withLock { pending in
            pending += chunk
            while let newline = pending.firstIndex(of: "\n") {
                terminal.write("  │ " + pending[..<newline] + "\n")
                pending = String(pending[pending.index(after: newline)...])
            }
        }
    }

    func flush() {
        pending.withLock { pending in
            if !pending.isEmpty { terminal.write("  │ " + pending + "\n") }
            pending = ""
        }
    }
}
