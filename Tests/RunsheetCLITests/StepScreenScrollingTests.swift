import Foundation
@testable import RunsheetCLI
import RunsheetCore
import RunsheetTestSupport
import Testing

/// A step screen taller than the terminal: the head (runbook, run, progress and clock, the step's
/// title and id) and the key bar stay in view while the body between them scrolls with j k ↓ ↑
/// PgDn PgUp, which the key bar then names. Frames are checked against
/// Tests/Fixtures/expected/terminal/long-step-*.txt at 100, 60 and 40 columns, 20 lines tall.
@Suite struct StepScreenScrollingTests {
    static let runbook = Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/runbooks/long-step.md").path
    static let height = 20

    /// The frames of the long step (the summary printed after the screen left out).
    static func stepFrames(_ terminal: ScriptedTerminal) -> [String] {
        terminal.frames.filter { $0.contains("▶ Drain the old pool") }
    }

    @Test(arguments: StepListScreenTests.widths) func theHeadAndKeysStayWhileTheBodyScrolls(width: Int) throws {
        let runs = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: runs) }
        let pages = 16
        let terminal = ScriptedTerminal(width: width, height: Self.height, [.press("j"), .key(.down)]
            + Array(repeating: .key(.pageDown), count: pages) + [.press("k"), .key(.up)]
            + Array(repeating: .key(.pageUp), count: pages) + [.press("d"), .press("y"), .press("q")])
        let result = try InProcess.walk(["run", Self.runbook, "--runs-dir", runs.path, "--as", "bob"], on: terminal)
        #expect(result.status == 3, "\(result.stdout)\n\(result.stderr)")
        try Golden.check(WalkThroughScreenTests.transcript(terminal, runs: runs), against: "terminal/long-step-\(width).txt")
        StepListScreenTests.expectFits(terminal)

        let frames = Self.stepFrames(terminal)
        #expect(frames.count == 2 * pages + 5, "one frame per key up to d: \(frames.count)")
        for frame in frames {
            // The screen, without the question `d` asks under the last one.
            let all = frame.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let lines = Array(all[...(all.lastIndex { $0.contains("[q]uit") } ?? all.count - 1)])
            // Two lines stay free for the cursor and a prompt: nothing scrolls the head off the top.
            #expect(lines.count <= Self.height - 2, "\(lines.count) lines:\n\(frame)")
            #expect(lines.first == "Long step demo", "\(frame)")
            #expect(lines.count > 6 && lines[2].contains("elapsed") && lines[5].hasPrefix("▶ Drain the old pool") && lines[6].hasPrefix("id drain-the-old-pool"), "\(frame)")
            let bar = lines.drop { !$0.hasPrefix("[d]one") }.joined(separator: " ")
            for key in ["[d]one", "[j/k PgDn/PgUp] scroll", "[?]help", "[q]uit"] { #expect(bar.contains(key), "\(key) in the key bar:\n\(frame)") }
        }
        let first = try #require(frames.first)
        #expect(first.contains("First instruction") && !first.contains("Last instruction") && first.contains("more lines below") && !first.contains("↑"), "\(first)")
        // j and ↓ a line each, then PgDn to the end, where more PgDn stays.
        #expect(frames[1].contains("↑ 1 more line above") && frames[2].contains("↑ 2 more lines above"), "\(frames[1])\n\(frames[2])")
        let bottom = frames[2 + pages]
        #expect(bottom.contains("$ ./scripts/pool status") && bottom.contains("--show-connections") && !bottom.contains("below"), "\(bottom)")
        #expect(frames.contains { $0.contains("Last instruction") }, "every line of the body shows on some page")
        #expect(frames[1 + pages] == bottom, "PgDn at the end moves nothing")
        #expect(frames[3 + pages].contains("1 more line below") && frames[4 + pages].contains("2 more lines below"), "k and ↑ go back a line each:\n\(frames[3 + pages])")
        #expect(frames[3 + 2 * pages] == first, "PgUp back to the top")

        // The next step fits: no scrolling, and the key bar does not offer it.
        let next = try #require(terminal.frames.last { $0.contains("▶ Switch the traffic") })
        #expect(!next.contains("scroll") && !next.contains("more line"), "\(next)")
        let state = RunState.fold(try WalkThroughScreenTests.events(in: runs))
        #expect(state.record("drain-the-old-pool-before-the-switch").status == .done, "j, k and the page keys record nothing; d still marks the step done")
    }

    /// Unbounded, as for the last screen of a run: every line, nothing scrolled.
    @Test func withoutALimitTheWholeStepShows() throws {
        let runs = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: runs) }
        let terminal = ScriptedTerminal(width: 60, height: 60, [.press("j"), .press("q")])
        _ = try InProcess.walk(["run", Self.runbook, "--runs-dir", runs.path, "--as", "bob"], on: terminal)
        let frames = Self.stepFrames(terminal)
        #expect(frames.count == 2 && frames[0] == frames[1], "a body that fits does not scroll")
        #expect(frames[0].contains("First instruction") && frames[0].contains("Last instruction") && !frames[0].contains("scroll"), "\(frames[0])")
    }
}
