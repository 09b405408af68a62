/// A key the operator pressed.
public enum Key: Equatable, Sendable {
    case character(Character)
    case enter
    case escape
    case interrupt
    case backspace
    case tab
    case up
    case down
    case pageUp
    case pageDown
}

/// The keyboard and screen the walk-through talks to: the process's standard streams
/// (`StandardTerminal`), or keys and lines a test scripts.
public protocol Terminal: Sendable {
    /// Whether a person types at a terminal (standard input is one): prompts may ask, and actions
    /// are recorded as made at a terminal rather than by a script.
    var keyboard: Bool { get }
    /// Whether the walk-through may take the whole screen, one step at a time, with single keys.
    var screen: Bool { get }
    /// Whether output may be coloured.
    var colour: Bool { get }
    /// Columns of the screen.
    var width: Int { get }
    /// Lines of the screen: what a list taller than it scrolls within.
    var height: Int { get }
    /// Writes to the screen (standard output).
    func write(_ text: String)
    /// Writes a message that is not part of the screen (standard error).
    func writeError(_ text: String)
    /// Waits up to `timeout` seconds for a key; nil on timeout. Throws `EndOfInput` at end of input.
    func readKey(timeout: Double) throws -> Key?
    /// The next line of a script of actions, without its newline; nil at end of input.
    func readScriptLine() -> String?
    /// Reads keys one at a time, without echo, and Ctrl-C as a key.
    func enterRawMode()
    /// Leaves raw mode, if it was entered.
    func restore()
    /// While a command runs: keys are neither echoed nor gathered into lines (they are thrown
    /// away when the mode ends), and Ctrl-C still reaches `onInterrupt`'s handler.
    func enterCommandMode()
    /// The descriptor a command flagged `interactive` is given as its terminal (keys read from
    /// it, its size followed); nil when there is no real terminal to give.
    var commandTerminal: Int32? { get }
    /// Whether a running command's status line is drawn and redrawn by the clock (a real screen);
    /// a test's terminal is given only the lines that stay.
    var showsRunningStatus: Bool { get }
    /// From now on Ctrl-C calls `handler` (on another thread) instead of ending the process.
    func onInterrupt(_ handler: @escaping @Sendable () -> Void)
    /// From now on `readKey` also returns early (nil, as on a timeout) when `folder` changes or
    /// the window is resized, so the screen follows at once.
    func watchForChanges(in folder: String)
    /// Forgets the changes seen so far in the watched folder (the session's own writes).
    func discardChanges()
}

extension Terminal {
    public func watchForChanges(in folder: String) {}
    public func discardChanges() {}
}

/// The keyboard was closed (Ctrl-D, or the end of scripted keys).
public struct EndOfInput: Error, Equatable {
    public init() {}
}

extension Terminal {
    public func enterCommandMode() {}

    public var commandTerminal: Int32? { nil }

    public var showsRunningStatus: Bool { false }

    /// Reads a line with echo (for reasons, notes, ids); nil when cancelled with Escape or Ctrl-C.
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
            case .tab, .up, .down, .pageUp, .pageDown:
                continue
            }
        }
    }

    /// Asks for one line in raw mode (a parameter's value, a skeleton's field); nil without a
    /// person at the keyboard, or when cancelled.
    func ask(_ prompt: String, secret: Bool = false) -> String? {
        guard keyboard else { return nil }
        enterRawMode()
        defer { restore() }
        return (try? readLine(prompt: prompt, secret: secret)) ?? nil
    }
}
