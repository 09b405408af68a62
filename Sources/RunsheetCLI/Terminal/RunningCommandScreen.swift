import Foundation
import RunsheetCore
import Synchronization

extension WalkThrough {
    /// Runs the step's commands on the full screen: output streams under the step, with a status
    /// line kept below it (spinner, clocks, attempt, countdowns, "Ctrl-C stops this command")
    /// and redrawn every 200 ms. Keys typed meanwhile are not echoed and are thrown away when the
    /// command ends. A command flagged `interactive` gets the terminal instead: raw mode, its
    /// output as it writes it, no status line over it.
    func runCommandsOnScreen() throws {
        let step = engine.currentStep
        let runElapsed = engine.state.activeInterval(from: Timestamp.parse(engine.state.startedAt) ?? started, to: Date())
        let board = StatusBoard(terminal: terminal, style: style, runElapsed: runElapsed, live: terminal.showsRunningStatus)
        // Drawn again every 200 ms on a real terminal; a test's terminal gets only what happens.
        let ticker = terminal.showsRunningStatus ? Ticker(every: 0.2) { board.tick() } : nil
        defer {
            ticker?.stop()
            board.finish()
            terminal.restore()
        }
        terminal.enterCommandMode()
        let result = try engine.runCommands(
            runner: runner, terminal: terminal.commandTerminal,
            onAttempt: { index, attempt, command in
                let step = self.engine.currentStep
                let interactive = step?.commands[index - 1].interactive == true
                let input = interactive ? ["has the terminal: answer it there", "Ctrl-C goes to it"] : ["gets no input"]
                let parts = ["┌ command \(index)" + (attempt > 1 ? ", attempt \(attempt)" : "")] + input
                board.line(CommandStatus.wrap(parts, width: self.terminal.width + 2).map(self.style.dim).joined(separator: "\n"))
            },
            onProgress: { progress in
                if progress.interactive, case .running = progress.phase {
                    // The command owns the screen now: raw keys to it, nothing drawn over it.
                    self.terminal.enterRawMode()
                } else if progress.interactive {
                    self.terminal.enterCommandMode()
                }
                board.update(progress)
            },
            onOutput: { chunk in board.output(chunk) })
        board.finish()
        switch result {
        case .passed: board.line("  " + style.green("✓ commands passed"))
        case .failed(let reason):
            board.line("  " + style.red("✗ \(reason.shown)"))
            if let went = failureAftermath(of: step) { writeWrapped(went) }
        case .interrupted: board.line("  " + style.yellow("■ interrupted; the step is still open"))
        }
    }

    /// How a command gets its input, as the step's screen says beside it.
    func inputNote(_ command: Command) -> String {
        command.interactive ? "gets the terminal" : "gets no input"
    }

    /// The gate's countdown in a scripted `wait`, and when to print it again: each whole minute,
    /// then every ten seconds (`step`), not every second as on the screen.
    func scriptedGateCountdown() -> (text: String, step: String)? {
        engine.gateTimeLeft().map { ("times out in \(Countdown.coarse($0))", Countdown.coarse($0, step: 10)) }
    }

    /// The gate's countdown under its rule on the screen: `times out in 12m`; nil without a limit.
    func gateCountdownLine() -> String? {
        engine.gateTimeLeft().map { "times out in \(Countdown.coarse($0)); then it fails" }
    }
}

/// What is on the screen below a running command's output: permanent lines (output, attempts)
/// are written above the status line, which is erased and drawn again after them.
final class StatusBoard: Sendable {
    private struct State {
        var progress: CommandProgress?
        var pending = ""
        /// Columns of each line of the status drawn last; the cursor is at the end of the last.
        var drawn: [Int] = []
        /// The terminal's size when the status was drawn last.
        var drawnSize = (width: 0, height: 0)
        /// The last lines that stay (output, attempts), as written: what a redraw after a resize shows.
        var kept: [String] = []
        var tick = 0
        var finished = false
    }

    private let terminal: any Terminal
    private let style: Style
    private let started: Date
    private let runElapsed: TimeInterval
    /// Whether the status line is drawn at all (a real terminal); permanent lines always are.
    private let live: Bool
    private let now: @Sendable () -> Date
    private let state = Mutex(State())

    init(terminal: any Terminal, style: Style, runElapsed: TimeInterval, live: Bool, now: @escaping @Sendable () -> Date = { Date() }) {
        self.terminal = terminal
        self.style = style
        self.runElapsed = runElapsed
        self.live = live
        self.now = now
        started = now()
    }

    func update(_ progress: CommandProgress) {
        state.withLock { state in
            if let failed = CommandStatus.failedAttemptLine(progress, width: terminal.width) {
                permanent(failed.split(separator: "\n").map { style.red(String($0)) }.joined(separator: "\n"), &state)
            }
            state.progress = progress
            draw(&state)
        }
    }

