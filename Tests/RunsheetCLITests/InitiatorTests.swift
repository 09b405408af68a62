import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Issue 17, who may start: the class policy's `initiators`. Only a member of one of those roles
/// starts or resumes a run with production steps; a runbook may narrow the list, never widen it;
/// with the attacks an insider would try.
@Suite struct InitiatorTests {
    static let runbook = """
        ---
        runsheet: 1
        id: db-upgrade
        title: Database upgrade
        production: true
        service: db
        environment: production
        ---

        # Upgrade

        - [ ] Upgrade the primary
        - [ ] Check the replicas
        """

    static let policy = "normal:\n  initiators: [release-manager]\n"

    func repository(policy: String = Self.policy, runbook: String = Self.runbook) throws -> URL {
        let dir = try Fixtures.temporaryDirectory()
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try "ref: refs/heads/main\n".write(to: dir.appendingPathComponent(".git/HEAD"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        // An insider put a Cyrillic look-alike of alice under sre: it is another person, who holds no initiator role.
        try "roles:\n  release-manager: [alice@example.com]\n  sre: [bob@example.com, alice@example.com, \u{0430}lice@example.com]\n"
            .write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        try policy.write(to: dir.appendingPathComponent(".runsheet/policy.yaml"), atomically: true, encoding: .utf8)
        try runbook.write(to: dir.appendingPathComponent("upgrade.md"), atomically: true, encoding: .utf8)
        return dir
    }

    func runs(_ dir: URL) -> [String] { RepositoryRuns.runs(in: dir) }

    @Test func onlyAnInitiatorStartsAProductionRun() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let refused = try RepositoryRuns.runsheet(["run", "upgrade.md", "--auto", "--as", "bob@example.com"], in: dir)
        #expect(refused.status == 1, "\(refused.stdout)\(refused.stderr)")
        #expect(refused.stderr.contains("only a release-manager may start a run of upgrade.md") && refused.stderr.contains("held by alice@example.com")
                && refused.stderr.contains("bob@example.com holds none") && refused.stderr.contains("nothing was written"), "\(refused.stderr)")
        #expect(refused.stderr.split(separator: "\n").count == 1, "one sentence: \(refused.stderr)")
        #expect(runs(dir).isEmpty)
        let dry = try RepositoryRuns.runsheet(["run", "upgrade.md", "--dry-run", "--as", "bob@example.com"], in: dir)
        #expect(dry.stdout.contains("would be refused: only a release-manager"), "\(dry.stdout)")
        let started = try RepositoryRuns.runsheet(["run", "upgrade.md", "--auto", "--as", "alice@example.com"], in: dir)
        #expect(started.status == 3, "\(started.stderr)")
    }

