import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Issue 17, change records in what people read: the CSV report's `change` column, each
/// readiness item's run change record, and `metrics --change REF`.
@Suite struct ChangeRecordOutputTests {
    let base = ChangeRecordTests()

    @Test func theCSVReportHasAChangeColumn() throws {
        let dir = try base.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try RepositoryRuns.runsheet(["run", "upgrade.md", "--as", "alice", "--change", "CHG0012345"], in: dir, stdin: "done\n")
        #expect(run.status == 0, "\(run.stderr)")
        let id = try #require(base.runs(dir).first)
        let csv = try RepositoryRuns.runsheet(["report", id, "--format", "csv"], in: dir)
        let lines = csv.stdout.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasSuffix(",sign_off_signatures,change") == true, "\(csv.stdout)")
        #expect(lines.count == 2 && lines[1].hasSuffix(",CHG0012345"), "\(csv.stdout)")
        // A run that names none has the column empty.
        let tidy = try RepositoryRuns.runsheet(["run", "tidy.md", "--as", "alice"], in: dir, stdin: "done\n")
        #expect(tidy.status == 0, "\(tidy.stderr)")
        let other = try #require(base.runs(dir).first { $0.hasPrefix("tidy") })
        let empty = try RepositoryRuns.runsheet(["report", other, "--format", "csv"], in: dir)
        #expect(empty.stdout.split(separator: "\n").last?.hasSuffix(",") == true, "\(empty.stdout)")
    }

    @Test func readinessShowsEachItemsChangeRecord() throws {
        let dir = try base.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "---\ntarget: 2030-01-01\n---\n# Release\n\n## Requires\n\n- [Upgrade](upgrade.md)\n- [Tidy](tidy.md)\n"
            .write(to: dir.appendingPathComponent("release.md"), atomically: true, encoding: .utf8)
        #expect(try RepositoryRuns.runsheet(["run", "upgrade.md", "--as", "alice", "--change", "CHG0012345"], in: dir, stdin: "done\n").status == 0)
        #expect(try RepositoryRuns.runsheet(["run", "tidy.md", "--as", "alice"], in: dir, stdin: "done\n").status == 0)
        let md = try RepositoryRuns.runsheet(["readiness", "release.md", "--format", "md"], in: dir)
        let upgradeRow = md.stdout.split(separator: "\n").first { $0.contains("[Upgrade]") } ?? ""
        let tidyRow = md.stdout.split(separator: "\n").first { $0.contains("[Tidy]") } ?? ""
        #expect(upgradeRow.contains("(change CHG0012345)") && !tidyRow.contains("change"), "\(md.stdout)")
        let html = try RepositoryRuns.runsheet(["readiness", "release.md", "--format", "html"], in: dir)
        #expect(html.stdout.contains("(change CHG0012345)"), "\(html.stdout)")
        let json = try RepositoryRuns.runsheet(["readiness", "release.md", "--format", "json"], in: dir)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let items = try #require(object["items"] as? [[String: Any]])
        #expect(items.first { $0["title"] as? String == "Upgrade" }?["change"] as? String == "CHG0012345", "\(json.stdout)")
        #expect(items.first { $0["title"] as? String == "Tidy" }?["change"] == nil, "\(json.stdout)")
    }

    @Test func metricsFiltersByChangeRecordAndSaysSo() throws {
        let dir = try base.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        for change in ["CHG0012345", "CHG0099999", "CHG0099999"] {
            #expect(try RepositoryRuns.runsheet(["run", "upgrade.md", "--as", "alice", "--change", change], in: dir, stdin: "done\n").status == 0)
        }
        let json = try RepositoryRuns.runsheet(["metrics", "--change", "CHG0099999", "--format", "json"], in: dir)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], "\(json.stdout)\(json.stderr)")
        #expect(object["runs"] as? Int == 2 && object["change"] as? String == "CHG0099999", "\(json.stdout)")
        let md = try RepositoryRuns.runsheet(["metrics", "--change", "CHG0012345", "--format", "md"], in: dir)
        #expect(md.stdout.contains("1 runs") && md.stdout.contains("change record `CHG0012345`"), "\(md.stdout)")
        let html = try RepositoryRuns.runsheet(["metrics", "--change", "CHG0012345", "--format", "html"], in: dir)
        #expect(html.stdout.contains("change record <code>CHG0012345</code>"), "\(html.stdout)")
        // Exact: another letter case is another reference.
        let other = try RepositoryRuns.runsheet(["metrics", "--change", "chg0012345", "--format", "json"], in: dir)
        #expect((try JSONSerialization.jsonObject(with: Data(other.stdout.utf8)) as? [String: Any])?["runs"] as? Int == 0, "\(other.stdout)")
        let bad = try RepositoryRuns.runsheet(["metrics", "--change", "CHG 1"], in: dir)
        #expect(bad.status == 2 && bad.stderr.contains("holds a space"), "\(bad.stderr)")
    }
}
