import Dispatch
import Foundation
import Synchronization

/// The process's own standard input and output: a real terminal (raw mode while keys are read,
/// restored on exit), or pipes carrying a script of actions.
final class StandardTerminal: Terminal {
    private struct State {
        /// The settings raw mode replaced; set while in raw mode.
        var original: termios?
        var interrupts: DispatchSourceSignal?
        /// The folder `watchForChanges` watches.
        var watch: ChangeWatch?
        var resizeSignal: DispatchSourceSignal?
    }

    private let state = Mutex(State())
    /// A pipe SIGWINCH writes a byte to, so a key wait wakes when the window is resized.
    private let resizes: (read: Int32, write: Int32)

    init() {
        var ends: [Int32] = [-1, -1]
        if pipe(&ends) == 0 {
            for end in ends {
                _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
                _ = fcntl(end, F_SETFD, FD_CLOEXEC)
            }
        } else {
            ends = [-1, -1]
        }
        resizes = (ends[0], ends[1])
        let write = ends[1]
        state.withLock { state in
            let source = DispatchSource.makeSignalSource(signal: SIGWINCH, queue: .global())
            source.setEventHandler {
                var byte: UInt8 = 1
                _ = Foundation.write(write, &byte, 1)
            }
            source.resume()
            state.resizeSignal = source
        }
    }

    deinit {
        restore()
        state.withLock { $0.resizeSignal?.cancel() }
        close(resizes.read)
        close(resizes.write)
    }

    func watchForChanges(in folder: String) {
        state.withLock { $0.watch = ChangeWatch(folder: folder) }
    }

    func discardChanges() {
        state.withLock { $0.watch }?.drain()
    }

    var keyboard: Bool { isatty(0) != 0 }

    var screen: Bool { isatty(0) != 0 && isatty(1) != 0 && ProcessInfo.processInfo.environment["TERM"] != "dumb" }

    var colour: Bool { Output.colorEnabled(fd: 1) }

    var width: Int {
        var size = winsize()
        if ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return 80
    }

    var height: Int {
        var size = winsize()
        if ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_row > 0 { return Int(size.ws_row) }
        return 24
    }

    func write(_ text: String) {
        _ = try? FileHandle.standardOutput.write(contentsOf: Data(text.utf8))
    }

    func writeError(_ text: String) {
        _ = try? FileHandle.standardError.write(contentsOf: Data(text.utf8))
    }

    func enterRawMode() {
        state.withLock { state in
            var original = state.original ?? termios()
            if state.original == nil { tcgetattr(0, &original) }
            var settings = original
            settings.c_lflag &= ~tcflag_t(ECHO | ICANON | ISIG | IEXTEN)
            settings.c_iflag &= ~tcflag_t(IXON | ICRNL)
            tcsetattr(0, TCSAFLUSH, &settings)
            state.original = original
        }
    }

    func enterCommandMode() {
        state.withLock { state in
            var original = state.original ?? termios()
            if state.original == nil { tcgetattr(0, &original) }
            var settings = original
            // No echo and no line editing: typed keys wait unseen and are discarded (TCSAFLUSH) when
            // the mode ends, so none acts on the next screen. ISIG stays: Ctrl-C is a signal.
            settings.c_lflag &= ~tcflag_t(ECHO | ICANON | IEXTEN)
            settings.c_lflag |= tcflag_t(ISIG)
            tcsetattr(0, TCSAFLUSH, &settings)
            state.original = original
        }
    }

    var commandTerminal: Int32? { screen ? 0 : nil }

    var showsRunningStatus: Bool { screen }

    func restore() {
        state.withLock { state in
            if var original = state.original { tcsetattr(0, TCSAFLUSH, &original) }
            state.original = nil
        }
    }

    func onInterrupt(_ handler: @escaping @Sendable () -> Void) {
        signal(SIGINT, SIG_IGN)
        state.withLock { state in
            state.interrupts?.cancel()
            let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
            source.setEventHandler(handler: handler)
            source.resume()
            state.interrupts = source
        }
    }

    func readScriptLine() -> String? {
        Swift.readLine(strippingNewline: true)
    }

    func readKey(timeout: Double) throws -> Key? {
        guard let byte = try readByte(timeout: timeout, wakeable: true) else { return nil }
        switch byte {
        case 3: return .interrupt
        case 4: throw EndOfInput()
        case 9: return .tab
        case 13, 10: return .enter
        case 27:
            // An arrow key is ESC [ A (or ESC O A), a page key ESC [ 5 ~: read up to the sequence's
            // final byte and no further, so keys pressed in a row (PgDn held down) each count.
            // Any other sequence is swallowed so it is not read as letters; a lone Escape is Escape.
            guard let first = try readByte(timeout: 0.02) else { return .escape }
            guard first == 0x5B || first == 0x4F else { return .escape }
            var sequence = [first]
            while sequence.count < 16, let next = try readByte(timeout: 0.02) {
                sequence.append(next)
                if (0x40...0x7E).contains(next) { break }
            }
            switch sequence {
            case [0x5B, 0x41], [0x4F, 0x41]: return .up
            case [0x5B, 0x42], [0x4F, 0x42]: return .down
            case [0x5B, 0x35, 0x7E]: return .pageUp
            case [0x5B, 0x36, 0x7E]: return .pageDown
            default: return .escape
            }
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

    /// The next byte of input within `timeout` seconds; nil on timeout, and, when `wakeable`, as
    /// soon as the window is resized or the watched folder changes.
    private func readByte(timeout: Double, wakeable: Bool = false) throws -> UInt8? {
        var descriptors = [pollfd(fd: 0, events: Int16(POLLIN), revents: 0)]
        let watch = wakeable ? state.withLock { $0.watch } : nil
        if wakeable, resizes.read >= 0 { descriptors.append(pollfd(fd: resizes.read, events: Int16(POLLIN), revents: 0)) }
        if let watch { descriptors.append(pollfd(fd: watch.descriptor, events: Int16(POLLIN), revents: 0)) }
        let ready = poll(&descriptors, nfds_t(descriptors.count), Int32(timeout * 1000))
        if ready <= 0 { return nil }
        if descriptors[0].revents == 0 {
            if resizes.read >= 0 { ChangeWatch.drain(resizes.read) }
            watch?.drain()
            return nil
        }
        var byte: UInt8 = 0
        let n = LibC.read(0, &byte, 1)
        if n <= 0 { throw EndOfInput() }
        return byte
    }
}
