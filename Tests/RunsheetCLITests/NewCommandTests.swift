import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// `runsheet new`: every skeleton makes a runbook that passes check, nothing is overwritten
/// by accident, and odd values stay values.
@Suite struct NewCommandTests {
    @Test func listNamesEveryKindWithADescription() throws {
        let result = try Fixtures.runsheet(["new", "--list"])
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 10)
        for kind in ["blue-green", "canary", "rolling", "rollback", "db-migration", "emergency", "readiness", "release-plan", "upgrade", "pir"] {
            #expect(lines.contains { $0.hasPrefix(kind + " ") && $0.count > kind.count + 20 }, "\(kind)")
        }
    }

    @Test(arguments: RunbookSkeletons.kinds.map(\.name))
    func everyKindMakesARunbookThatPassesCheck(kind: String) throws {
        let dir = try Fixtures.temporaryDirectory()
        let path = "runbooks/\(kind).md"
        let made = try Fixtures.runsheet(["new", kind, path, "--param", "owner=team-a"], directory: dir)
        #expect(made.status == 0, "\(made.stderr)")
        #expect(made.stdout.hasPrefix("created \(path) (\(kind), "))
        #expect(made.stderr.isEmpty, "\(made.stderr)")
        let check = try Fixtures.runsheet(["check", "--strict", path], directory: dir)
        #expect(check.status == 0, "\(check.stdout)")
        let text = try String(contentsOf: dir.appendingPathComponent(path), encoding: .utf8)
        #expect(text.hasPrefix("---\nrunsheet: 1\n"))
        #expect(text.contains("owner: \"team-a\""))
        #expect(!text.contains("<%") && !text.contains("{{!"))
        let title = try #require(RunbookSkeletons.kind(kind)?.defaultTitle)
        #expect(text.contains("\n# \(title)\n"))
    }

    @Test func existingFilesAreKeptUnlessForced() throws {
        let dir = try Fixtures.temporaryDirectory()
        try "# Mine\n".write(to: dir.appendingPathComponent("ours.md"), atomically: true, encoding: .utf8)
        let refused = try Fixtures.runsheet(["new", "pir", "ours.md"], directory: dir)
        #expect(refused.status == 2 && refused.stderr == "runsheet: ours.md already exists; pass --force to overwrite it\n")
        #expect(try String(contentsOf: dir.appendingPathComponent("ours.md"), encoding: .utf8) == "# Mine\n")
        #expect(try Fixtures.runsheet(["new", "pir", "ours.md", "--force"], directory: dir).status == 0)
        #expect(try String(contentsOf: dir.appendingPathComponent("ours.md"), encoding: .utf8).contains("Post-implementation review"))
    }

    @Test func mistakesGetOneSentence() throws {
        let dir = try Fixtures.temporaryDirectory()
        let unknown = try Fixtures.runsheet(["new", "canery", "x.md"], directory: dir)
        #expect(unknown.status == 2 && unknown.stderr.hasPrefix("runsheet: there is no runbook kind 'canery'; the kinds are blue-green, canary,"))
        let param = try Fixtures.runsheet(["new", "canary", "x.md", "--param", "colour=red"], directory: dir)
        #expect(param.status == 2 && param.stderr.contains("'colour' is not a value this skeleton takes"))
        let missing = try Fixtures.runsheet(["new", "canary"], directory: dir)
        #expect(missing.status == 2 && missing.stderr.contains("name a kind and a path"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("x.md").path))
    }

    @Test func valuesWithYAMLSyntaxStayValues() throws {
        let dir = try Fixtures.temporaryDirectory()
        let made = try Fixtures.runsheet(["new", "canary", "c.md", "--param", #"title=Deploy: part "2" & more"#, "--param", "service=svc: x"], directory: dir)
        #expect(made.status == 0)
        let compiled = try Fixtures.runsheet(["compile", "c.md", "--format", "json"], directory: dir)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(compiled.stdout.utf8)) as? [String: Any])
        #expect(json["title"] as? String == #"Deploy: part "2" & more"#)
        #expect(json["service"] as? String == "svc: x")
        #expect(json["id"] as? String == "deploy-part-2-more")
    }

    /// A production skeleton names the items given (checked against the inventory) or leaves a
    /// comment where to, and says how a run names its change record.
    @Test func productionSkeletonsNameTheirItemsAndTheChangeRecord() throws {
        let dir = try Fixtures.temporaryDirectory()
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try "ref: refs/heads/main\n".write(to: dir.appendingPathComponent(".git/HEAD"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        try "roles:\n  sre: [alice]\n  dba: [dora]\n".write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        try "items:\n  primary-database: {owner: dba, criticality: low}\n  app-fleet: {owner: sre, criticality: low}\n"
            .write(to: dir.appendingPathComponent(".runsheet/inventory.yaml"), atomically: true, encoding: .utf8)
        let made = try Fixtures.runsheet(["new", "db-migration", "m.md", "--param", "owner=team-a", "--param", "components=primary-database, app-fleet"], directory: dir)
        #expect(made.status == 0, "\(made.stderr)")
        let text = try String(contentsOf: dir.appendingPathComponent("m.md"), encoding: .utf8)
        #expect(text.contains("\ncomponents: [\"primary-database\", \"app-fleet\"]\n") && text.contains("--change CHG"), "\(text)")
        let check = try Fixtures.runsheet(["check", "--strict", "m.md"], directory: dir)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        // The line is read as the runbook's items: one the inventory does not list is an error.
        #expect(try Fixtures.runsheet(["new", "rolling", "r.md", "--param", "components=no-such-item"], directory: dir).status == 0)
        let unknown = try Fixtures.runsheet(["check", "r.md"], directory: dir)
        #expect(unknown.status == 1 && unknown.stdout.contains("[unknown-item]"), "\(unknown.stdout)")
        // Without components: a comment where to name them, and nothing check would refuse.
        #expect(try Fixtures.runsheet(["new", "canary", "c.md", "--param", "owner=team-a"], directory: dir).status == 0)
        let plain = try String(contentsOf: dir.appendingPathComponent("c.md"), encoding: .utf8)
        #expect(plain.contains("\n# components: [ITEM]") && plain.contains("--change CHG"), "\(plain)")
        #expect(try Fixtures.runsheet(["check", "--strict", "c.md"], directory: dir).status == 0)
    }
}
