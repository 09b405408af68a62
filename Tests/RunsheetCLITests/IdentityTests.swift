import Foundation
import RunsheetTestSupport
import Testing

/// Issue 12, item 1: one person written in another letter case, width or composition is still one
/// person, for separation of duties, distinct-signer counts and "already signed".
@Suite struct IdentityTests {
    static let runbook = """
        ---
        runsheet: 1
        id: identity
        title: Identity
        roles: [sre]
        ---

        # Change

        - [ ] Approve the change
          - Sign-off: 2 of sre
          - Separation: starter
        - [ ] Make the change
        """

    func repository() throws -> URL {
        let dir = try Fixtures.temporaryDirectory()
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        try "roles:\n  sre: [alice@example.com, bob@example.com, carol@example.com]\n"
            .write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        try Self.runbook.write(to: dir.appendingPathComponent("change.md"), atomically: true, encoding: .utf8)
        return dir
    }

    func runsheet(_ arguments: [String], in dir: URL, stdin: String? = nil) throws -> ProcessResult {
        try RepositoryRuns.runsheet(arguments, in: dir, stdin: stdin)
    }

    func events(_ dir: URL, id: String) throws -> [[String: Any]] { try RepositoryRuns.events(dir, id: id) }

    /// The starter of a run with production steps must be named in the roles file: anyone else is
    /// refused before anything is written; the same person in other letters is not anyone else.
    @Test func onlyPeopleInTheRolesFileStartAProductionRun() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let production = Self.runbook.replacingOccurrences(of: "- [ ] Make the change", with: "- [ ] Make the change\n  - Production: yes")
        try production.write(to: dir.appendingPathComponent("change.md"), atomically: true, encoding: .utf8)
        let stranger = try runsheet(["run", "change.md", "--auto", "--as", "mallory@example.com"], in: dir)
        #expect(stranger.status == 1, "\(stranger.stdout)\(stranger.stderr)")
        #expect(stranger.stderr.contains("mallory@example.com is not named in") && stranger.stderr.contains("step 'make-the-change' is a production change"),
                "\(stranger.stderr)")
        let runs = dir.appendingPathComponent("runs").path
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: runs)) ?? []).isEmpty, "nothing is written for a refused start")
        let member = try runsheet(["run", "change.md", "--auto", "--as", "ALICE@Example.com"], in: dir)
        #expect(member.status == 3, "\(member.stdout)\(member.stderr)")
        let id = try #require(Fixtures.onlyRun(in: runs))
        // The name as typed, the canonical form compared, and the OS account of the process, on every event.
        let journal = try events(dir, id: id)
        #expect(!journal.isEmpty && journal.allSatisfy {
            $0["actor"] as? String == "ALICE@Example.com" && $0["canonical"] as? String == "alice@example.com"
                && $0["uid"] as? Int == Int(getuid()) && ($0["login"] as? String)?.isEmpty == false
        }, "\(journal)")
        let audit = try runsheet(["audit", id], in: dir)
        #expect(audit.stdout.contains("ALICE@Example.com@") && audit.stdout.contains("; uid \(getuid()) "), "\(audit.stdout)")
        #expect(try runsheet(["verify", id], in: dir).status == 0)
    }

    @Test func letterCaseWidthAndCompositionNeverMakeASecondPerson() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let started = try runsheet(["run", "change.md", "--auto", "--as", "alice@example.com"], in: dir)
        #expect(started.status == 3, "\(started.stdout)\(started.stderr)")
        let id = try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))

        // The starter in disguise is still the starter.
        for disguise in ["ALICE@example.com", "Alice@Example.com", " alice@example.com", "ａｌｉｃｅ@example.com"] {
            let own = try runsheet(["sign", id, "approve-the-change", "--as", disguise], in: dir)
            #expect(own.status == 1, "\(disguise): \(own.stdout)\(own.stderr)")
            #expect(own.stderr.contains("started this run"), "\(disguise): \(own.stderr)")
        }
        #expect(try runsheet(["sign", id, "approve-the-change", "--as", "bob@example.com"], in: dir).status == 0)
        // Bob again, in other letters: already signed, not a second approver.
        for disguise in ["BOB@example.com", "Bob@Example.COM"] {
            let again = try runsheet(["sign", id, "approve-the-change", "--as", disguise], in: dir)
            #expect(again.status == 1, "\(disguise): \(again.stdout)\(again.stderr)")
            #expect(again.stderr.contains("already signed"), "\(disguise): \(again.stderr)")
        }
        #expect(try events(dir, id: id).filter { $0["type"] as? String == "signoff.signed" }.count == 1)

        // The gate still needs a second person: the run does not pass it.
        let stillWaiting = try runsheet(["resume", id, "--as", "alice@example.com"], in: dir, stdin: "done\nquit\n")
        #expect(stillWaiting.status == 3, "\(stillWaiting.stdout)\(stillWaiting.stderr)")
        #expect(stillWaiting.stdout.contains("needs 1 more of sre"), "\(stillWaiting.stdout)")
        #expect(!(try events(dir, id: id)).contains { $0["type"] as? String == "step.completed" && $0["step"] as? String == "approve-the-change" })

        // A real second person opens it; role membership ignores letter case as it always did.
        #expect(try runsheet(["sign", id, "approve-the-change", "--as", "Carol@Example.com"], in: dir).status == 0)
        let finished = try runsheet(["resume", id, "--as", "alice@example.com"], in: dir, stdin: "done\nquit\n")
        #expect((try events(dir, id: id)).contains { $0["type"] as? String == "step.completed" && $0["step"] as? String == "approve-the-change" },
                "\(finished.stdout)\(finished.stderr)")
    }
}
