import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// A lift or a closure records the rule files it was made under (`data.rules`, SHA-256 by path);
/// one made under a roles file that is no version in the repository's committed history (a
/// clone's own edit) does not count, and status and readiness say why. Found by the adversary (such a lift counted).
@Suite struct CommittedRulesTests {
    func git(_ dir: URL, _ arguments: [String]) throws {
        let result = try Fixtures.run("/usr/bin/git", ["-C", dir.path, "-c", "user.name=T", "-c", "user.email=t@example.com"] + arguments)
        #expect(result.status == 0, "git \(arguments): \(result.stderr)")
    }

    func repository() throws -> URL {
        let dir = try HaltTests().repository()
        try FileManager.default.removeItem(at: dir.appendingPathComponent(".git"))
        try git(dir, ["init", "-q"])
        try git(dir, ["add", "-A"])
        try git(dir, ["commit", "-qm", "rules"])
        return dir
    }

    static let withOlly = "roles:\n  release-manager: [rita, olly]\n  operator: [olly]\n"

    @Test func aLiftMadeUnderAnUncommittedRolesFileDoesNotCount() throws {
        let dir = try repository()
        #expect(try Fixtures.runsheet(["halt", "--as", "rita", "--reason", "INC-2041"], directory: dir).status == 0)
        let halt = try #require(try GovernanceLog(path: dir.appendingPathComponent(".runsheet/halts.jsonl").path, name: "halts").read().first)
        #expect(halt.data["rules"] != nil, "a halt records the rules it was made under: \(halt.data)")
        // Olly gives himself the role in his working copy and lifts: the lift is written, and does not count.
        try Self.withOlly.write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        let lifted = try Fixtures.runsheet(["halt", "--lift", "--as", "olly"], directory: dir)
        #expect(lifted.status == 0, "\(lifted.stderr)")
        let status = try Fixtures.runsheet(["status", "--runs-dir", "runs"], directory: dir)
        #expect(status.stdout.contains("halt 1: production halted by rita") && status.stdout.contains("lift 2 by olly does not count: it was made under .runsheet/roles.yaml at SHA-256"),
                "\(status.stdout)")
        let run = try Fixtures.runsheet(["run", "change.md", "--as", "olly", "--runs-dir", "runs"], stdin: "done\ndone\n", directory: dir)
        #expect(run.status == 3 && run.stdout.contains("production is halted by rita"), "\(run.stdout)")
    }

    /// Committed in a clone and shared only as the lift: the team's repository, whose roles file
    /// later gives Olly the role in other words, never had the version the lift names.
    @Test func aLiftMadeInACloneUnderItsOwnCommitDoesNotCountInTheTeamsRepository() throws {
        let team = try repository()
        #expect(try Fixtures.runsheet(["halt", "--as", "rita", "--reason", "INC-2041"], directory: team).status == 0)
        let clone = try Fixtures.temporaryDirectory("clone")
        try FileManager.default.removeItem(at: clone)
        let cloned = try Fixtures.run("/usr/bin/git", ["clone", "-q", team.path, clone.path])
        #expect(cloned.status == 0, "\(cloned.stderr)")
        try FileManager.default.copyItem(at: team.appendingPathComponent(".runsheet/halts.jsonl"), to: clone.appendingPathComponent(".runsheet/halts.jsonl"))
        try Self.withOlly.write(to: clone.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        try git(clone, ["commit", "-qam", "olly is a release manager"])
        let lifted = try Fixtures.runsheet(["halt", "--lift", "--as", "olly"], directory: clone)
        #expect(lifted.status == 0, "\(lifted.stderr)")
        // In the clone its own commit is history; the lift is shared back to the team's repository.
        try FileManager.default.removeItem(at: team.appendingPathComponent(".runsheet/halts.jsonl"))
        try FileManager.default.copyItem(at: clone.appendingPathComponent(".runsheet/halts.jsonl"), to: team.appendingPathComponent(".runsheet/halts.jsonl"))
        try "roles:\n  # olly joined the release managers\n  release-manager: [rita, olly]\n  operator: [olly]\n"
            .write(to: team.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        try git(team, ["commit", "-qam", "olly joins"])
        let status = try Fixtures.runsheet(["status", "--runs-dir", "runs"], directory: team)
        #expect(status.stdout.contains("halt 1: production halted by rita") && status.stdout.contains("lift 2 by olly does not count"), "\(status.stdout)")
    }
}