    /// Output of the command: whole lines under a gutter, or as written for an interactive one.
    func output(_ chunk: String) {
        state.withLock { state in
            if state.progress?.interactive == true {
                terminal.write(chunk)
                return
            }
            state.pending += chunk
            guard state.pending.contains("\n") else { return }
            erase(&state)
            while let newline = state.pending.firstIndex(of: "\n") {
                let line = "  │ " + state.pending[..<newline]
                terminal.write(line + "\n")
                keep([line], &state)
                state.pending = String(state.pending[state.pending.index(after: newline)...])
            }
            draw(&state)
        }
    }

    /// A line that stays: above the status line.
    func line(_ text: String) {
        state.withLock { permanent(text, &$0) }
    }

    func tick() {
        state.withLock { state in
            guard !state.finished else { return }
            state.tick += 1
            draw(&state)
        }
    }

    /// The rest of the output and no status line: the command is over.
    func finish() {
        state.withLock { state in
            guard !state.finished else { return }
            erase(&state)
            if !state.pending.isEmpty {
                terminal.write(state.progress?.interactive == true ? state.pending : "  │ " + state.pending + "\n")
                state.pending = ""
            }
            if state.progress?.interactive == true { terminal.write("\r\n") }
            state.finished = true
        }
    }

    private func permanent(_ text: String, _ state: inout State) {
        erase(&state)
        terminal.write(text + "\n")
        keep(text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init), &state)
        draw(&state)
    }

    /// Remembers lines that stay, the last `keptLines` of them.
    private func keep(_ lines: [String], _ state: inout State) {
        guard live else { return }
        state.kept += lines
        if state.kept.count > Self.keptLines { state.kept.removeFirst(state.kept.count - Self.keptLines) }
    }

    static let keptLines = 500

    /// Erases the status. While the window keeps its size, the status is the rows above the cursor
    /// (each line narrower than the window, so one row each). Once it changed, where the status
    /// is cannot be known: one terminal reflows its lines into more rows (tmux, VTE, iTerm2,
    /// kitty), another cuts them (xterm), and tmux lays out what was written just before a resize
    /// at the new width while the size a program reads is still the old one. Then the screen is
    /// cleared and the last lines that stay are written again, the status drawn under them.
    private func erase(_ state: inout State) {
        guard !state.drawn.isEmpty else { return }
        let size = (width: max(1, terminal.width), height: max(1, terminal.height))
        guard size == state.drawnSize else {
            redraw(size, &state)
            return
        }
        let rows = state.drawn.reduce(0) { $0 + max(1, ($1 + size.width - 1) / size.width) }
        terminal.write("\r\u{1B}[2K" + String(repeating: "\u{1B}[1A\u{1B}[2K", count: rows - 1))
        state.drawn = []
    }

    /// Clears the screen and writes the last lines that stay that fit above a status of at most
    /// three lines, each counted in rows at today's width.
    private func redraw(_ size: (width: Int, height: Int), _ state: inout State) {
        var room = max(1, size.height - 4)
        var shown: [String] = []
        for line in state.kept.reversed() {
            let rows = max(1, (TerminalColumns.width(line) + size.width - 1) / size.width)
            guard rows <= room else { break }
            shown.insert(line, at: 0)
            room -= rows
        }
        terminal.write("\u{1B}[H\u{1B}[2J" + shown.map { $0 + "\n" }.joined())
        state.drawn = []
    }

    private func draw(_ state: inout State) {
        guard live, !state.finished, let progress = state.progress, !progress.interactive else { return }
        if case .ended = progress.phase { return erase(&state) }
        let now = self.now()
        // The size read once: the status is laid out for it, and a later erase compares with it.
        let size = (width: max(1, terminal.width), height: max(1, terminal.height))
        let lines = CommandStatus.lines(progress, now: now, runElapsed: runElapsed + now.timeIntervalSince(started),
                                        tick: state.tick, width: size.width)
        erase(&state)
        terminal.write(lines.map(style.dim).joined(separator: "\n"))
        state.drawn = lines.map(TerminalColumns.width)
        state.drawnSize = size
    }
}

/// Calls `action` every `interval` seconds on a thread of its own until stopped.
final class Ticker: Sendable {
    private let stopped = InterruptFlag()

    init(every interval: TimeInterval, _ action: @escaping @Sendable () -> Void) {
        let stopped = self.stopped
        Thread.detachNewThread {
            while !stopped.isRaised {
                Thread.sleep(forTimeInterval: interval)
                if stopped.isRaised { break }
                action()
            }
        }
    }

    func stop() { stopped.raise() }
}
