import Foundation
import RunsheetCLI
import Synchronization

/// A terminal for tests: the operator's keys (or a script's lines) are given up front, what the
/// walk-through writes is kept, and the screens it draws are read back as frames.
public final class ScriptedTerminal: Terminal {
    /// One thing the operator does, in order.
    public enum Input: Sendable {
        case key(Key)
        /// Characters typed one key at a time, then Enter.
        case text(String)
        /// One line of a script of actions (a terminal without a screen reads lines).
        case line(String)
        /// No key for a while: one `readKey` times out, so the walk-through looks at the journal again.
        case idle
        /// Something that happens before the next input is read: another person signs, Ctrl-C.
        case act(@Sendable () -> Void)
    }

    private struct State {
        var inputs: [Input]
        var output = ""
        var errors = ""
        var raw = false
        var interruptHandler: (@Sendable () -> Void)?
    }

    public let keyboard: Bool
    public let screen: Bool
    public let colour: Bool
    public let width: Int
    public let height: Int
    private let state: Mutex<State>

    /// A full-screen terminal `width` columns wide and `height` lines tall that presses `inputs`.
    /// Tall enough by default that no list or help pages; tests of paging and scrolling say how tall.
    public init(width: Int = 80, height: Int = 60, colour: Bool = false, _ inputs: [Input]) {
        keyboard = true
        screen = true
        self.colour = colour
        self.width = width
        self.height = height
        state = Mutex(State(inputs: inputs))
    }

    /// Standard input and output as pipes: a script of actions, one per line.
    public init(script lines: [String]) {
        keyboard = false
        screen = false
        colour = false
        width = 80
        height = 24
        state = Mutex(State(inputs: lines.map(Input.line)))
    }

    /// Everything written to the screen (standard output).
    public var output: String { state.withLock { $0.output } }

    /// Everything written to standard error.
    public var errors: String { state.withLock { $0.errors } }

    /// Whether the terminal was left in raw mode.
    public var isRaw: Bool { state.withLock { $0.raw } }

    /// Inputs not read yet.
    public var unread: Int { state.withLock { $0.inputs.count } }

    /// The screens drawn, each from one clear-screen to the next (with the prompts and echo written
    /// on it), with `\r\n` as `\n`; output before the first clear is left out.
    public var frames: [String] {
        let parts = output.components(separatedBy: "\u{1B}[H\u{1B}[2J")
        return parts.dropFirst().map { $0.replacingOccurrences(of: "\r\n", with: "\n") }
    }

    /// The last screen drawn.
    public var lastFrame: String { frames.last ?? "" }

    /// Ctrl-C as a signal (outside raw mode: while a command runs, or on a script's terminal).
    public func interrupt() {
        state.withLock { $0.interruptHandler }?()
    }

    public func write(_ text: String) { state.withLock { $0.output += text } }

    public func writeError(_ text: String) { state.withLock { $0.errors += text } }

    public func enterRawMode() { state.withLock { $0.raw = true } }

    public func restore() { state.withLock { $0.raw = false } }

    public func onInterrupt(_ handler: @escaping @Sendable () -> Void) {
        state.withLock { $0.interruptHandler = handler }
    }

    public func readKey(timeout: Double) throws -> Key? {
        while let input = next() {
            switch input {
            case .key(let key): return key
            case .idle: return nil
            case .act(let action): action()
            case .text(let text), .line(let text):
                let keys = text.map { Input.key(.character($0)) } + [.key(.enter)]
                state.withLock { $0.inputs.insert(contentsOf: keys, at: 0) }
            }
        }
        throw EndOfInput()
    }

    public func readScriptLine() -> String? {
        while let input = next() {
            switch input {
            case .line(let line), .text(let line): return line
            case .act(let action): action()
            case .key, .idle: continue
            }
        }
        return nil
    }

    private func next() -> Input? {
        state.withLock { $0.inputs.isEmpty ? nil : $0.inputs.removeFirst() }
    }
}

extension ScriptedTerminal.Input {
    /// A single character key.
    public static func press(_ character: Character) -> Self { .key(.character(character)) }
}
