import Foundation
import RunsheetCore
@testable import RunsheetCLI
import RunsheetTestSupport
import Synchronization
import Testing

/// Issue 15, items 2 and 3, in process: the status line under a running command (spinner,
/// clocks, attempts, countdowns, "Ctrl-C stops this command"), the lines it leaves between
/// attempts, and what the step's screen says about a command's input, at 100, 60 and 40 columns
/// with a clock the test sets. RunningCommandTerminalTests drives the same through tmux.
@Suite struct RunningCommandScreenTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    /// What a terminal shows after `output`, for the board's writes: line feeds, a carriage
    /// return, "erase line" and "cursor up".
    static func visible(_ output: String) -> String {
        var lines = [""]
        var text = Substring(output)
        while let first = text.first {
            if text.hasPrefix("\u{1B}[2K") {
                lines[lines.count - 1] = ""
                text = text.dropFirst(4)
            } else if text.hasPrefix("\u{1B}[1A") {
                lines.removeLast()
                if lines.isEmpty { lines = [""] }
                text = text.dropFirst(4)
            } else if first == "\r" {
                text = text.dropFirst()
            } else if first == "\n" {
                lines.append("")
                text = text.dropFirst()
            } else {
                lines[lines.count - 1].append(first)
                text = text.dropFirst()
            }
        }
        return lines.joined(separator: "\n")
    }

    static func progress(_ phase: CommandProgress.Phase, attempt: Int = 1, attempts: Int? = nil, poll: TimeInterval? = nil,
                         limit: Int? = nil, earlier: [String] = [], since: TimeInterval = 0) -> CommandProgress {
        CommandProgress(command: 1, commands: 1, attempt: attempt, attempts: attempts, pollEndsAt: poll.map { start.addingTimeInterval($0) },
                        limitSeconds: limit, earlier: earlier, interactive: false, phase: phase, since: start.addingTimeInterval(since))
    }

    /// The status line's states, each at 100, 60 and 40 columns, against expected frames.
    @Test func statusLinesAtEachWidth() throws {
        let states: [(String, CommandProgress, TimeInterval)] = [
            ("running, no limit", Self.progress(.running), 7),
            ("running with Timeout 1m", Self.progress(.running, limit: 60), 18),
            ("attempt 2 of 4 running, earlier exit 1", Self.progress(.running, attempt: 2, attempts: 4, limit: 30, earlier: ["exit 1"], since: 5), 9),
            ("waiting before attempt 2 of 4", Self.progress(.waiting(seconds: 2), attempt: 1, attempts: 4, earlier: ["exit 1"], since: 0), 0.4),
            ("poll: check 3 failed, check 4 next", Self.progress(.waiting(seconds: 5), attempt: 3, poll: 120, earlier: ["exit 1", "exit 1", "exit 7"], since: 50), 52),
            ("long run, many retries", Self.progress(.running, attempt: 9, attempts: 10, limit: 7200, earlier: ["exit 1", "exit 2", "exit 3", "exit 4", "timed out", "timed out"], since: 3000), 3725),
        ]
        var transcript = ""
        for width in [100, 60, 40] {
            for (name, progress, at) in states {
                let lines = CommandStatus.lines(progress, now: Self.start.addingTimeInterval(at), runElapsed: 754 + at, tick: Int(at * 5), width: width)
                transcript += "──── \(width) columns: \(name) ────\n" + lines.joined(separator: "\n") + "\n"
                for line in lines {
                    #expect(TerminalColumns.width(line) < width, "\(width): \(line)")
                }
                #expect(lines.count <= (width < 60 ? 3 : 2), "\(width) \(name): \(lines)")
                let all = lines.joined(separator: " ")
                #expect(all.contains("Ctrl-C stops this command"), "\(width) \(name): \(all)")
            }
        }
        try Golden.check(transcript, against: "terminal/running-status-lines.txt")
        let at40 = CommandStatus.lines(Self.progress(.running, limit: 60), now: Self.start.addingTimeInterval(18), runElapsed: 0, tick: 0, width: 40)
        #expect(at40.joined(separator: "\n").contains("times out in 0:42"))
        let waiting = CommandStatus.lines(Self.progress(.waiting(seconds: 2), attempt: 1, attempts: 4, earlier: ["exit 1"]),
                                          now: Self.start.addingTimeInterval(0.4), runElapsed: 0, tick: 0, width: 100)
        #expect(waiting.joined().contains("attempt 2 of 4 · next in 2s · earlier: exit 1"), "\(waiting)")
    }

    /// The board keeps the status line below the output: each output line and each failed
    /// attempt goes above it, the status is drawn again after them, and nothing of it is left
    /// once the command is over. Frames at 100, 60 and 40 columns.
    @Test func theStatusLineStaysBelowTheOutput() throws {
        var transcript = ""
        for width in [100, 60, 40] {
            let terminal = ScriptedTerminal(width: width, [])
            let clock = TestClock(Self.start)
            let board = StatusBoard(terminal: terminal, style: Style(enabled: false), runElapsed: 61, live: true, now: { clock.now })
            var frames: [String] = []
            board.line("  ┌ command 1 · gets no input")
            board.update(Self.progress(.running, attempt: 1, attempts: 3, limit: 45))
            frames.append(Self.visible(terminal.output))
            clock.advance(1.2)
            board.output("checking the pool\nstill")
            board.tick()
            frames.append(Self.visible(terminal.output))
            clock.advance(2)
            board.output(" waiting\n")
            board.update(Self.progress(.waiting(seconds: 2), attempt: 1, attempts: 3, limit: 45, earlier: ["exit 3"], since: 3.2))
            frames.append(Self.visible(terminal.output))
            clock.advance(2)
            board.line("  ┌ command 1, attempt 2 · gets no input")
            board.update(Self.progress(.running, attempt: 2, attempts: 3, limit: 45, earlier: ["exit 3"], since: 5.2))
            clock.advance(44)
            board.tick()
            frames.append(Self.visible(terminal.output))
            board.update(Self.progress(.ended(passed: true), attempt: 2, attempts: 3, limit: 45, earlier: ["exit 3"], since: 49.2))
            board.finish()
            frames.append(Self.visible(terminal.output))
            for (number, frame) in frames.enumerated() {
                transcript += "──── \(width) columns, frame \(number + 1) ────\n" + frame + "\n"
                for line in frame.split(separator: "\n") { #expect(TerminalColumns.width(String(line)) <= width, "\(width): \(line)") }
            }
            let last = try #require(frames.last)
            #expect(!last.contains("Ctrl-C stops"), "the status line is erased at the end:\n\(last)")
            #expect(last.contains("✗ attempt 1 of 3: exit 3"), "\(last)")
            #expect(last.contains("│ still waiting"), "\(last)")
            // In every frame drawn while the command runs, the status is the last thing on the screen.
            for frame in frames.dropLast() {
                let lines = frame.split(separator: "\n", omittingEmptySubsequences: false)
                #expect(lines.suffix(2).joined().contains("Ctrl-C stops this command"), "\(width): the status is not at the bottom:\n\(frame)")
            }
        }
        try Golden.check(transcript, against: "terminal/running-status-board.txt")
    }

    /// The step's screen says beside each command how it gets its input.
    @Test func theStepScreenSaysWhatInputACommandGets() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try """
            # Input
            - [ ] Ask nothing
              ```bash run
              echo no input here
              ```
            - [ ] Ask the operator
              ```bash run interactive
              read -p "Type yes: " a; [ "$a" = yes ]
              ```
            """.write(to: dir.appendingPathComponent("input.md"), atomically: true, encoding: .utf8)
        var transcript = ""
        for width in [100, 60, 40] {
            let runs = dir.appendingPathComponent("runs-\(width)")
            let terminal = ScriptedTerminal(width: width, [.press("r"), .press("y"), .press(" "), .press("r"), .press("y"), .press("q")])
            let result = try InProcess.walk(["run", dir.appendingPathComponent("input.md").path, "--runs-dir", runs.path, "--as", "bob"], on: terminal)
            #expect(result.status == 3, "\(result.stdout)\n\(result.stderr)")
            let frames = terminal.frames
            #expect(frames.first?.contains("command (bash) · gets no input:") == true, "\(frames.first ?? "")")
            #expect(frames.first?.contains("┌ command 1 · gets no input") == true, "\(frames.first ?? "")")
            let second = try #require(frames.first { $0.contains("▶ Ask the operator") })
            #expect(second.contains("command (bash) · gets the terminal:"), "\(second)")
            // A test's terminal is no terminal to give: the step is refused and stays open.
            let said = terminal.output.split(whereSeparator: \.isWhitespace).joined(separator: " ")
            #expect(said.contains("step 'ask-the-operator' runs an interactive command, which needs a person at a terminal; nothing was run"), "\(terminal.output)")
            WalkThroughScreenTests.expectFits(terminal, paused: true)
            transcript += "──── \(width) columns ────\n" + WalkThroughScreenTests.transcript(terminal, runs: runs)
                .replacingOccurrences(of: runs.path, with: "RUNS") + "\n"
            let events = try WalkThroughScreenTests.events(in: runs)
            #expect(events.filter { $0.type == .commandStarted }.count == 1, "only the first command ran")
            let state = RunState.fold(events)
            #expect(state.record("ask-nothing").status == .done)
            #expect(state.record("ask-the-operator").status == .active)
        }
        try Golden.check(transcript, against: "terminal/command-input.txt")
    }
}

/// A clock a test moves by hand.
final class TestClock: Sendable {
    private let time: Mutex<Date>

    init(_ start: Date) { time = Mutex(start) }

    var now: Date { time.withLock { $0 } }

    func advance(_ seconds: TimeInterval) { time.withLock { $0 = $0.addingTimeInterval(seconds) } }
}
