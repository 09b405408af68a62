import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Every report format, the filled-in checklist and the run's own summary say the same of a step
/// the run jumped over with `goto`: NEVER DONE once the run has completed, as `status` and
/// `readiness` do, never "active", "not reached", ▶ (the current step) or "ahead"; and while the
/// run is open, ▶ marks only the step it is at.
@Suite struct NeverDoneReportTests {
    static let runbook = """
        # Jump

        - [ ] Prepare
        - [ ] Switch traffic
        - [ ] Clean up
        - [ ] Tell the channel

        """

    /// A folder with the runbook and a run driven with `script` (scripted input); the run's id.
    func driven(_ script: String, status expected: Int32) throws -> (dir: URL, run: String) {
        let dir = try Fixtures.temporaryDirectory()
        try Self.runbook.write(to: dir.appendingPathComponent("jump.md"), atomically: true, encoding: .utf8)
        let result = try Fixtures.runsheet(["run", "jump.md", "--as", "alice", "--runs-dir", "runs"], stdin: script, directory: dir)
        #expect(result.status == expected, "\(result.stdout)\(result.stderr)")
        return (dir, try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path)))
    }

    func report(_ run: (dir: URL, run: String), _ format: String) throws -> String {
        let result = try Fixtures.runsheet(["report", run.run, "--format", format, "--runs-dir", "runs"], directory: run.dir)
        #expect(result.status == 0 && result.stderr.isEmpty, "\(result.stderr)")
        return result.stdout
    }

    /// The seq of the run's `cursor.moved` event (its line in the journal).
    func gotoSeq(_ run: (dir: URL, run: String)) throws -> Int {
        let events = try JournalFile.read(at: run.dir.appendingPathComponent("runs/\(run.run)/journal.jsonl").path).events
        return try #require(events.last { $0.type == .cursorMoved }?.seq)
    }

    /// The JSON report as the parsed object a consumer sees: its run and its steps.
    func json(_ run: (dir: URL, run: String)) throws -> (run: [String: Any], steps: [[String: Any]]) {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(try report(run, "json").utf8)) as? [String: Any])
        return (try #require(object["run"] as? [String: Any]), try #require(object["steps"] as? [[String: Any]]))
    }

    /// The Markdown table row of `step`.
    func row(_ markdown: String, _ step: String) throws -> String {
        try #require(markdown.split(separator: "\n").first { $0.contains("<br>`\(step)`") }.map(String.init), "\(markdown)")
    }

    @Test func aCompletedRunsJumpedStepsAreNeverDoneInEveryFormat() throws {
        // Prepare done; at switch-traffic, goto the last step and do it: the run completes.
        let run = try driven("done\ngoto tell-the-channel\ndone\n", status: 0)
        let seq = try gotoSeq(run)
        let jumped = ["switch-traffic", "clean-up"]
        let sentence = "NEVER DONE: goto from switch-traffic to tell-the-channel (journal seq \(seq), by alice at "

        let json = try json(run)
        #expect(json.run["outcome"] as? String == "completed" && json.run["at"] == nil)
        #expect(json.steps.map { $0["status"] as? String } == ["done", "never-done", "never-done", "done"])
        for step in json.steps where jumped.contains(step["id"] as? String ?? "") {
            let text = try #require(step["neverDone"] as? String)
            #expect(text.hasPrefix(sentence) && text.hasSuffix("moved the run past this step, and the run ended without it being done or skipped with a reason"), "\(text)")
        }

        let csv = try report(run, "csv").split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let status = try #require(csv.first?.firstIndex(of: "status"))
        #expect(csv.dropFirst().map { $0[0] + " " + $0[status] } == ["prepare done", "switch-traffic never-done", "clean-up never-done", "tell-the-channel done"])

        let junit = try XMLDocument(data: Data(try report(run, "junit").utf8))
        let suite = try #require(try junit.nodes(forXPath: "/testsuites/testsuite").first as? XMLElement)
        #expect(suite.attribute(forName: "failures")?.stringValue == "2" && suite.attribute(forName: "skipped")?.stringValue == "0", "\(junit.xmlString)")
        for step in jumped {
            let failures = try junit.nodes(forXPath: "//testcase[starts-with(@name, '\(step):')]/failure").compactMap { $0 as? XMLElement }
            #expect(failures.count == 1, "\(junit.xmlString)")
            #expect(failures.first?.attribute(forName: "message")?.stringValue?.hasPrefix(sentence) == true, "\(junit.xmlString)")
            #expect(try junit.nodes(forXPath: "//testcase[starts-with(@name, '\(step):')]/skipped").isEmpty, "\(junit.xmlString)")
        }

        let markdown = try report(run, "md")
        #expect(markdown.contains("**2 done, 0 skipped, 0 failed, 2 never done, 0 not reached** of 4 steps."), "\(markdown)")
        for step in jumped {
            let line = try row(markdown, step)
            #expect(line.hasPrefix("| \(step == "clean-up" ? 3 : 2) | ⊘ **NEVER DONE** | ") && line.contains(sentence), "\(line)")
        }
        #expect(!markdown.contains("▶"), "\(markdown)")

        let html = try report(run, "html")
        #expect(html.components(separatedBy: "<tr class=\"never-done\">").count == 3, "\(html)")
        #expect(html.contains("<td>⊘<br><span class=\"never-done-label\">NEVER DONE</span></td>"), "\(html)")
        #expect(html.contains("<strong>2 done, 0 skipped, 0 failed, 2 never done, 0 not reached</strong>"), "\(html)")
        #expect(!html.contains("▶"), "\(html)")

        // The filled-in checklist: the boxes stay empty, and each says why.
        let checklist = try Fixtures.runsheet(["render", run.run, "--runs-dir", "runs"], directory: run.dir).stdout
        #expect(checklist.contains("- [ ] Switch traffic\n  - ⊘ NEVER DONE: the run ended without this step"), "\(checklist)")
        #expect(checklist.contains("- [ ] Clean up\n  - ⊘ NEVER DONE: "), "\(checklist)")
        // status marks it as the reports do.
        let shown = try Fixtures.runsheet(["status", run.run, "--runs-dir", "runs"], directory: run.dir).stdout
        #expect(shown.contains("  ⊘ switch-traffic  NEVER DONE") && shown.contains("  ⊘ clean-up  NEVER DONE"), "\(shown)")
    }

    /// The summary a completed run prints counts its jumped-over steps as never done, not ahead.
    @Test func theRunsOwnSummaryCountsThemNeverDone() throws {
        let dir = try Fixtures.temporaryDirectory()
        try Self.runbook.write(to: dir.appendingPathComponent("jump.md"), atomically: true, encoding: .utf8)
        let result = try Fixtures.runsheet(["run", "jump.md", "--as", "alice", "--runs-dir", "runs"], stdin: "done\ngoto tell-the-channel\ndone\n", directory: dir)
        #expect(result.status == 0)
        #expect(result.stdout.contains("steps: 2 done · 0 skipped · 0 failed · 0 forced · 2 never done · 0 ahead"), "\(result.stdout)")
    }

    /// An open run that went back with goto: the step it left is not "current"; the step it is at is.
    @Test func anOpenRunMarksOnlyTheStepItIsAt() throws {
        // Prepare and switch-traffic done; at clean-up, goto prepare (behind): clean-up is left open.
        let back = try driven("done\ndone\ngoto prepare\n", status: 3)
        let seq = try gotoSeq(back)
        let json = try json(back)
        #expect(json.run["at"] as? String == "prepare")
        let left = try #require(json.steps.first { $0["id"] as? String == "clean-up" })
        #expect(left["status"] as? String == "active" && left["neverDone"] == nil)
        let moved = try #require(left["movedPast"] as? String, "\(left)")
        #expect(moved.hasPrefix("MOVED PAST: goto from clean-up to prepare (journal seq \(seq), by alice at "), "\(moved)")
        #expect(moved.hasSuffix("moved the run off this step; it is not done yet"), "\(moved)")
        let markdown = try report(back, "md")
        #expect(markdown.contains("| At | `prepare` (the step the run is at) |"), "\(markdown)")
        #expect(try row(markdown, "clean-up").hasPrefix("| 3 | · | "), "\(markdown)")
        #expect(!markdown.contains("▶"), "prepare is done, the step left is not current: \(markdown)")
        #expect(markdown.contains("**2 done, 0 skipped, 0 failed, 2 open** of 4 steps."), "\(markdown)")

        // Forward: switch-traffic left and clean-up jumped over, both open still; ▶ only on the step it is at.
        let ahead = try driven("done\ngoto tell-the-channel\n", status: 3)
        let forward = try self.json(ahead)
        #expect(forward.run["at"] as? String == "tell-the-channel")
        #expect(forward.steps.map { $0["status"] as? String } == ["done", "active", "pending", "active"], "no step is never done while the run is open")
        #expect(forward.steps.map { $0["movedPast"] != nil } == [false, true, true, false])
        let rows = try report(ahead, "md")
        #expect(try row(rows, "switch-traffic").hasPrefix("| 2 | · | ") && row(rows, "tell-the-channel").hasPrefix("| 4 | ▶ | "), "\(rows)")
        let junit = try report(ahead, "junit")
        #expect(junit.contains("<skipped message=\"MOVED PAST: goto from switch-traffic to tell-the-channel"), "\(junit)")
    }
}
