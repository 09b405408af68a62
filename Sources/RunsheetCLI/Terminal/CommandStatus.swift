import Foundation
import RunsheetCore

/// The status line under a running command's output: a spinner, how long it has run, its
/// attempt, how long until it times out, what earlier attempts did, that Ctrl-C stops it, and
/// the run's own clock. A pure function of the progress and the time, so frames can be checked.
enum CommandStatus {
    static let spinner: [Character] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]

    /// The status, wrapped at its ` · ` separators into lines of at most `width - 1` columns
    /// (the last column stays free, so no terminal wraps a line by itself), each indented two spaces.
    static func lines(_ progress: CommandProgress, now: Date, runElapsed: TimeInterval, tick: Int, width: Int) -> [String] {
        let spin = String(spinner[abs(tick) % spinner.count])
        let since = max(0, now.timeIntervalSince(progress.since))
        var parts: [String] = []
        switch progress.phase {
        case .running, .ended:
            parts.append("\(spin) running \(Countdown.clock(since))")
            if let attempt = attemptText(progress, progress.attempt) { parts.append(attempt) }
            if let limit = progress.limitSeconds {
                parts.append("times out in \(Countdown.clock(max(0, Double(limit) - since), roundingUp: true))")
            }
        case .waiting(let seconds):
            parts.append("\(spin) " + (attemptText(progress, progress.attempt + 1) ?? "attempt \(progress.attempt + 1)"))
            parts.append("next in \(Int(max(0, Double(seconds) - since).rounded(.up)))s")
        }
        let givesUp = progress.pollEndsAt.map { "gives up in \(Countdown.clock(max(0, $0.timeIntervalSince(now)), roundingUp: true))" }
        let earlier = progress.earlier.isEmpty ? nil : "earlier: " + collapsed(progress.earlier)
        let last = progress.earlier.last.map { "earlier: " + (progress.earlier.count > 1 ? "…, " : "") + $0 }
        let stop = "Ctrl-C stops this command", run = "run \(Countdown.hours(runElapsed))"
        // At most two lines (three below 60 columns): the run's clock goes first, then the list of earlier attempts shrinks
        // to the last, then the poll's limit; what the command is doing and Ctrl-C always stay.
        let candidates: [[String?]] = [
            [givesUp, earlier, stop, run], [givesUp, earlier, stop], [givesUp, last, stop], [last, stop], [stop],
        ]
        var lines: [String] = []
        for candidate in candidates {
            lines = wrap(parts + candidate.compactMap { $0 }, width: width)
            if lines.count <= (width < 60 ? 3 : 2) { break }
        }
        return lines
    }

    /// `attempt 2 of 4` with `Retries`, `check 3` with `Poll`; nil for a single attempt.
    static func attemptText(_ progress: CommandProgress, _ attempt: Int) -> String? {
        if let attempts = progress.attempts { return "attempt \(attempt) of \(attempts)" }
        if progress.pollEndsAt != nil { return "check \(attempt)" }
        return nil
    }

    /// The line left on the screen when an attempt failed and another follows:
    /// `✗ attempt 1 of 3: exit 1 · next in 2s`.
    static func failedAttemptLine(_ progress: CommandProgress, width: Int) -> String? {
        guard case .waiting(let seconds) = progress.phase, let ending = progress.earlier.last else { return nil }
        let attempt = attemptText(progress, progress.attempt) ?? "attempt \(progress.attempt)"
        return wrap(["✗ \(attempt): \(ending)", "next in \(seconds)s"], width: width).joined(separator: "\n")
    }

    /// `exit 1 ×3, timed out`: repeats of the same ending counted rather than listed.
    static func collapsed(_ endings: [String]) -> String {
        var groups: [(String, Int)] = []
        for ending in endings {
            if let last = groups.last, last.0 == ending { groups[groups.count - 1].1 += 1 } else { groups.append((ending, 1)) }
        }
        let shown = groups.map { $0.1 > 1 ? "\($0.0) ×\($0.1)" : $0.0 }
        return shown.count > 3 ? "…, " + shown.suffix(3).joined(separator: ", ") : shown.joined(separator: ", ")
    }

    /// Parts joined with ` · `, a new line where the next part would not fit.
    static func wrap(_ parts: [String], width: Int) -> [String] {
        let room = max(10, width - 3)
        var lines: [String] = []
        var line = ""
        for part in parts {
            if line.isEmpty {
                line = part
            } else if TerminalColumns.width(line) + 3 + TerminalColumns.width(part) <= room {
                line += " · " + part
            } else {
                lines.append(line)
                line = part
            }
        }
        if !line.isEmpty { lines.append(line) }
        return lines.map { "  " + TerminalColumns.fit($0, room) }
    }
}

/// Time left and time taken, as the walk-through shows them.
enum Countdown {
    /// `0:42`, `12:05`, `1:02:03`.
    static func clock(_ seconds: TimeInterval, roundingUp: Bool = false) -> String {
        let s = max(0, Int(roundingUp ? seconds.rounded(.up) : seconds.rounded(.down)))
        if s >= 3600 { return String(format: "%d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60) }
        return String(format: "%d:%02d", s / 60, s % 60)
    }

    /// `00:12:04`, as the header's elapsed clock.
    static func hours(_ seconds: TimeInterval) -> String {
        let s = max(0, Int(seconds))
        return String(format: "%02d:%02d:%02d", s / 3600, (s / 60) % 60, s % 60)
    }

    /// A gate's time left: `1h05m`, `12m` (whole minutes, rounded up, from two minutes on), then
    /// seconds in steps of `step` (1 on the screen, which is drawn every second; 10 in a script's
    /// lines, so a wait prints a few lines a minute, not sixty).
    static func coarse(_ seconds: TimeInterval, step: Int = 1) -> String {
        let s = max(0, Int(seconds.rounded(.up)))
        if s >= 3600 {
            let minutes = (s + 59) / 60
            return minutes % 60 == 0 ? "\(minutes / 60)h" : String(format: "%dh%02dm", minutes / 60, minutes % 60)
        }
        if s >= 120 { return "\((s + 59) / 60)m" }
        let step = max(1, step)
        return "\((s + step - 1) / step * step)s"
    }
}
