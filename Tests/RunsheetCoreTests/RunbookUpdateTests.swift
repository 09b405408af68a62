import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// `runsheet update`: estimates from observed medians, added steps and lessons, as whole-line edits.
@Suite struct RunbookUpdateTests {
    /// Events of a run in which every step in `done` took `seconds[step]` (default 7 minutes), with
    /// lesson notes and added steps as given; folded the way every command folds a journal.
    static func run(_ runbook: Runbook, id: String = "r1", seconds: [String: Int] = [:], defaultSeconds: Int = 420,
                    lessons: [String: String] = [:], added: [(title: String, before: String?, after: String?)] = []) -> RunState {
        var events: [RunEvent] = []
        var clock = Date(timeIntervalSince1970: 1_800_000_000)
        func add(_ type: EventType, step: String? = nil, _ data: [String: JSONValue] = [:]) {
            events.append(RunEvent(seq: events.count + 1, time: Timestamp.format(clock), type: type, actor: "alice", host: "h", via: "script", step: step, data: data))
        }
        add(.runStarted, ["runId": .string(id), "runbookId": .string(runbook.id)])
        for step in runbook.steps {
            add(.stepStarted, step: step.id)
            if let text = lessons[step.id] { add(.note, step: step.id, ["text": .string(text), "lesson": .bool(true)]) }
            clock += TimeInterval(seconds[step.id] ?? defaultSeconds)
            add(.stepCompleted, step: step.id)
        }
        for extra in added {
            var data: [String: JSONValue] = ["title": .string(extra.title)]
            if let before = extra.before { data["before"] = .string(before) }
            if let after = extra.after { data["after"] = .string(after) }
            add(.stepAdded, step: Slug.stepID(extra.title), data)
        }
        add(.runEnded, ["outcome": .string("completed")])
        return RunState.fold(events)
    }

    static func update(_ text: String, runs: (Runbook) -> [RunState], options: RunbookUpdate.Options = .init()) -> (RunbookUpdate, String) {
        let source = Array(text.utf8)
        let runbook = Compiler().compile(path: "deploy.md", bytes: source).runbook
        let update = RunbookUpdate.propose(source: source, runbook: runbook, runs: runs(runbook), options: options)
        return (update, String(decoding: update.edits.apply(to: source), as: UTF8.self))
    }

    static let deploy = """
        # Deploy

        - [ ] Build the image
          * Estimate:   10m   
          * Production: no
        - [ ] Push the image
        - [ ] Switch traffic

          Carefully.

        - [ ] Watch the graphs

        """

    @Test func mediansRoundedTheWayPeopleEstimate() {
        #expect(RunbookUpdate.median([]) == nil)
        #expect(RunbookUpdate.median([300, 60, 120]) == 120)
        #expect(RunbookUpdate.median([60, 121]) == 91)
        #expect(RunbookUpdate.rounded(1) == 5)
        #expect(RunbookUpdate.rounded(38) == 40)
        #expect(RunbookUpdate.rounded(89) == 60)
        #expect(RunbookUpdate.rounded(91) == 120)
        #expect(RunbookUpdate.rounded(3599) == 3600)
        #expect(RunbookUpdate.rounded(4000) == 3900)
    }