    /// Letter case is the same person (canonical identity); a Cyrillic look-alike or an invisible
    /// character is not, through --as and RUNSHEET_USER alike.
    @Test(arguments: [("ALICE@Example.com", true), ("\u{0430}lice@example.com", false), ("\u{FF41}lice@example.com", true), ("bob@example.com", false)])
    func nameVariantsAreDecidedCanonically(name: String, allowed: Bool) throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let viaFlag = try RepositoryRuns.runsheet(["run", "upgrade.md", "--auto", "--as", name], in: dir)
        #expect(viaFlag.status == (allowed ? 3 : 1), "\(name): \(viaFlag.stderr)")
        if !allowed { #expect(runs(dir).isEmpty && viaFlag.stderr.contains("only a release-manager"), "\(viaFlag.stderr)") }
        // A second repository: the first run holds the environment lock here.
        let other = try repository()
        defer { try? FileManager.default.removeItem(at: other) }
        let viaEnvironment = try Fixtures.runsheet(["run", "upgrade.md", "--auto", "--runs-dir", "runs"],
                                                   environment: ["NO_COLOR": "1", "RUNSHEET_USER": name], directory: other)
        #expect(viaEnvironment.status == (allowed ? 3 : 1), "\(name): \(viaEnvironment.stderr)")
        if !allowed { #expect(runs(other).isEmpty && viaEnvironment.stderr.contains("only a release-manager"), "\(viaEnvironment.stderr)") }
    }

    /// A non-initiator cannot drive someone else's run on; and resume applies today's rule, so a
    /// run started before the rule existed stops at its next resume by a non-initiator.
    @Test func aNonInitiatorCannotResume() throws {
        let dir = try repository(policy: "normal: {}\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        let started = try RepositoryRuns.runsheet(["run", "upgrade.md", "--auto", "--as", "alice@example.com"], in: dir)
        #expect(started.status == 3, "\(started.stderr)")
        let id = try #require(runs(dir).first)
        try Self.policy.write(to: dir.appendingPathComponent(".runsheet/policy.yaml"), atomically: true, encoding: .utf8)
        let journal = dir.appendingPathComponent("runs/\(id)/journal.jsonl")
        let before = try Data(contentsOf: journal)
        let resumed = try RepositoryRuns.runsheet(["resume", id, "--as", "bob@example.com"], in: dir, stdin: "done\n")
        #expect(resumed.status == 1, "\(resumed.stdout)\(resumed.stderr)")
        #expect(resumed.stderr.contains("only a release-manager may resume run \(id)") && resumed.stderr.contains("nothing was written"), "\(resumed.stderr)")
        #expect(try Data(contentsOf: journal) == before)
        let byInitiator = try RepositoryRuns.runsheet(["resume", id, "--as", "alice@example.com"], in: dir, stdin: "done\nquit\n")
        #expect(byInitiator.status == 3, "\(byInitiator.stderr)")
    }

    /// `--class` to a class without initiators lets more people start: a relaxation, refused
    /// without the repository's downgrade permission, allowed with it to the roles it names.
    @Test func anotherClassDoesNotDropTheInitiators() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        for releaseClass in ["major", "standard"] {
            let other = try RepositoryRuns.runsheet(["run", "upgrade.md", "--auto", "--as", "bob@example.com", "--class", releaseClass], in: dir)
            #expect(other.status == 1 && other.stderr.contains("people outside its initiator roles could start it"), "\(releaseClass): \(other.stderr)")
        }
        #expect(runs(dir).isEmpty)
        let permitted = try repository(policy: Self.policy + "  downgrade: {to: [major], roles: [release-manager]}\n")
        defer { try? FileManager.default.removeItem(at: permitted) }
        let byBob = try RepositoryRuns.runsheet(["run", "upgrade.md", "--auto", "--as", "bob@example.com", "--class", "major"], in: permitted)
        #expect(byBob.status == 1 && byBob.stderr.contains("lets only a release-manager choose it"), "\(byBob.stderr)")
        let byAlice = try RepositoryRuns.runsheet(["run", "upgrade.md", "--auto", "--as", "alice@example.com", "--class", "major"], in: permitted)
        #expect(byAlice.status == 3, "\(byAlice.stderr)")
    }

    /// Front matter may narrow the initiators; widening them is `weakens-governance`, and the run is refused.
    @Test func frontMatterMayNarrowButNotWiden() throws {
        let widened = Self.runbook.replacingOccurrences(of: "environment: production\n", with: "environment: production\npolicy:\n  normal:\n    initiators: [release-manager, sre]\n")
        let dir = try repository(runbook: widened)
        defer { try? FileManager.default.removeItem(at: dir) }
        let check = try Fixtures.runsheet(["check", "upgrade.md"], environment: ["NO_COLOR": "1"], directory: dir)
        #expect(check.status == 1 && check.stdout.contains("upgrade.md:10:5") && check.stdout.contains("[weakens-governance]")
                && check.stdout.contains("never widen it"), "\(check.stdout)\(check.stderr)")
        let run = try RepositoryRuns.runsheet(["run", "upgrade.md", "--auto", "--as", "bob@example.com"], in: dir)
        #expect(run.status != 0 && run.status != 3 && runs(dir).isEmpty, "\(run.stderr)")
        // Narrowing: the repository lets release-manager or sre start; this runbook only release-manager.
        let narrowed = Self.runbook.replacingOccurrences(of: "environment: production\n", with: "environment: production\npolicy:\n  normal:\n    initiators: [release-manager]\n")
        let other = try repository(policy: "normal:\n  initiators: [release-manager, sre]\n", runbook: narrowed)
        defer { try? FileManager.default.removeItem(at: other) }
        #expect(try Fixtures.runsheet(["check", "upgrade.md"], environment: ["NO_COLOR": "1"], directory: other).status == 0)
        let byBob = try RepositoryRuns.runsheet(["run", "upgrade.md", "--auto", "--as", "bob@example.com"], in: other)
        #expect(byBob.status == 1 && byBob.stderr.contains("only a release-manager may start"), "\(byBob.stderr)")
    }

    /// An initiator role nobody declares is an error where it is written; nobody can start the run.
    @Test func anUnknownRoleIsAnError() throws {
        let dir = try repository(policy: "normal:\n  initiators: [release-manger]\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        let check = try Fixtures.runsheet(["check", "upgrade.md"], environment: ["NO_COLOR": "1"], directory: dir)
        #expect(check.status == 1 && check.stdout.contains(".runsheet/policy.yaml:2:16") && check.stdout.contains("'release-manger' is not declared")
                && check.stdout.contains("did you mean 'release-manager'?"), "\(check.stdout)\(check.stderr)")
        let run = try RepositoryRuns.runsheet(["run", "upgrade.md", "--auto", "--as", "alice@example.com"], in: dir)
        #expect(run.status == 1 && runs(dir).isEmpty, "\(run.stderr)")
        let bad = try repository(policy: "normal:\n  initiators: {role: sre}\n")
        defer { try? FileManager.default.removeItem(at: bad) }
        let shape = try Fixtures.runsheet(["check", "upgrade.md"], environment: ["NO_COLOR": "1"], directory: bad)
        #expect(shape.status == 1 && shape.stdout.contains(".runsheet/policy.yaml:2:15") && shape.stdout.contains("must be a list of role names"), "\(shape.stdout)")
    }
}
