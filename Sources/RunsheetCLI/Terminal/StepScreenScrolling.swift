import Foundation
import RunsheetCore

/// A step screen taller than the terminal keeps its head (runbook, run, progress and clock, the
/// step's title, id and time) and its key bar in view: only the body between them scrolls, with
/// `j` `k` (or `↓` `↑`) a line at a time and `PgDn` `PgUp` a page, and what lies above and below
/// counted. Without a limit on the height nothing scrolls (`screen(width:message:)`).
extension WalkThrough {
    /// One drawn step screen: its text, the body's first line shown (the scroll asked for, kept
    /// within the body), and how many body lines a page shows.
    struct StepScreenFrame {
        var text: String
        var scroll: Int
        var page: Int
        /// Whether the body is taller than its room, so it scrolls and the key bar says how.
        var scrolls: Bool
    }

    /// The step screen for a terminal `height` lines tall, its body shown from line `scroll` on.
    func screen(width: Int, height: Int, message: String, scroll: Int) -> StepScreenFrame {
        let parts = screenParts(width: width, message: message)
        let width = max(40, min(width, 120))
        // Two lines stay free under the screen: the cursor's, and a prompt's (`s`, `n`, a
        // question) below it, so neither scrolls the head off the top.
        let room = height - 2 - parts.head.count
        let plain = parts.foot(false)
        if parts.body.count <= room - plain.count {
            return StepScreenFrame(text: fitted(parts.head + parts.body + plain, width), scroll: 0, page: max(1, room - plain.count), scrolls: false)
        }
        let foot = parts.foot(true)
        // The line above the window stands for the blank line the body starts with.
        let body = parts.body.first?.isEmpty == true ? Array(parts.body.dropFirst()) : parts.body
        // A line above and a line below the window count what is out of view.
        let window = max(1, room - foot.count - 2)
        let first = min(max(0, scroll), max(0, body.count - window))
        let last = min(body.count, first + window)
        let above = first, below = body.count - last
        let lines = parts.head
            + [style.dim(above > 0 ? "  ↑ \(above) more line\(above == 1 ? "" : "s") above" : "")]
            + body[first..<last]
            + [style.dim(below > 0 ? "  ↓ \(below) more line\(below == 1 ? "" : "s") below" : "")]
            + foot
        return StepScreenFrame(text: fitted(lines, width), scroll: first, page: window, scrolls: true)
    }

    /// Where the body starts after `key` (nil when `key` does not scroll): a line for `j` `k`
    /// `↓` `↑`, a page less one line (kept for context) for `PgDn` `PgUp`.
    static func scrolled(_ scroll: Int, by key: Key, page: Int) -> Int? {
        switch key {
        case .character("j"), .down: scroll + 1
        case .character("k"), .up: max(0, scroll - 1)
        case .pageDown: scroll + max(1, page - 1)
        case .pageUp: max(0, scroll - max(1, page - 1))
        default: nil
        }
    }
}
