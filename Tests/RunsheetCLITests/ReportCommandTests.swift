import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// `runsheet report` on a recorded run (a gate, a note, a failing health check that branched to
/// the rollback, a skip): every format against its expected file.
@Suite struct ReportCommandTests {
    static let fixture = Fixtures.outsideRepository("Tests/Fixtures/reports")
    static let runID = "release-20261122-093821-40d2"

    func report(_ arguments: [String]) throws -> ProcessResult {
        try Fixtures.runsheet(["report", Self.runID, "--runs-dir", "runs"] + arguments, directory: Self.fixture)
    }

    @Test(arguments: ["md", "html", "json", "junit", "csv"])
    func everyFormatMatchesItsExpectedFile(format: String) throws {
        let result = try report(["--format", format])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.isEmpty)
        try Golden.check(result.stdout, against: "reports/release.\(format == "junit" ? "junit.xml" : format)")
        // The same journal gives the same bytes.
        #expect(try report(["--format", format]).stdout == result.stdout)
    }

    @Test func contentsCarryTheRecord() throws {
        let json = try report(["--format", "json"]).stdout
        let decoded = try JSONDecoder().decode(RunReport.self, from: Data(json.utf8))
        #expect(decoded.schema == "runsheet.report/1")
        #expect(decoded.run.outcome == "rolled-back")
        #expect(decoded.run.params == ["version": "1.4.2"])
        #expect(decoded.run.runbookChanged == false)
        let health = try #require(decoded.steps.first { $0.id == "check-the-health-of-version" })
        #expect(health.status == "failed" && health.commands.first?.exit == 3 && health.branch == "restore-the-previous-version")
        #expect(decoded.steps.first { $0.id == "approve-the-release" }?.signOffs.first?.actor == "bob")
        #expect(decoded.steps.first { $0.id == "announce-the-release" }?.status == "pending")

        let junit = try report(["--format", "junit"]).stdout
        #expect(junit.contains(#"tests="6" failures="1" skipped="2""#))
        #expect(junit.contains(#"<failure message="command exited 3 (expected 0)">"#))
        #expect(junit.contains(#"<skipped message="nobody is online"/>"#))
        #expect(junit.contains(#"<skipped message="not reached: the step is pending"/>"#))
        #expect(junit.contains("&lt;CHANGELOG&gt;"))

        let md = try report(["--format", "md"]).stdout
        #expect(md.contains("```mermaid\ngantt\n"))
        #expect(md.contains(#"Tell the channel, "rollback done" \| with a pipe"#))
        let csv = try report(["--format", "csv"]).stdout
        #expect(csv.contains(#""Tell the channel, ""rollback done"" | with a pipe""#))

        let html = try report(["--format", "html"]).stdout
        #expect(html.contains("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(!html.contains("http://") || !html.contains("<script") && !html.contains("<link"))
        #expect(html.contains("tagged by hand, see &lt;CHANGELOG&gt;"))
    }

    @Test func teamsCanUseTheirOwnTemplate() throws {
        let dir = try Fixtures.temporaryDirectory()
        let template = dir.appendingPathComponent("ours.mustache").path
        try "{{% CONTENT_TYPE: TEXT}}\n{{run.id}} {{run.outcome}}{{#steps}}\n{{mark}} {{id}}{{/steps}}\n"
            .write(toFile: template, atomically: true, encoding: .utf8)
        let result = try report(["--template", template])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("\(Self.runID) rolled-back\n✓ tag-the-release\n✓ approve-the-release\n✗ check-the-health-of-version\n"))

        try "{{#steps}} never closed".write(toFile: template, atomically: true, encoding: .utf8)
        let broken = try report(["--template", template])
        #expect(broken.status == 2 && broken.stderr.hasPrefix("runsheet: \(template): the template is not valid Mustache"))
        let missing = try report(["--template", dir.appendingPathComponent("nope.mustache").path])
        #expect(missing.status == 2 && missing.stderr.contains("cannot read the template"))
        let output = dir.appendingPathComponent("report.md").path
        #expect(try report(["-o", output]).status == 0)
        #expect(try String(contentsOfFile: output, encoding: .utf8) == (try report([])).stdout)
    }

    /// Every file in templates/ is embedded under its name, and nothing else is: a new file needs
    /// its line in BuiltinTemplates.swift or SkeletonFiles.swift.
    @Test func builtInTemplatesAreTheFilesInTemplates() throws {
        let reports = Fixtures.packageRoot.appendingPathComponent("templates/reports")
        let layouts = try FileManager.default.contentsOfDirectory(atPath: reports.path).filter { $0.hasSuffix(".mustache") }
        let embedded = ["run": BuiltinTemplates.run, "readiness": BuiltinTemplates.readiness, "metrics": BuiltinTemplates.metrics]
        #expect(layouts.count == embedded.values.map(\.count).reduce(0, +))
        for file in layouts {
            let parts = file.split(separator: ".")
            let text = try String(contentsOf: reports.appendingPathComponent(file), encoding: .utf8)
            #expect(embedded[String(parts[0])]?[String(parts[1])] == text, "\(file) is not embedded as it is")
        }
        let skeletons = Fixtures.packageRoot.appendingPathComponent("templates/runbooks")
        let files = try FileManager.default.contentsOfDirectory(atPath: skeletons.path).filter { $0.hasSuffix(".mustache") }
        let kinds = files.filter { !$0.hasPrefix("_") }, partials = files.filter { $0.hasPrefix("_") }
        #expect(kinds.count == BuiltinTemplates.runbooks.count && !kinds.isEmpty)
        #expect(partials.count == BuiltinTemplates.runbookPartials.count && !partials.isEmpty)
        for file in kinds {
            let text = try String(contentsOf: skeletons.appendingPathComponent(file), encoding: .utf8)
            #expect(BuiltinTemplates.runbooks[String(file.dropLast(".md.mustache".count))] == text, "\(file) is not embedded as it is")
        }
        for file in partials {
            let text = try String(contentsOf: skeletons.appendingPathComponent(file), encoding: .utf8)
            #expect(BuiltinTemplates.runbookPartials[String(file.dropLast(".mustache".count))] == text, "\(file) is not embedded as it is")
            #expect(BuiltinTemplates.runbooks.values.contains { $0.contains("<%> \(file.dropLast(".mustache".count)) %>") }, "no skeleton uses \(file)")
        }
    }
}
