import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// `runsheet metrics` counts the steps completed runs left never done (moved past with `goto`,
/// never done nor skipped with a reason), judged against the runbook as it is now, in every
/// format; a run whose runbook no longer compiles counts none, and the metrics say so.
@Suite struct MetricsNeverDoneTests {
    /// Prepare done; at switch-traffic, goto the last step and do it: switch-traffic and clean-up are never done.
    static let jumped = "done\ngoto tell-the-channel\ndone\n"
    /// The same goto, then back to switch-traffic, which is done (or skipped with a reason), and on to the end.
    static let doneLater = "done\ngoto tell-the-channel\ngoto switch-traffic\ndone\ndone\ndone\n"
    static let skippedLater = "done\ngoto tell-the-channel\ngoto switch-traffic\nskip not needed for this release\ndone\ndone\n"

    /// A folder with `NeverDoneReportTests.runbook` and one completed run per script, in order; the run ids.
    func runs(_ scripts: [String]) throws -> (dir: URL, ids: [String]) {
        let dir = try Fixtures.temporaryDirectory()
        try NeverDoneReportTests.runbook.write(to: dir.appendingPathComponent("jump.md"), atomically: true, encoding: .utf8)
        var ids: [String] = []
        for script in scripts {
            let result = try Fixtures.runsheet(["run", "jump.md", "--as", "alice", "--runs-dir", "runs"], stdin: script, directory: dir)
            #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
            let all = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("runs").path).filter { !$0.hasPrefix(".") }
            ids.append(try #require(all.first { !ids.contains($0) }))
        }
        return (dir, ids)
    }

    func metrics(_ dir: URL, _ format: String) throws -> ProcessResult {
        try Fixtures.runsheet(["metrics", "--format", format, "--runs-dir", "runs"], environment: ["NO_COLOR": "1"], directory: dir)
    }

