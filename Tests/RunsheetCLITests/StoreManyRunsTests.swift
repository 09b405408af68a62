import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// `status` (the list), `readiness` and `metrics` on the PostgreSQL store give what they give on
/// the same runs in their folders; a run the store holds that does not verify is flagged or left
/// out as in a folder, and readiness counts only runs of the release's own repository
/// (docs/TEAMS.md, "Readiness from the store"). Against a real server, through the binary.
@Suite(.serialized) struct StoreManyRunsTests {
    static let deploy = """
        ---
        id: deploy
        params:
          target:
            default: ok
        ---
        # Deploy

        - [ ] Deploy the service

          ```bash run
          test {{target}} != fail
          ```

        """

    /// A runbook whose runs require signatures: readiness wants each sealed after it ended.
    static let signed = """
        ---
        id: signed
        policy:
          signatures: required
        ---
        # Signed

        - [ ] Do it

          ```bash run
          true
          ```

        """

    static let release = """
        ---
        release: r-1
        target: 2030-01-10 10:00
        class: normal
        owner: alice
        ---
        # Release r-1

        ## Requires

        - [Deploy](deploy.md)
        - [Signed](signed.md)

        """

    func runsheet(_ arguments: [String], in dir: URL, environment: [String: String] = [:], stdin: String? = nil) throws -> ProcessResult {
        try Fixtures.run("/usr/bin/setsid", ["--wait", Fixtures.binary.path] + arguments, stdin: stdin,
                         environment: environment.merging(["NO_COLOR": "1"]) { $1 }, directory: dir)
    }

    /// A committed Git repository with roles, allowed signers for alice and bob, and the runbooks.
    func repository(files: [String: String]) throws -> (dir: URL, alice: String) {
        let dir = try Fixtures.temporaryDirectory("store-many")
        #expect(try Fixtures.run("/usr/bin/git", ["init", "-q", dir.path]).status == 0)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        try "roles:\n  sre: [alice, bob]\n".write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        for (name, text) in files { try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        let keys = dir.appendingPathComponent("keys")
        try FileManager.default.createDirectory(at: keys, withIntermediateDirectories: true)
        let alice = try SigningKeys.generate(name: "alice", in: keys)
        let bob = try SigningKeys.generate(name: "bob", in: keys)
        try SigningKeys.allow([("alice", alice), ("bob", bob)], in: dir)
        let committed = try Fixtures.run("/bin/sh", ["-c", "git add -A && git -c user.name=t -c user.email=t@example.com -c commit.gpgsign=false commit -qm rules"], directory: dir)
        #expect(committed.status == 0, "\(committed.stderr)")
        return (dir, alice)
    }

