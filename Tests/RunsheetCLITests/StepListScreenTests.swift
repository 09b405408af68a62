import Foundation
@testable import RunsheetCLI
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Issue 15, item 4 and 5: the step list (`Tab`/`o`, `list` in scripts), a skipped step's record
/// when it is gone back to, the summary a finished or paused run leaves, and screens that keep
/// every key and whole words of commands at any width from 40 columns. Frames are checked against
/// Tests/Fixtures/expected/terminal/step-list-*.txt at 100, 60 and 40 columns.
@Suite struct StepListScreenTests {
    static let widths = [100, 60, 40]

    /// A repository with `step-list.md` (sections, a long command, a gate, a failure branch) and a
    /// roles file in which carol may sign the gate.
    static func repository() throws -> URL {
        let dir = try Fixtures.temporaryDirectory()
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        try "roles:\n  sre: [carol]\n".write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(at: Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/runbooks/step-list.md"),
                                         to: dir.appendingPathComponent("step-list.md"))
        return dir
    }

    /// The frames with run ids, folders and clock times replaced by names.
    static func transcript(_ terminal: ScriptedTerminal, runs: URL) -> String {
        WalkThroughScreenTests.transcript(terminal, runs: runs)
            .replacingOccurrences(of: #"\d\d:\d\dZ"#, with: "hh:mmZ", options: .regularExpression)
            .replacingOccurrences(of: #"took: \d\d:\d\d:\d\d"#, with: "took: hh:mm:ss", options: .regularExpression)
    }

    /// Every line of every frame but the last (the summary, printed after the full screen) fits.
    static func expectFits(_ terminal: ScriptedTerminal, sourceLocation: SourceLocation = #_sourceLocation) {
        // The summary and the commands printed for copying are printed whole, outside the full screen.
        for (number, frame) in terminal.frames.dropLast().enumerated() where !frame.contains("whole, for copying") {
            // What the operator types after a prompt is echoed as typed; the terminal wraps it.
            for line in frame.split(separator: "\n") where TerminalColumns.width(String(line)) > terminal.width && !line.contains("(Esc cancels):") {
                Issue.record("frame \(number + 1) has a line wider than \(terminal.width): \(line)", sourceLocation: sourceLocation)
            }
        }
    }

    @Test(arguments: widths) func theStepListMovesGoesToAStepAndShowsTheSkip(width: Int) throws {
        let dir = try Self.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let runs = dir.appendingPathComponent("runs")
        @Sendable func sign() {
            let signed = try? Fixtures.runsheet(["sign", Fixtures.onlyRun(in: runs.path) ?? "?", "approve-the-change", "--as", "carol", "--runs-dir", runs.path], directory: dir)
            #expect(signed?.status == 0, "\(signed?.stderr ?? "")")
        }
        let terminal = ScriptedTerminal(width: width, height: 40, [
            .press("d"),
            .press("s"), .text("the disks are new"),
            // At the gate: the list, down to a step past it, Enter: refused as goto is.
            .key(.tab), .key(.down), .key(.enter),
            .act { sign() }, .idle,
            // On Deploy: the list by `o`, up twice with k and the arrow, Enter goes to the skipped step.
            .press("o"), .press("k"), .key(.up), .key(.enter),
            .press("o"), .key(.escape),
            .press("q"),
        ])
        let result = try InProcess.walk(["run", dir.appendingPathComponent("step-list.md").path, "--runs-dir", runs.path, "--as", "bob"], on: terminal)
        #expect(result.status == 3, "\(result.stdout)\n\(result.stderr)")
        #expect(terminal.unread == 0)
        try Golden.check(Self.transcript(terminal, runs: runs), against: "terminal/step-list-\(width).txt")
        Self.expectFits(terminal)

        let frames = terminal.frames
        let list = try #require(frames.first { $0.contains("Steps · Step list demo") })
        for line in ["✓ Read the notes", "– Check the disks", "▶ Approve the change", "· Deploy the service", "Rollback", "(branch)", "· Roll back the service"] {
            #expect(list.contains(line), "the list shows '\(line)':\n\(list)")
        }
        #expect(list.replacingOccurrences(of: "\n", with: " ").contains("1 done · 1 skipped · 0 failed · 0 forced · 3 ahead"), "\(list)")
        let unwrapped = list.replacingOccurrences(of: #"\n +"#, with: " ", options: .regularExpression)
        #expect(unwrapped.contains("check-the-disks · skipped by bob at") && unwrapped.contains(": the disks are new"), "\(list)")
        #expect(list.replacingOccurrences(of: #"\n +"#, with: " ", options: .regularExpression).contains("gate: sign-off by 1 of sre; nobody signed yet"), "\(list)")
        #expect(frames.contains { $0.contains("▶ Approve the change") && $0.contains("goto") && $0.contains("deploy-the-service") && $0.contains("approve-the-change") })
        #expect(frames.contains { $0.contains("Steps · ") && $0.replacingOccurrences(of: #"\n +"#, with: " ", options: .regularExpression).contains("gate: sign-off by 1 of sre; signed by carol (sre)") })
        let revisited = try #require(frames.last { $0.contains("▶ Check the disks") })
        let flat = revisited.replacingOccurrences(of: "\n", with: " ")
        #expect(flat.contains("– Skipped by bob at") && flat.contains("the disks are new"), "\(revisited)")
        #expect(revisited.contains("[?]help") && revisited.contains("[q]uit") && revisited.contains("[l]esson") && revisited.contains("[Tab/o] steps") && revisited.contains("[c]opy"))

        let summary = terminal.lastFrame
        let id = try #require(Fixtures.onlyRun(in: runs.path))
        let joined = summary.replacingOccurrences(of: #"\n +"#, with: " ", options: .regularExpression)
        // On a screen narrower than the line, the resume command has a line of its own, whole.
        #expect(joined.replacingOccurrences(of: "\n", with: " ").contains("run \(id) paused; resume with: runsheet resume \(id) --runs-dir"), "\(summary)")
        #expect(summary.contains("\n    runsheet resume \(id) --runs-dir "), "\(summary)")
        #expect(joined.contains("paused at: Check the disks (check-the-disks)"), "\(summary)")
        #expect(joined.contains("steps: 2 done · 1 skipped · 0 failed · 0 forced · 2 ahead"), "\(summary)")
        #expect(summary.contains("runsheet report \(id)") && summary.contains("runsheet render \(id)"))

        let events = try WalkThroughScreenTests.events(in: runs)
        let moves = events.filter { $0.type == .cursorMoved && $0.data["reason"]?.string == "goto" }.map { "\($0.data["reason"]?.string ?? "?") \($0.data["to"]?.string ?? "?")" }
        #expect(moves == ["goto check-the-disks"], "the refused move records nothing, Enter on the skipped step moves there")
        #expect(events.last?.type == .runPaused)
        let state = RunState.fold(events)
        #expect(state.record("check-the-disks").status == .skipped && state.cursor == "check-the-disks")
    }

    /// A long command wraps only at spaces outside quotes, with a mark in the margin; only the
    /// word wider than the screen is cut; `c` prints it whole.
    @Test(arguments: widths) func commandsWrapAtSpacesAndCopyWhole(width: Int) throws {
        let dir = try Self.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let runs = dir.appendingPathComponent("runs")
        let terminal = ScriptedTerminal(width: width, height: 24, [.press("d"), .press("c"), .press(" "), .press("?"), .press(" "), .press(" "), .press(" "), .press(" ")])
        let result = try InProcess.walk(["run", dir.appendingPathComponent("step-list.md").path, "--runs-dir", runs.path, "--as", "bob"], on: terminal)
        #expect(result.status == 3, "\(result.stdout)\n\(result.stderr)")
        try Golden.check(Self.transcript(terminal, runs: runs), against: "terminal/step-list-commands-\(width).txt")
        Self.expectFits(terminal)
        let command = "df -h /var/lib/postgresql --output=source,size,pcent | grep -v \"Filesystem  Size  Use%\" && echo 'all disks checked for eu-west' --note=https://example.com/runbooks/disks/a-very-long-page-name-that-cannot-fit-anywhere"
        let screen = try #require(terminal.frames.first { $0.contains("▶ Check the disks") })
        let lines = screen.split(separator: "\n").map(String.init)
        let start = try #require(lines.firstIndex { $0.hasPrefix("  $ df") })
        var shown: [(mark: String, text: String)] = []
        for line in lines[start...] {
            guard line.count > 4, ["$", "↪", "⋯"].contains(String(line.dropFirst(2).prefix(1))) else { break }
            shown.append((String(line.dropFirst(2).prefix(1)), String(line.dropFirst(4))))
        }
        // Put back together, the pieces are the command: a ↪ line after a space, a ⋯ line inside a word.
        let joined = shown.enumerated().map { $0.offset == 0 ? $0.element.text : ($0.element.mark == "↪" ? " " : "") + $0.element.text }.joined()
        #expect(joined == command, "\(screen)")
        for quoted in ["\"Filesystem  Size  Use%\"", "'all disks checked for eu-west'"] {
            #expect(shown.contains { $0.text.contains(quoted) }, "\(quoted) is never broken:\n\(screen)")
        }
        // Only the long URL is cut inside a word, and only when it is wider than the screen.
        let longest = command.split(separator: " ").map(\.count).max() ?? 0
        #expect(shown.filter { $0.mark == "⋯" }.isEmpty == (longest <= width - 4))
        for piece in shown where piece.mark == "↪" { #expect(!piece.text.hasPrefix(" ")) }
        if width < 100 { #expect(shown.count > 1) }

        let copy = try #require(terminal.frames.first { $0.contains("Commands of step 'check-the-disks'") })
        #expect(copy.split(separator: "\n").contains { $0 == command[...] }, "\(copy)")
        let help = terminal.frames.filter { $0.contains("Actions (keys on a terminal") || $0.contains("q quit") }
        #expect(!help.isEmpty)
        for frame in terminal.frames where frame.contains("Actions (keys on a terminal") || frame.contains("page ") {
            #expect(!frame.contains("…"), "the help wraps, never cuts:\n\(frame)")
        }
        #expect(terminal.frames.contains { $0.contains("page 1/") && $0.contains("any key: more · q: close") }, "help taller than 24 lines pages")
        let allHelp = terminal.frames.filter { $0.contains("press any key") || $0.contains("any key: more") }.joined()
        for line in ["o list", "c commands", "Tab", "? help", "q quit", "↪"] { #expect(allHelp.contains(line), "help mentions \(line)") }
        #expect(try WalkThroughScreenTests.events(in: runs).filter { $0.type == .commandStarted }.isEmpty, "c runs nothing")
    }

    /// A run that completes leaves its summary after the last screen; so does a scripted run.
    @Test(arguments: widths) func aCompletedRunLeavesASummary(width: Int) throws {
        let runs = try Fixtures.temporaryDirectory()
        let terminal = ScriptedTerminal(width: width, height: 24, [.press("d"), .press("s"), .text("said it already"), .press("s"), .text("done by hand")])
        let result = try InProcess.walk(["run", WalkThroughScreenTests.demo, "--runs-dir", runs.path, "--as", "bob"], on: terminal)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        try Golden.check(Self.transcript(terminal, runs: runs), against: "terminal/summary-completed-\(width).txt")
        let id = try #require(Fixtures.onlyRun(in: runs.path))
        let summary = terminal.lastFrame
        #expect(summary.contains("] 4/4  elapsed") && summary.contains("completed\n  steps: "), "the last screen stays, the summary under it:\n\(summary)")
        let joined = summary.replacingOccurrences(of: #"\n +"#, with: " ", options: .regularExpression)
        #expect(joined.contains("steps: 1 done · 3 skipped · 0 failed · 0 forced · 0 ahead"), "the branch never taken is not ahead:\n\(summary)")
        #expect(summary.contains("took: "))
        #expect(summary.contains("runsheet report \(id)") && summary.contains("runsheet render \(id)") && !summary.contains("runsheet resume"))
        #expect(RunState.fold(try WalkThroughScreenTests.events(in: runs)).outcome == .completed)
    }

    /// A list taller than the screen scrolls so the chosen step shows, with what is above and below counted.
    @Test func theStepListScrolls() throws {
        let dir = try Self.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let runs = dir.appendingPathComponent("runs")
        let terminal = ScriptedTerminal(width: 60, height: 14, [.key(.tab), .press("j"), .press("j"), .press("j"), .press("j"), .press("j"), .key(.escape), .press("q")])
        _ = try InProcess.walk(["run", dir.appendingPathComponent("step-list.md").path, "--runs-dir", runs.path, "--as", "bob"], on: terminal)
        let lists = terminal.frames.filter { $0.contains("Steps · ") }
        #expect(lists.count == 6)
        for list in lists { #expect(list.split(separator: "\n", omittingEmptySubsequences: false).count <= 14, "\(list)") }
        #expect(lists.first?.contains("›  ▶ Read the notes") == true && lists.first?.contains("↓") == true && lists.first?.contains("Roll back") == false, "\(lists.first ?? "")")
        #expect(lists.last?.contains("›  · Roll back the service") == true && lists.last?.contains("↑") == true && lists.last?.contains("Read the notes") == false, "\(lists.last ?? "")")
        #expect(try WalkThroughScreenTests.events(in: runs).filter { $0.type == .cursorMoved }.isEmpty, "Escape goes nowhere")
    }

    /// Scripts get the same: `list` prints the step list, `commands` the commands whole, and the
    /// end of the script leaves the summary.
    @Test func scriptsListTheStepsAndEndWithTheSummary() throws {
        let dir = try Self.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let runs = dir.appendingPathComponent("runs")
        let result = try InProcess.runsheet(["run", dir.appendingPathComponent("step-list.md").path, "--runs-dir", runs.path, "--as", "bob"],
                                            stdin: "done\nskip the disks are new\nlist\ncommands\nback\n")
        #expect(result.status == 3, "\(result.stdout)\n\(result.stderr)")
        let id = try #require(Fixtures.onlyRun(in: runs.path))
        for line in ["Steps of Step list demo: 1 done · 1 skipped · 0 failed · 0 forced · 3 ahead", "  ✓ Read the notes", "  – Check the disks",
                     "  ▶ Approve the change", "Rollback  (branch)", "gate: sign-off by 1 of sre; nobody signed yet", "this step has no command marked to run",
                     "– Skipped by bob at", "run \(id) paused; resume with: runsheet resume \(id)", "paused at: Check the disks (check-the-disks)",
                     "runsheet report \(id)", "runsheet render \(id)"] {
            #expect(result.stdout.contains(line), "stdout has '\(line)':\n\(result.stdout)")
        }
        let state = RunState.fold(try WalkThroughScreenTests.events(in: runs))
        #expect(state.cursor == "check-the-disks" && state.record("check-the-disks").status == .skipped)
    }

    /// A done or failed step gone back to shows its record: who, when and why.
    @Test func aStepGoneBackToShowsItsRecord() throws {
        let runs = try Fixtures.temporaryDirectory()
        let result = try InProcess.runsheet(["run", WalkThroughScreenTests.demo, "--runs-dir", runs.path, "--as", "bob"],
                                            stdin: "done\ndone\nfail health red\ngoto say-hello\ngoto deploy-the-service\nlist\nquit\n")
        #expect(result.status == 3, "\(result.stdout)\n\(result.stderr)")
        let out = result.stdout.replacingOccurrences(of: #"\d\d:\d\dZ"#, with: "hh:mmZ", options: .regularExpression)
        for line in ["▶ [3/5] say-hello · Say hello\n  ✓ Done by bob at hh:mmZ\n", "▶ [3/5] deploy-the-service · Deploy the service\n  ✗ Failed by bob at hh:mmZ: health red\n",
                     "  ▶ Deploy the service\n      deploy-the-service · failed by bob at hh:mmZ: health red", "Rollback  (branch)\n  · Roll back the service",
                     "steps: 2 done · 0 skipped · 1 failed · 0 forced · 2 ahead"] {
            #expect(out.contains(line), "stdout has '\(line)':\n\(out)")
        }
        let state = RunState.fold(try WalkThroughScreenTests.events(in: runs))
        #expect(state.cursor == "deploy-the-service" && state.record("deploy-the-service").status == .failed && state.record("deploy-the-service").reason == "health red")
    }

    /// `--auto` ends with the same summary, where it pauses and where it completes.
    @Test func autoRunsEndWithTheSummary() throws {
        let dir = try Self.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let runs = dir.appendingPathComponent("runs")
        let paused = try InProcess.runsheet(["run", dir.appendingPathComponent("step-list.md").path, "--runs-dir", runs.path, "--as", "bob", "--auto"])
        #expect(paused.status == 3, "\(paused.stdout)\n\(paused.stderr)")
        let id = try #require(Fixtures.onlyRun(in: runs.path))
        for line in ["manual step 'read-the-notes' needs a person", "run \(id) paused; resume with: runsheet resume \(id)", "paused at: Read the notes (read-the-notes)",
                     "steps: 0 done · 0 skipped · 0 failed · 0 forced · 5 ahead", "took: 00:00:0", "report:\n    runsheet report \(id)", "checklist:\n    runsheet render \(id)"] {
            #expect(paused.stdout.contains(line), "stdout has '\(line)':\n\(paused.stdout)")
        }
        #expect(try WalkThroughScreenTests.events(in: runs).last?.type == .runPaused)

        try "# Two commands\n\n- [ ] One\n\n  ```bash run\n  true\n  ```\n- [ ] Two\n\n  ```bash run\n  true\n  ```\n"
            .write(to: dir.appendingPathComponent("two.md"), atomically: true, encoding: .utf8)
        let more = dir.appendingPathComponent("more")
        let completed = try InProcess.runsheet(["run", dir.appendingPathComponent("two.md").path, "--runs-dir", more.path, "--as", "bob", "--auto"])
        #expect(completed.status == 0, "\(completed.stdout)\n\(completed.stderr)")
        let second = try #require(Fixtures.onlyRun(in: more.path))
        #expect(completed.stdout.contains("run \(second) completed\n  steps: 2 done · 0 skipped · 0 failed · 0 forced · 0 ahead\n  took: "), "\(completed.stdout)")
        #expect(completed.stdout.contains("runsheet render \(second)") && !completed.stdout.contains("runsheet resume"))
        #expect(RunState.fold(try WalkThroughScreenTests.events(in: more)).outcome == .completed)
    }

    /// The key bar wraps onto more lines rather than losing keys; `[w]ait` shows at a gate.
    @Test(arguments: widths) func theKeyBarKeepsEveryKey(width: Int) throws {
        let dir = try Self.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let runs = dir.appendingPathComponent("runs")
        let terminal = ScriptedTerminal(width: width, height: 24, [.press("d"), .press("s"), .text("new disks"), .press("w"), .press("q")])
        _ = try InProcess.walk(["run", dir.appendingPathComponent("step-list.md").path, "--runs-dir", runs.path, "--as", "bob"], on: terminal)
        Self.expectFits(terminal)
        let gate = try #require(terminal.frames.last { $0.contains("▶ Approve the change") })
        let bar = gate.split(separator: "\n").drop { !$0.hasPrefix("[d]one") }.prefix { $0.hasPrefix("[") }.joined(separator: "\n")
        try Golden.check(bar + "\n", against: "terminal/key-bar-gate-\(width).txt")
        for key in ["[d]one", "[l]esson", "[a]dd", "[w]ait", "[Tab/o] steps", "[c]opy", "[?]help", "[q]uit"] { #expect(bar.contains(key), "\(key) in:\n\(bar)") }
        #expect(gate.replacingOccurrences(of: "\n", with: " ").contains("Waiting: the screen moves on by itself once the gate is signed."))
        let first = try #require(terminal.frames.first)
        #expect(!first.contains("[w]ait"), "w only at a gate")
    }
}
