import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Rules kept beside the runbooks (runbooks/.runsheet/, as the repository's own example) and
/// acts run from the repository's root: `halt --runbooks DIR` finds them where a run of a
/// runbook there does; without it, one sentence says where it looked and how to name the folder;
/// `release close` finds them from the release file's folder, as readiness does.
@Suite struct GovernedFolderTests {
    /// The repository's root holds no .runsheet/; runbooks/ holds the rules, the runbook and a release.
    func repository() throws -> URL {
        let dir = try Fixtures.temporaryDirectory()
        let manager = FileManager.default
        try manager.createDirectory(at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try "ref: refs/heads/main\n".write(to: dir.appendingPathComponent(".git/HEAD"), atomically: true, encoding: .utf8)
        let runbooks = dir.appendingPathComponent("runbooks")
        try manager.createDirectory(at: runbooks.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        try "roles:\n  release-manager: [rita]\n  operator: [olly, owen]\n"
            .write(to: runbooks.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        try HaltTests.runbook.write(to: runbooks.appendingPathComponent("change.md"), atomically: true, encoding: .utf8)
        try ReleaseCloseTests.release.write(to: runbooks.appendingPathComponent("release.md"), atomically: true, encoding: .utf8)
        return dir
    }

    func runsheet(_ arguments: [String], in dir: URL, stdin: String? = nil) throws -> ProcessResult {
        try Fixtures.runsheet(arguments, stdin: stdin, directory: dir)
    }

    @Test func haltFromTheRootNamesTheGovernedFolder() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let halts = dir.appendingPathComponent("runbooks/.runsheet/halts.jsonl").path
        let lost = try runsheet(["halt", "--as", "rita", "--reason", "INC-2041"], in: dir)
        #expect(lost.status == 2, "\(lost.stderr)")
        #expect(lost.stderr.contains("no .runsheet/roles.yaml was found from") && lost.stderr.contains("--runbooks runbooks")
                && lost.stderr.contains("runbooks/.runsheet/"), "\(lost.stderr)")
        #expect(lost.stderr.split(separator: "\n").count == 1, "\(lost.stderr)")
        #expect(!FileManager.default.fileExists(atPath: halts))
        let notAFolder = try runsheet(["halt", "--runbooks", "nowhere", "--as", "rita", "--reason", "INC-2041"], in: dir)
        #expect(notAFolder.status == 2 && notAFolder.stderr.contains("--runbooks nowhere is not a folder"), "\(notAFolder.stderr)")
        let halted = try runsheet(["halt", "--runbooks", "runbooks", "--as", "rita", "--reason", "INC-2041 checkout errors"], in: dir)
        #expect(halted.status == 0, "\(halted.stderr)")
        #expect(FileManager.default.fileExists(atPath: halts))
        // status lists it when named the same way.
        let status = try runsheet(["status", "--runbooks", "runbooks", "--runs-dir", "runs"], in: dir)
        #expect(status.stdout.contains("halt 1: production halted by rita") && status.stdout.contains("INC-2041"), "\(status.stdout)\(status.stderr)")
        // The rules named are the ones a run of runbooks/change.md obeys, started from the root too.
        let run = try runsheet(["run", "runbooks/change.md", "--as", "olly", "--runs-dir", "runs"], in: dir, stdin: "done\ndone\nquit\n")
        #expect(run.stdout.contains("halted by rita") && run.stdout.contains("INC-2041"), "\(run.stdout)\(run.stderr)")
        let id = try #require(RepositoryRuns.runs(in: dir).first)
        let events = try RepositoryRuns.events(dir, id: id)
        #expect(!events.contains { ($0["type"] as? String) == "step.completed" && ($0["step"] as? String) == "switch-traffic" })
        // The roles are those of runbooks/.runsheet/ too: olly holds no exception role there.
        let olly = try runsheet(["halt", "--lift", "--runbooks", "runbooks", "--as", "olly"], in: dir)
        #expect(olly.status == 1 && olly.stderr.contains("runbooks/.runsheet/roles.yaml"), "\(olly.stderr)")
        let lifted = try runsheet(["halt", "--lift", "--runbooks", "runbooks", "--as", "rita"], in: dir)
        #expect(lifted.status == 0 && lifted.stdout.contains("lifted halt 1"), "\(lifted.stdout)\(lifted.stderr)")
    }

    @Test func releaseCloseFromTheRootFindsTheRulesFromTheReleaseFile() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try runsheet(["run", "runbooks/change.md", "--as", "olly", "--runs-dir", "runbooks/runs"], in: dir, stdin: "done\ndone\ndone\n").status == 0)
        let closed = try runsheet(["release", "close", "runbooks/release.md", "--as", "rita", "--runs-dir", "runbooks/runs"], in: dir)
        #expect(closed.status == 0, "\(closed.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("runbooks/.runsheet/closures.jsonl").path))
        let readiness = try runsheet(["readiness", "runbooks/release.md", "--runs-dir", "runbooks/runs"], in: dir)
        #expect(readiness.stdout.contains("| Closed | closed by rita at"), "\(readiness.stdout)")
        // A release kept where no rules apply says where they were looked for.
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("releases"), withIntermediateDirectories: true)
        try ReleaseCloseTests.release.replacingOccurrences(of: "(change.md)", with: "(../runbooks/change.md)")
            .write(to: dir.appendingPathComponent("releases/release.md"), atomically: true, encoding: .utf8)
        let elsewhere = try runsheet(["release", "close", "releases/release.md", "--as", "rita", "--runs-dir", "runbooks/runs"], in: dir)
        #expect(elsewhere.status == 2 && elsewhere.stderr.contains("no .runsheet/roles.yaml was found from") && elsewhere.stderr.contains("release file's folder"), "\(elsewhere.stderr)")
    }
}