    func runs(_ dir: URL) -> Set<String> {
        Set((try? FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("runs").path)) ?? [])
    }

    /// Runs `arguments` as alice in `dir` and returns the id of the run it started.
    func start(_ arguments: [String], in dir: URL, status: Int32) throws -> String {
        let before = runs(dir)
        let started = try runsheet(arguments + ["--runs-dir", "runs", "--as", "alice", "--auto"], in: dir)
        #expect(started.status == status, "\(started.stdout)\(started.stderr)")
        let new = runs(dir).subtracting(before)
        #expect(new.count == 1)
        return try #require(new.first)
    }

    /// Output with each journal's name (its path, or the store and the run id) replaced by one word.
    func normalized(_ text: String, ids: [String], url: String) -> String {
        ids.reduce(text) { text, id in
            text.replacingOccurrences(of: "runs/\(id)/journal.jsonl", with: "JOURNAL \(id)").replacingOccurrences(of: "\(url) run \(id)", with: "JOURNAL \(id)")
        }
    }

    @Test func statusReadinessAndMetricsOnTheStoreGiveWhatTheFoldersGive() throws {
        let team = try PostgresStoreTests().team()
        let (dir, alice) = try repository(files: ["deploy.md": Self.deploy, "signed.md": Self.signed, "release.md": Self.release])
        defer { try? FileManager.default.removeItem(at: dir) }
        // Completed; failed (its check failed, and alice ended it); completed under required signatures but never sealed.
        let completed = try start(["run", "deploy.md"], in: dir, status: 0)
        Thread.sleep(forTimeInterval: 1.1)
        let failed = try start(["run", "deploy.md", "--param", "target=fail"], in: dir, status: 3)
        let ended = try runsheet(["resume", failed, "--runs-dir", "runs", "--as", "alice"], in: dir, stdin: "fail broken\n")
        #expect(ended.status != 0 || ended.stdout.contains("failed"), "\(ended.stdout)\(ended.stderr)")
        Thread.sleep(forTimeInterval: 1.1)
        let unsealed = try start(["run", "signed.md", "--key", alice], in: dir, status: 0)
        let ids = [completed, failed, unsealed]
        let url = team.store.url(user: team.alice.user)
        // A temporary folder of this test's own, so other store tests' laid-out runs are not counted as its leftovers.
        let scratch = try Fixtures.temporaryDirectory("store-many-tmp")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let environment = team.store.environment(password: team.alice.password).merging(["TMPDIR": scratch.path]) { $1 }
        let pushed = try runsheet(["store", "push"] + ids + ["--runs-dir", "runs", "--store", url], in: dir, environment: environment)
        #expect(pushed.status == 0, "\(pushed.stdout)\(pushed.stderr)")

        let at = Timestamp.format(Date().addingTimeInterval(3600))
        let commands = [["status"], ["readiness", "release.md", "--at", at], ["readiness", "release.md", "--at", at, "--format", "json"],
                        ["metrics", "--until", at, "--format", "json"], ["metrics", "--until", at]]
        func compare(expectFailure: Bool) throws {
            for command in commands {
                let folder = try runsheet(command + ["--store", "folder", "--runs-dir", "runs"], in: dir)
                let store = try runsheet(command + ["--store", url], in: dir, environment: environment)
                #expect(folder.status == store.status, "\(command): \(folder.status) \(folder.stderr) / \(store.status) \(store.stderr)")
                #expect(normalized(store.stdout, ids: ids, url: url) == normalized(folder.stdout, ids: ids, url: url) && !store.stdout.isEmpty,
                        "\(command):\n\(store.stdout)\n---\n\(folder.stdout)")
                #expect(normalized(store.stderr, ids: ids, url: url) == normalized(folder.stderr, ids: ids, url: url),
                        "\(command):\n\(store.stderr)\n---\n\(folder.stderr)")
                if command[0] == "readiness" { #expect(folder.status == 1, "NO-GO: the newest deploy failed, the signed run was never sealed") }
                if command == ["status"] { #expect(store.stdout.contains(completed) && store.stdout.contains("failed") && store.stdout.contains(unsealed)) }
                if expectFailure, command[0] != "readiness" { #expect(store.status == 1 && !store.stderr.isEmpty, "\(command): \(store.stderr)") }
            }
        }
        try compare(expectFailure: false)
        let readiness = try runsheet(["readiness", "release.md", "--at", at, "--store", url], in: dir, environment: environment)
        #expect(readiness.stdout.contains("seal") && readiness.stdout.contains(failed), "\(readiness.stdout)")

        // The owner inserts an event by hand, the triggers switched off: the run no longer verifies,
        // and every command flags it or leaves it out, as it does the same edit in a folder.
        let tamper = """
            ALTER TABLE runsheet.events DISABLE TRIGGER check_event;
            INSERT INTO runsheet.events (run, seq, line, hash, prev, actor)
                SELECT run, seq + 1, line, hash, hash, actor FROM runsheet.events WHERE run = '\(completed)' ORDER BY seq DESC LIMIT 1;
            ALTER TABLE runsheet.events ENABLE TRIGGER check_event;
            """
        let edited = try team.store.sql(tamper, user: team.store.owner, password: team.store.ownerPassword)
        #expect(edited.status == 0, "\(edited.stdout)\(edited.stderr)")
        let journal = dir.appendingPathComponent("runs/\(completed)/journal.jsonl")
        let lines = try String(contentsOf: journal, encoding: .utf8).split(separator: "\n")
        try (lines.map { $0 + "\n" }.joined() + (lines.last.map { $0 + "\n" } ?? "")).write(to: journal, atomically: true, encoding: .utf8)
        try compare(expectFailure: true)
        let flagged = try runsheet(["status", "--store", url], in: dir, environment: environment)
        #expect(flagged.stdout.contains("completed (does not verify)") && flagged.stderr.contains("\(url) run \(completed):"), "\(flagged.stdout)\(flagged.stderr)")
        // A command that acts on it refuses, naming the store and the run, not a temporary copy.
        for command in [["sign", completed, "approve", "--as", "alice@example.com"], ["reject", completed, "approve", "--reason", "no", "--as", "alice@example.com"]] {
            let refused = try runsheet(command + ["--store", url], in: dir, environment: environment)
            #expect(refused.status == 1 && refused.stderr.hasPrefix("runsheet: \(url) run \(completed):") && !refused.stderr.contains(scratch.path),
                    "\(command): \(refused.stderr)")
        }
        let tamperedReadiness = try runsheet(["readiness", "release.md", "--at", at, "--store", url], in: dir, environment: environment)
        #expect(tamperedReadiness.status == 1 && tamperedReadiness.stdout.contains("\(url) run \(completed):"), "\(tamperedReadiness.stdout)")
        // A newer run of a runbook with the same id, from another repository, in the same store:
        // listed by status, but never counted for this repository's release.
        let (other, _) = try repository(files: ["deploy.md": Self.deploy])
        defer { try? FileManager.default.removeItem(at: other) }
        let foreign = try start(["run", "deploy.md"], in: other, status: 0)
        let pushedForeign = try runsheet(["store", "push", foreign, "--runs-dir", "runs", "--store", url], in: other, environment: environment)
        #expect(pushedForeign.status == 0, "\(pushedForeign.stdout)\(pushedForeign.stderr)")
        for format in ["md", "json"] {
            let folder = try runsheet(["readiness", "release.md", "--at", at, "--format", format, "--store", "folder", "--runs-dir", "runs"], in: dir)
            let store = try runsheet(["readiness", "release.md", "--at", at, "--format", format, "--store", url], in: dir, environment: environment)
            #expect(store.status == folder.status && normalized(store.stdout, ids: ids, url: url) == normalized(folder.stdout, ids: ids, url: url),
                    "\(store.stdout)\n---\n\(folder.stdout)")
            #expect(!store.stdout.contains(foreign))
            #expect(store.stderr.contains("run \(foreign) in the store ") && store.stderr.contains(" is left out: it was started from deploy.md"), "\(store.stderr)")
        }
        let listed = try runsheet(["status", "--store", url], in: dir, environment: environment)
        #expect(listed.stdout.contains(foreign), "\(listed.stdout)")

        let leftovers = try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { $0.hasPrefix("runsheet-store-run-") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }
}