    @Test func estimatesReplaceTheValueOrComeAsANewAnnotation() throws {
        let (update, text) = Self.update(Self.deploy) { book in
            [Self.run(book, id: "a", seconds: ["build-the-image": 200]),
             Self.run(book, id: "b", seconds: ["build-the-image": 250]),
             Self.run(book, id: "c", seconds: ["build-the-image": 9000])]
        }
        #expect(text == """
            # Deploy

            - [ ] Build the image
              * Estimate: 4m   
              * Production: no
            - [ ] Push the image
              - Estimate: 7m
            - [ ] Switch traffic
              - Estimate: 7m

              Carefully.

            - [ ] Watch the graphs
              - Estimate: 7m

            """)
        let build = update.changes.first { if case .estimate(step: "build-the-image", _, _, _, _) = $0 { true } else { false } }
        #expect(build == .estimate(step: "build-the-image", from: 600, to: 240, samples: 3, line: 4))
        // The new file compiles to the same steps with the observed estimates, and a second pass changes nothing.
        let again = Compiler().compile(path: "deploy.md", bytes: Array(text.utf8))
        #expect(again.diagnostics.isEmpty)
        #expect(again.runbook.steps.map(\.estimateSeconds) == [240, 420, 420, 420])
        let (second, _) = Self.update(text) { book in [Self.run(book, id: "a", seconds: ["build-the-image": 200]), Self.run(book, id: "b", seconds: ["build-the-image": 250]), Self.run(book, id: "c", seconds: ["build-the-image": 9000])] }
        #expect(second.edits.isEmpty)
    }

    @Test func toleranceAndMinimumSamplesKeepNoise() {
        let (kept, _) = Self.update(Self.deploy, runs: { [Self.run($0, defaultSeconds: 660)] })
        #expect(!kept.changes.contains { if case .estimate(step: "build-the-image", _, _, _, _) = $0 { true } else { false } })
        let (few, _) = Self.update(Self.deploy, runs: { [Self.run($0), Self.run($0, id: "r2")] }, options: .init(minSamples: 3))
        #expect(few.edits.isEmpty)
    }

    @Test func addedStepsGoBeforeTheStepTheOperatorWasOn() {
        let (update, text) = Self.update(Self.deploy) { book in
            [Self.run(book, defaultSeconds: 0, added: [("Warm the cache", "switch-traffic", "push-the-image"),
                                                       ("Page the on-call", nil, "watch-the-graphs")]),
             Self.run(book, id: "r2", defaultSeconds: 0, added: [("Warm the cache", "switch-traffic", "push-the-image")])]
        }
        #expect(text == """
            # Deploy

            - [ ] Build the image
              * Estimate:   10m   
              * Production: no
            - [ ] Push the image
            - [ ] Warm the cache
            - [ ] Switch traffic

              Carefully.

            - [ ] Watch the graphs
            - [ ] Page the on-call

            """)
        #expect(update.changes.contains(.step(title: "Warm the cache", after: "push-the-image", runs: ["r1", "r2"], line: 7)))
        let again = Compiler().compile(path: "deploy.md", bytes: Array(text.utf8)).runbook
        #expect(again.steps.map(\.id) == ["build-the-image", "push-the-image", "warm-the-cache", "switch-traffic", "watch-the-graphs", "page-the-on-call"])
    }

    @Test func lessonsOnceEachInQuotesOrderedListsAndCRLF() {
        let text = "1. [ ] Drain the node\r\n2. [ ] Patch it\r\n\r\n> - [ ] Quoted\r\n"
        let (update, result) = Self.update(text) { book in
            [Self.run(book, defaultSeconds: 0, lessons: ["drain-the-node": "Cordon\nfirst", "quoted": "Mind the quote"]),
             Self.run(book, id: "r2", defaultSeconds: 0, lessons: ["drain-the-node": "Cordon first"])]
        }
        #expect(result == "1. [ ] Drain the node\r\n   - Lesson: Cordon first\r\n2. [ ] Patch it\r\n\r\n> - [ ] Quoted\r\n>   - Lesson: Mind the quote\r\n")
        #expect(update.changes.count == 2)
        let runbook = Compiler().compile(path: "x.md", bytes: Array(result.utf8)).runbook
        #expect(runbook.steps.map(\.lessons) == [["Cordon first"], [], ["Mind the quote"]])
    }

    @Test func patchIsAUnifiedDiffOfTheSameEdits() {
        let (update, _) = Self.update(Self.deploy) { [Self.run($0, lessons: ["watch-the-graphs": "Watch p99, not p50"])] }
        let diff = update.edits.unifiedDiff(source: Array(Self.deploy.utf8), path: "runbooks/deploy.md")
        #expect(diff.hasPrefix("--- a/runbooks/deploy.md\n+++ b/runbooks/deploy.md\n@@ -1,"))
        let added = diff.split(separator: "\n").filter { $0.hasPrefix("+") && !$0.hasPrefix("+++") }
        let removed = diff.split(separator: "\n").filter { $0.hasPrefix("-") && !$0.hasPrefix("---") }
        #expect(added.count == 5 && removed.count == 1)
        #expect(removed == ["-  * Estimate:   10m   "])
    }

    /// Every corpus file: after a run in which each step took 7 minutes, got a lesson, and one
    /// step was added, the update only replaces Estimate lines and inserts lines, and the result
    /// compiles to the same steps plus the new one, with the observed estimates and the lessons.
    @Test(arguments: try Fixtures.corpusFiles())
    func onlyEstimateLinesChangeAndLinesAreInserted(file: URL) throws {
        let source = try [UInt8](Data(contentsOf: file))
        let before = Compiler().compile(path: file.path, bytes: source)
        let own = before.runbook.steps.filter { $0.origin == nil && $0.kind != .command && $0.annotationAnchor != nil }
        let lessons = Dictionary(own.map { ($0.id, "Lesson for \($0.id)") }, uniquingKeysWith: { a, _ in a })
        let middle = own.isEmpty ? nil : own[own.count / 2]
        let state = Self.run(before.runbook, lessons: lessons, added: middle.map { [("Added by the operator", $0.id, nil)] } ?? [])
        let update = RunbookUpdate.propose(source: source, runbook: before.runbook, runs: [state])
        let updated = update.edits.apply(to: source)

        // Every old line is there, in order; only Estimate lines differ, and only after their colon.
        let old = ChecklistRendererTests.lines(source)
        let new = ChecklistRendererTests.lines(updated)
        var i = 0
        for line in new {
            if i < old.count, line == old[i] || (i == old.count - 1 && old[i].last != 0x0A && line == old[i] + [0x0A]) {
                i += 1
            } else if i < old.count, update.edits.replacements[i + 1] == line, let colon = old[i].firstIndex(of: UInt8(ascii: ":")),
                      line.prefix(colon + 1) == old[i].prefix(colon + 1),
                      String(decoding: old[i], as: UTF8.self).lowercased().contains("estimate") {
                i += 1
            } else {
                let text = String(decoding: line, as: UTF8.self)
                let inserted = text.contains("Estimate: 7m") || text.contains("Lesson: Lesson for") || text.contains(" Added by the operator")
                    || text.allSatisfy { $0 == " " || $0 == ">" || $0 == "\n" || $0 == "\r" }
                #expect(inserted, "\(file.lastPathComponent): unexpected line \(text)")
                if !inserted { return }
            }
        }
        #expect(i == old.count, "\(file.lastPathComponent): \(old.count - i) source lines missing")

        let after = Compiler().compile(path: file.path, bytes: updated)
        var expectedIDs = before.runbook.steps.map(\.id)
        if let middle, let index = expectedIDs.firstIndex(of: middle.id) { expectedIDs.insert("added-by-the-operator", at: index) }
        #expect(after.runbook.steps.map(\.id) == expectedIDs, "\(file.lastPathComponent)")
        #expect(after.errors.count == before.errors.count, "\(file.lastPathComponent)")
        let warningsBefore = before.diagnostics.filter { $0.severity == .warning }.count
        let warningsAfter = after.diagnostics.filter { $0.severity == .warning }.count
        #expect(warningsAfter <= warningsBefore, "\(file.lastPathComponent): \(after.diagnostics.filter { $0.severity == .warning }.map(\.formatted).prefix(3))")
        for step in own {
            guard let now = after.runbook.step(step.id) else { continue }
            #expect(now.estimateSeconds == 420 || step.estimateLine == nil && step.estimateSeconds != nil, "\(file.lastPathComponent): \(step.id)")
            #expect(now.lessons.contains("Lesson for \(step.id)"), "\(file.lastPathComponent): \(step.id)")
        }
        // A second update from the same run changes nothing.
        let second = RunbookUpdate.propose(source: updated, runbook: after.runbook, runs: [state])
        #expect(second.edits.isEmpty, "\(file.lastPathComponent): \(second.changes.map(\.summary).prefix(3))")
    }
}
