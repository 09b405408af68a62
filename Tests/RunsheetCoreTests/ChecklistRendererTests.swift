import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Keeps a run's events in memory, numbered in order.
final class MemoryJournal: JournalWriter {
    var events: [RunEvent] = []

    func append(_ event: RunEvent) throws -> RunEvent {
        var sealed = event
        sealed.seq = events.count + 1
        events.append(sealed)
        return sealed
    }
}

/// `render` on real checklists: every step done, and only box bytes and trail lines differ.
@Suite struct ChecklistRendererTests {
    /// Starts a run of `runbook` in memory and marks every step done, in walk order.
    static func completeEverything(_ runbook: Runbook) throws -> RunState {
        let memory = MemoryJournal()
        let actor = Actor(name: "alice", host: "test", via: "script")
        let engine = try RunEngine.start(
            runbook: runbook, runID: "test-run", runDirectory: "/tmp", sha256: "", gitCommit: nil, values: [:],
            actor: actor, runsheetVersion: "test"
        ) { first in (memory, try memory.append(first)) }
        var budget = runbook.steps.count * 3 + 3
        while !engine.state.finished, budget > 0 {
            try engine.complete()
            budget -= 1
        }
        return engine.state
    }

    /// Lines with their endings.
    static func lines(_ bytes: [UInt8]) -> [[UInt8]] {
        var result: [[UInt8]] = []
        var current: [UInt8] = []
        for byte in bytes {
            current.append(byte)
            if byte == 0x0A { result.append(current); current = [] }
        }
        if !current.isEmpty { result.append(current) }
        return result
    }

    /// True when `rendered` differs from `source` only inside task boxes.
    static func differsOnlyInBoxes(_ source: [UInt8], _ rendered: [UInt8]) -> Bool {
        guard source.count == rendered.count else { return false }
        for i in source.indices where source[i] != rendered[i] {
            let allowed: Set<UInt8> = [0x20, UInt8(ascii: "x"), UInt8(ascii: "X")]
            guard i > 0, i + 1 < source.count, source[i - 1] == UInt8(ascii: "["), source[i + 1] == UInt8(ascii: "]"),
                  allowed.contains(source[i]), allowed.contains(rendered[i]) else { return false }
        }
        return true
    }

    /// A trail bullet: container prefix, `- `, then the outcome's mark and words.
    static func isTrail(_ line: [UInt8]) -> Bool {
        let text = String(decoding: line, as: UTF8.self)
        let body = text.drop { $0 == " " || $0 == "\t" || $0 == ">" }
        return ["- ✓ done by", "- – skipped", "- ✗ failed"].contains { body.hasPrefix($0) }
    }

    @Test(arguments: try Fixtures.corpusFiles())
    func onlyBoxesAndTrailLinesChange(file: URL) throws {
        let source = try [UInt8](Data(contentsOf: file))
        let result = Compiler().compile(path: file.path, bytes: source)
        let state = try Self.completeEverything(result.runbook)
        #expect(state.outcome == .completed, "\(file.lastPathComponent)")
        let rendered = ChecklistRenderer.render(source: source, runbook: result.runbook, state: state)

        let before = Self.lines(source)
        let after = Self.lines(rendered)
        var i = 0
        var trails = 0
        for line in after {
            if i < before.count, Self.differsOnlyInBoxes(before[i], line) {
                i += 1
            } else if Self.isTrail(line) {
                trails += 1
            } else if i == before.count - 1, line.starts(with: before[i]), before[i].last != 0x0A {
                // The last line had no newline; one was added before the trail that follows it.
                i += 1
            } else {
                Issue.record("\(file.lastPathComponent): line \(i + 1) changed: \(String(decoding: line, as: UTF8.self))")
                return
            }
        }
        #expect(i == before.count, "\(file.lastPathComponent): \(before.count - i) source lines missing")
        let expectedTrails = result.runbook.steps.filter { $0.trailLine != nil && $0.origin == nil }.count
        #expect(trails == expectedTrails, "\(file.lastPathComponent)")
        let taskSteps = result.runbook.steps.filter { $0.kind == .task }
        let ticks = rendered.filter { $0 == UInt8(ascii: "x") || $0 == UInt8(ascii: "X") }.count
        #expect(ticks >= taskSteps.count)

        // The filled-in checklist is still the same runbook: the same steps, no new errors.
        let again = Compiler().compile(path: file.path, bytes: rendered)
        #expect(again.runbook.steps.map(\.id) == result.runbook.steps.map(\.id), "\(file.lastPathComponent)")
        let errorsBefore = result.errors.count
        let errorsAfter = again.errors.count
        #expect(errorsAfter == errorsBefore)
        let allTicked = again.runbook.steps.filter { $0.kind == .task }.allSatisfy(\.checked)
        #expect(allTicked)
    }

    @Test func trailsSayWhoWhenHowLongAndWhy() throws {
        let source = Array("""
            # Deploy

            - [x] Build the image
              - Estimate: 5m
            - [ ] Run migrations
              that take a while
            1. not a step here
            > - [ ] Quoted step
            """.utf8)
        let runbook = Compiler().compile(path: "deploy.md", bytes: source).runbook
        let memory = MemoryJournal()
        let engine = try RunEngine.start(
            runbook: runbook, runID: "r", runDirectory: "/tmp", sha256: "", gitCommit: nil, values: [:],
            actor: Actor(name: "alice", host: "h", via: "script"), runsheetVersion: "t"
        ) { first in (memory, try memory.append(first)) }
        try engine.note("image 1.4.2")
        try engine.skip(reason: "built by CI")
        try engine.complete()
        try engine.fail(reason: "quote\nwith two lines")
        let text = String(decoding: ChecklistRenderer.render(source: source, runbook: runbook, state: engine.state), as: UTF8.self)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[2] == "- [ ] Build the image")
        #expect(lines[3].hasPrefix("  - – skipped by alice, ") && lines[3].hasSuffix(" UTC: built by CI; note by alice: image 1.4.2"))
        #expect(lines[4] == "  - Estimate: 5m")
        #expect(lines[5] == "- [x] Run migrations")
        #expect(lines[6] == "  that take a while")
        #expect(lines[7].hasPrefix("  - ✓ done by alice, ") && lines[7].contains(", took 0s"))
        #expect(lines[9] == "> - [ ] Quoted step")
        #expect(lines[10].hasPrefix(">   - ✗ failed, alice, ") && lines[10].hasSuffix(": quote with two lines"))
        #expect(lines.count == 12 && lines[11].isEmpty, "the trail after the last line ends with a newline")
    }
}
