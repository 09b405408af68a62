import Foundation

/// A key the operator pressed.
enum Key: Equatable {
    case character(Character)
    case enter
    case escape
    case interrupt
    case backspace
}

/// The terminal the walk-through talks to; tests script it.
protocol Terminal: AnyObject {
    var width: Int { get }
    /// Waits up to `timeout` seconds for a key; nil on timeout. Throws at end of input.
    func readKey(timeout: Double) throws -> Key?
    func write(_ text: String)
    /// Reads a line with echo (for reasons, notes, ids); nil when cancelled with Escape or Ctrl-C.
    func readLine(prompt: String, secret: Bool) throws -> String?
}

struct EndOfInput: Error {}

/// The real terminal: raw mode on stdin while the walk-through runs, restored on exit.
final class TTY: Terminal {
    private var original = termios()
    private var raw = false

    init() {
        tcgetattr(0, &original)
    }

    func enterRawMode() {
        var settings = original
        settings.c_lflag &= ~tcflag_t(ECHO | ICANON | ISIG | IEXTEN)
        settings.c_iflag &= ~tcflag_t(IXON | ICRNL)
        tcsetattr(0, TCSAFLUSH, &settings)
        raw = true
    }

    func restore() {
        if raw { tcsetattr(0, TCSAFLUSH, &original) }
        raw = false
    }

    deinit { restore() }

    var width: Int {
        var size = winsize()
        if ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return 80
    }

    func write(_ text: String) {
        FileHandle.standardOutput.write(Data(text.utf8))
    }

    func readByte(timeout: Double) throws -> UInt8? {
        var descriptor = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
        let ready = poll(&descriptor, 1, Int32(timeout * 1000))
        if ready <= 0 { return nil }
        var byte: UInt8 = 0
        let n = LibC.read(0, &byte, 1)
        if n <= 0 { throw EndOfInput() }
        return byte
    }

    func readKey(timeout: Double) throws -> Key? {
        guard let byte = try readByte(timeout: timeout) else { return nil }
        switch byte {
        case 3: return .interrupt
        case 4: throw EndOfInput()
        case 13, 10: return .enter
        case 27:
            // Swallow the rest of an escape sequence (arrow keys) so it is not read as letters.
            while let _ = try readByte(timeout: 0.02) {}
            return .escape
        case 127, 8: return .backspace
        default:
            var bytes = [byte]
            if byte >= 0xC0 {
                let count = byte >= 0xF0 ? 3 : byte >= 0xE0 ? 2 : 1
                for _ in 0..<count { if let b = try readByte(timeout: 0.05) { bytes.append(b) } }
            }
            return String(decoding: bytes, as: UTF8.self).first.map(Key.character)
        }
    }

    func readLine(prompt: String, secret: Bool) throws -> String? {
        write(prompt)
        var text = ""
        while true {
            guard let key = try readKey(timeout: 3600) else { continue }
            switch key {
            case .enter:
                write("\r\n")
                return text
            case .escape, .interrupt:
                write("\r\n")
                return nil
            case .backspace:
                if !text.isEmpty {
                    text.removeLast()
                    if !secret { write("\u{8} \u{8}") }
                }
            case .character(let c):
                text.append(c)
                write(secret ? "" : String(c))
            }
        }
    }
}
