import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// "As committed at HEAD" is read by Git, and fails closed (TRUST.md rule 7): the environment
/// (`GIT_DIR`, `GIT_WORK_TREE`) and replace refs cannot change what HEAD holds, and a repository
/// Git cannot read (git not on PATH, another user's repository, an orphan branch) stops what
/// counts by its rules instead of leaving the working copy to decide. Through the real binary.
@Suite struct GitReadingTests {
    let rules = CommittedRulesTests()
    let owner = CommittedReleaseOwnerTests()
    let close = ReleaseCloseTests()

    /// The committed config names a PostgreSQL store that cannot be reached (its halts cannot be
    /// read, so production steps do not start); the working copy says `store: folder`, uncommitted.
    func repository() throws -> URL {
        let dir = try rules.repository()
        let config = dir.appendingPathComponent(".runsheet/config.yaml")
        try "store: postgresql://olly@127.0.0.1:1/team?sslmode=disable\n".write(to: config, atomically: true, encoding: .utf8)
        try rules.git(dir, ["add", "-A"])
        try rules.git(dir, ["commit", "-qm", "store"])
        try "store: folder\n".write(to: config, atomically: true, encoding: .utf8)
        return dir
    }

    /// A folder run of the runbook with `environment`; and whether its production step ran.
    func run(_ dir: URL, environment: [String: String] = [:]) throws -> (result: ProcessResult, ranProduction: Bool) {
        let result = try Fixtures.runsheet(["run", "change.md", "--as", "olly", "--runs-dir", "runs", "--store", "folder"],
                                           stdin: "done\ndone\ndone\n", environment: environment, directory: dir)
        let id = try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path), "\(result.stdout)\(result.stderr)")
        let events = try JournalFile.read(at: dir.appendingPathComponent("runs/\(id)/journal.jsonl").path).events
        return (result, events.contains { $0.type == .stepCompleted && $0.step == "switch-traffic" })
    }

    /// A PATH with no git on it.
    func withoutGit() throws -> [String: String] {
        ["PATH": try Fixtures.temporaryDirectory().path]
    }

    /// Git's output in `dir`.
    func git(_ dir: URL, _ arguments: [String]) throws -> String {
        let result = try Fixtures.run("/usr/bin/git", ["-C", dir.path] + arguments)
        #expect(result.status == 0, "git \(arguments): \(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// GIT_DIR naming nothing or another repository, or GIT_WORK_TREE elsewhere, does not make the
    /// committed config unknown: the committed store's halts still apply and the production step does not run.
    @Test(arguments: ["nonexistent", "other", "worktree"])
    func theEnvironmentDoesNotRedirectGit(_ how: String) throws {
        let dir = try repository()
        let environment: [String: String] = switch how {
        case "nonexistent": ["GIT_DIR": "/nonexistent"]
        case "other": ["GIT_DIR": try rules.repository().appendingPathComponent(".git").path]
        default: ["GIT_WORK_TREE": "/tmp"]
        }
        let (result, ran) = try run(dir, environment: environment)
        #expect(!ran && result.status == 3 && result.stdout.contains("production steps do not start: the halts of the store"), "\(result.status) \(result.stdout)\(result.stderr)")
    }

    /// `git replace` of the committed config's blob by one saying `store: folder` does not change what HEAD holds.
    @Test func aReplaceRefDoesNotChangeWhatHEADHolds() throws {
        let dir = try repository()
        let committed = try git(dir, ["rev-parse", "HEAD:.runsheet/config.yaml"])
        let replacement = try git(dir, ["hash-object", "-w", ".runsheet/config.yaml"])
        _ = try git(dir, ["replace", committed, replacement])
        let (result, ran) = try run(dir)
        #expect(!ran && result.status == 3 && result.stdout.contains("production steps do not start: the halts of the store"), "\(result.status) \(result.stdout)\(result.stderr)")
    }

    /// An orphan branch (HEAD unborn in a repository with commits), or no git on PATH: Git cannot
    /// read what is committed, so production steps do not start, with a sentence naming the repository.
    @Test(arguments: ["orphan", "no git"])
    func aRepositoryGitCannotReadStopsProductionSteps(_ how: String) throws {
        let dir = try repository()
        if how == "orphan" { _ = try git(dir, ["checkout", "-q", "--orphan", "x"]) }
        let (result, ran) = try run(dir, environment: how == "orphan" ? [:] : try withoutGit())
        let said = how == "orphan" ? "its branch x has no commit while the repository has commits" : "git is not found on PATH"
        #expect(!ran && result.status == 3 && result.stdout.contains("production steps are blocked because ")
                && result.stdout.contains("Git cannot read the repository at \(dir.path) (\(said)") && !result.stdout.contains("restore the file"), "\(result.status) \(result.stdout)\(result.stderr)")
    }

    /// A repository Git refuses as another user's (dubious ownership): the same. Root only (chown).
    @Test func anotherUsersRepositoryStopsProductionSteps() throws {
        guard getuid() == 0 else { return }
        let dir = try repository()
        chown(dir.path, 65534, 65534)
        chown(dir.appendingPathComponent(".git").path, 65534, 65534)
        let (result, ran) = try run(dir)
        #expect(!ran && result.status == 3 && result.stdout.contains("dubious ownership") && result.stdout.contains("safe.directory"),
                "\(result.status) \(result.stdout)\(result.stderr)")
    }

    /// A repository with no commit at all: the working copy is all there is, as before.
    @Test func anEmptyRepositoryKeepsTheWorkingCopy() throws {
        let dir = try HaltTests().repository()
        try FileManager.default.removeItem(at: dir.appendingPathComponent(".git"))
        _ = try git(dir, ["init", "-q"])
        let (result, ran) = try run(dir)
        #expect(ran && result.status == 0, "\(result.status) \(result.stdout)\(result.stderr)")
    }

    /// The release owner: naming oneself `owner:` in the uncommitted release file does not let one
    /// close it with GIT_DIR redirected; with no git on PATH, closing is refused and readiness is NO-GO.
    @Test(arguments: ["GIT_DIR", "no git"])
    func theReleaseOwnerIsNotTakenFromTheWorkingCopy(_ how: String) throws {
        let dir = try owner.repository()
        try ReleaseCloseTests.release.replacingOccurrences(of: "owner: owen", with: "owner: olly")
            .write(to: dir.appendingPathComponent("release.md"), atomically: true, encoding: .utf8)
        let environment = how == "GIT_DIR" ? ["GIT_DIR": "/nonexistent"] : try withoutGit()
        let runs = ["--runs-dir", dir.appendingPathComponent("runs").path]
        let refused = try Fixtures.runsheet(["release", "close", "release.md", "--as", "olly"] + runs, environment: environment, directory: dir)
        let why = how == "GIT_DIR" ? "it differs from its version committed at HEAD" : "closing release rel-1 is refused: Git cannot read the repository at "
        #expect(refused.status == 1 && refused.stderr.contains(why) && refused.stderr.contains("nothing was written"), "\(refused.status) \(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: close.closures(dir)))
        if how == "no git" {
            let readiness = try Fixtures.runsheet(["readiness", "release.md"] + runs, environment: environment, directory: dir)
            #expect(readiness.stdout.contains("NO-GO") && readiness.stdout.contains("git is not found on PATH"), "\(readiness.status) \(readiness.stdout)\(readiness.stderr)")
        }
    }

    /// A PIR is not marked done where Git cannot read the repository: the owner who marks it is
    /// the release file's as committed at HEAD, which nobody can then say (exit 1, nothing written).
    @Test func aPIRIsRefusedWhereGitCannotRead() throws {
        let dir = try ReleasePIRTests().closedWithAnException()
        let closures = URL(fileURLWithPath: close.closures(dir))
        let before = try Data(contentsOf: closures)
        let pir = try Fixtures.runsheet(["release", "pir", "release.md", "--as", "owen", "--link", "https://wiki.example.com/pir/1",
                                         "--runs-dir", dir.appendingPathComponent("runs").path], environment: try withoutGit(), directory: dir)
        #expect(pir.status == 1 && pir.stderr.contains("marking the PIR of release rel-1 done is refused: Git cannot read the repository at ")
                && pir.stderr.contains("nothing was written"), "\(pir.status) \(pir.stderr)")
        #expect(try Data(contentsOf: closures) == before)
        // With Git, the same owner marks it done.
        let done = try close.runsheet(["release", "pir", "release.md", "--as", "owen", "--link", "https://wiki.example.com/pir/1"], in: dir)
        #expect(done.status == 0, "\(done.stderr)")
    }

    /// A halt is not lifted where Git cannot read the repository (exit 1, nothing written).
    @Test func aLiftIsRefusedWhereGitCannotRead() throws {
        let dir = try rules.repository()
        #expect(try Fixtures.runsheet(["halt", "--as", "rita", "--reason", "INC-2041"], directory: dir).status == 0)
        let halts = dir.appendingPathComponent(".runsheet/halts.jsonl")
        let before = try Data(contentsOf: halts)
        let lift = try Fixtures.runsheet(["halt", "--lift", "--as", "rita", "--reason", "fixed"], environment: try withoutGit(), directory: dir)
        #expect(lift.status == 1 && lift.stderr.contains("lifting a halt is refused: Git cannot read the repository at ") && lift.stderr.contains("nothing was written"),
                "\(lift.status) \(lift.stderr)")
        #expect(try Data(contentsOf: halts) == before)
    }
}
