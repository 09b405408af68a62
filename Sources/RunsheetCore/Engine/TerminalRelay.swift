import Foundation

/// Between the operator's terminal and the pseudo-terminal of a command flagged `interactive`:
/// keys typed pass to the command as they are (the walk-through has put the terminal in raw
/// mode, so Ctrl-C is a key the command's terminal turns into SIGINT for it), and the terminal's
/// size follows the operator's window. The command's output comes back through the runner's
/// output loop, masked and kept in the output file like any other.
struct TerminalRelay {
    let terminal: Int32
    let master: Int32
    /// False once the operator's terminal reached end of input or failed: no more keys to pass.
    private(set) var open = true
    private var columns: UInt16 = 0
    private var rows: UInt16 = 0

    init(terminal: Int32, master: Int32) {
        self.terminal = terminal
        self.master = master
    }

    /// Passes the keys waiting on the operator's terminal to the command.
    mutating func forwardKeys() {
        var buffer = [UInt8](repeating: 0, count: 1024)
        let count = buffer.withUnsafeMutableBytes { LibC.read(terminal, $0.baseAddress, $0.count) }
        guard count > 0 else {
            if count == 0 || (errno != EINTR && errno != EAGAIN) { open = false }
            return
        }
        var offset = 0
        while offset < count {
            let written = buffer.withUnsafeBytes { LibC.write(master, $0.baseAddress! + offset, count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                return  // The command's terminal is gone; its end shows in the output loop.
            }
            offset += written
        }
    }

    /// Gives the command's terminal the operator's window size when it changed (the kernel then
    /// sends SIGWINCH to the command); called every pass of the output loop, at most 50 ms apart.
    mutating func forwardSize() {
        var size = winsize()
        guard ioctl(terminal, UInt(TIOCGWINSZ), &size) == 0, size.ws_col != columns || size.ws_row != rows else { return }
        columns = size.ws_col
        rows = size.ws_row
        _ = ioctl(master, UInt(TIOCSWINSZ), &size)
    }

    /// The operator's window size on the command's terminal before it starts.
    static func copySize(from terminal: Int32, to master: Int32) {
        var size = winsize()
        if ioctl(terminal, UInt(TIOCGWINSZ), &size) == 0 { _ = ioctl(master, UInt(TIOCSWINSZ), &size) }
    }
}