    /// The JSON metrics as a consumer reads them (`runsheet.metrics/1`, with its added keys).
    func decoded(_ dir: URL) throws -> Figures {
        let result = try metrics(dir, "json")
        #expect(result.status == 0, "\(result.stderr)")
        return Figures(object: try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]))
    }

    struct Figures {
        var object: [String: Any]
        var steps: [[String: Any]] { object["steps"] as? [[String: Any]] ?? [] }
        /// `runbook/step` of each step of `mostNeverDone`; nil when the key is missing.
        var mostNeverDone: [String]? { (object["mostNeverDone"] as? [[String: Any]])?.map { "\($0["runbook"] ?? "")/\($0["step"] ?? "")" } }
        var notCounted: [[String: Any]]? { object["neverDoneNotCounted"] as? [[String: Any]] }

        /// `neverDone`, `neverDoneOf` and `skipped` of `step`.
        func counts(_ step: String) throws -> [Int?] {
            let stat = try #require(steps.first { $0["step"] as? String == step }, "\(steps)")
            return ["neverDone", "neverDoneOf", "skipped"].map { stat[$0] as? Int }
        }
    }

    @Test func everyFormatCountsTheStepsRunsLeftNeverDone() throws {
        let (dir, _) = try runs([Self.jumped, Self.doneLater, Self.skippedLater, "done\ndone\ndone\ndone\n"])
        let figures = try decoded(dir)
        // Four completed runs started with each step; only the first left switch-traffic and clean-up never done.
        #expect(try figures.counts("switch-traffic") == [1, 4, 1])
        #expect(try figures.counts("clean-up") == [1, 4, 0])
        #expect(try figures.counts("prepare") == [0, 4, 0] && figures.counts("tell-the-channel") == [0, 4, 0])
        #expect(figures.mostNeverDone == ["jump/clean-up", "jump/switch-traffic"])
        #expect(figures.notCounted?.isEmpty == true)

        let markdown = try metrics(dir, "md")
        #expect(markdown.status == 0 && markdown.stderr.isEmpty, "\(markdown.stderr)")
        #expect(markdown.stdout.contains("""
            ## Steps most often never done

            | Runbook | Step | Never done | Failed | Skipped |
            |---|---|---|---|---|
            | jump | clean-up | 1 of 4 runs | 0 | 0 |
            | jump | switch-traffic | 1 of 4 runs | 0 | 1 |
            """), "\(markdown.stdout)")
        #expect(markdown.stdout.contains("| jump | switch-traffic | 1 | 0 | 1 |"), "the skips list shows never done beside skipped and failed: \(markdown.stdout)")

        let html = try metrics(dir, "html")
        #expect(html.status == 0 && html.stderr.isEmpty, "\(html.stderr)")
        #expect(html.stdout.contains("<h2>Steps most often never done</h2>"), "\(html.stdout)")
        #expect(html.stdout.contains("<tr class=\"never-done\"><td>jump</td><td>switch-traffic</td><td class=\"num\">1 of 4 runs</td><td class=\"num\">0</td><td class=\"num\">1</td></tr>"), "\(html.stdout)")

        let csv = try metrics(dir, "csv")
        #expect(csv.status == 0 && csv.stderr.isEmpty, "\(csv.stderr)")
        let rows = csv.stdout.split(separator: "\n").map(String.init)
        #expect(rows.filter { $0.contains("never done") } == [",,never done: jump/clean-up,runs,4,1,,", ",,never done: jump/switch-traffic,runs,4,1,,"], "\(csv.stdout)")
    }

    @Test func aStepDoneOrSkippedWithAReasonAfterTheGotoIsNotNeverDone() throws {
        let (dir, _) = try runs([Self.doneLater, Self.skippedLater])
        let figures = try decoded(dir)
        #expect(try figures.counts("switch-traffic") == [0, 2, 1] && figures.counts("clean-up") == [0, 2, 0])
        #expect(figures.steps.allSatisfy { $0["neverDone"] as? Int == 0 } && figures.mostNeverDone == [])
        let markdown = try metrics(dir, "md").stdout
        #expect(markdown.contains("## Steps most often never done\n\nNone left never done.\n"), "\(markdown)")
        #expect(!(try metrics(dir, "csv").stdout.contains("never done")))
    }

    @Test func aRunbookThatNoLongerCompilesCountsNoneAndSaysWhichRun() throws {
        let (dir, ids) = try runs([Self.jumped])
        let run = try #require(ids.first)
        // The runbook now links its failure branch to a section that does not exist.
        try (NeverDoneReportTests.runbook + "\n## Tail\n\n* On failure: [Nowhere](#nowhere)\n\n- [ ] Last\n")
            .write(to: dir.appendingPathComponent("jump.md"), atomically: true, encoding: .utf8)
        let check = try Fixtures.runsheet(["check", "jump.md"], directory: dir)
        #expect(check.status != 0, "the edited runbook must not compile: \(check.stdout)")
        let sentence = "never-done steps of run \(run) are not counted: jump.md has 1 error(s); fix them first ('runsheet check jump.md')"

        let figures = try decoded(dir)
        let problem = "jump.md has 1 error(s); fix them first ('runsheet check jump.md')"
        #expect(figures.notCounted?.map { "\($0["run"] ?? "") \($0["problem"] ?? "")" } == ["\(run) \(problem)"])
        #expect(figures.steps.allSatisfy { $0["neverDone"] as? Int == 0 && $0["neverDoneOf"] as? Int == 0 } && figures.mostNeverDone == [])

        for format in ["md", "html", "csv"] {
            let result = try metrics(dir, format)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr == "runsheet: \(sentence)\n", "\(format): \(result.stderr)")
            switch format {
            case "md": #expect(result.stdout.contains("None left never done.\n\n\(MarkdownText.inline(sentence))\n"), "\(result.stdout)")
            case "html": #expect(result.stdout.contains("<p class=\"not-counted\">never-done steps of run \(run) are not counted: jump.md has 1 error(s); fix them first (&#39;runsheet check jump.md&#39;)</p>"), "\(result.stdout)")
            default: #expect(result.stdout.split(separator: "\n").contains(",,never done not counted: run \(run),,,,,"), "\(result.stdout)")
            }
        }

        // A runbook that is gone: the same, with the reason.
        try FileManager.default.removeItem(at: dir.appendingPathComponent("jump.md"))
        let gone = try decoded(dir)
        let reason = try #require(gone.notCounted?.first?["problem"] as? String)
        #expect(gone.notCounted?.map { $0["run"] as? String } == [run] && reason.hasPrefix("jump.md: no such file"), "\(reason)")
    }
}
