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
}
