import Foundation
import RunsheetTestSupport
import Testing

/// Found by the adversary (issue 12): a rule file changed for the length of one `sign` command and
/// put back. A waiver, a calendar exception or a follow-up review given under those rules counted
/// afterwards, although the rules the run is under never allowed it. Grants are now checked against
/// the rules as they are whenever they are used, as signatures always were.
@Suite struct GrantsUnderTodaysRulesTests {
    static let roles = "roles:\n  sre: [alice, bob, carol]\n  release-manager: [rita]\n"
    static let runbook = """
        ---
        roles: [sre, release-manager]
        ---
        # Deploy

        - [ ] Prepare
        - [ ] Approve
          - Id: approve
          - Sign-off: 2 of sre
          - Separation: starter
        - [ ] Ship it
          - Id: ship
          - Production: yes

          ```bash run
          echo SHIPPED
          ```
        """

    func repository(runbook: String = Self.runbook, calendar: String? = nil) throws -> URL {
        let dir = try Fixtures.temporaryDirectory()
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        try Self.roles.write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        if let calendar { try calendar.write(to: dir.appendingPathComponent(".runsheet/calendar.yaml"), atomically: true, encoding: .utf8) }
        try runbook.write(to: dir.appendingPathComponent("deploy.md"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("releases"), withIntermediateDirectories: true)
        try "---\nrelease: r1\n---\n# R1\n\n## Requires\n\n- [Deploy](../deploy.md)\n"
            .write(to: dir.appendingPathComponent("releases/r1.md"), atomically: true, encoding: .utf8)
        return dir
    }

    func runsheet(_ arguments: [String], in dir: URL, stdin: String? = nil) throws -> ProcessResult {
        try RepositoryRuns.runsheet(arguments, in: dir, stdin: stdin)
    }

    /// Writes `text` to the file for as long as `body` runs, then puts the old contents back.
    func whileFile(_ path: URL, says text: String, _ body: () throws -> Void) throws {
        let kept = try Data(contentsOf: path)
        try text.write(to: path, atomically: true, encoding: .utf8)
        try body()
        try kept.write(to: path)
    }

    @Test func aWaiverBySomeoneGivenTheRoleForOneCommandDoesNotCount() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try runsheet(["run", "deploy.md", "--as", "alice"], in: dir, stdin: "done\nquit\n").status == 3)
        let id = try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))
        try whileFile(dir.appendingPathComponent(".runsheet/roles.yaml"), says: Self.roles.replacingOccurrences(of: "[rita]", with: "[rita, mallory]")) {
            let signed = try runsheet(["sign", id, "approve", "--waive", "--as", "mallory", "--reason", "CAB ok"], in: dir)
            #expect(signed.status == 0, "\(signed.stderr)")
        }
        let resumed = try runsheet(["resume", id, "--as", "alice"], in: dir, stdin: "done\nrun\nquit\n")
        #expect(resumed.stdout.contains("this gate still needs 2 more of sre"), "\(resumed.stdout)")
        let journal = try RepositoryRuns.events(dir, id: id)
        #expect(journal.contains { $0["type"] as? String == "gate.waived" })
        #expect(!journal.contains { $0["type"] as? String == "step.completed" && $0["step"] as? String == "approve" })
        let readiness = try runsheet(["readiness", "releases/r1.md", "--format", "md"], in: dir)
        #expect(readiness.stdout.contains("NO-GO"), "\(readiness.stdout)")
    }

    @Test func aCalendarThatAllowedMoreForOneCommandGrantsNothing() throws {
        let freeze = "freezes:\n  - {name: year-end, from: 2000-01-01, to: 2999-12-31}\n"
        let dir = try repository(calendar: freeze)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try runsheet(["run", "deploy.md", "--as", "alice"], in: dir, stdin: "done\nquit\n").status == 3)
        let id = try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))
        try whileFile(dir.appendingPathComponent(".runsheet/calendar.yaml"), says: "exception-roles: [sre]\n" + freeze) {
            let signed = try runsheet(["sign", id, "approve", "--waive", "--as", "bob", "--role", "sre", "--reason", "urgent"], in: dir)
            #expect(signed.status == 0, "\(signed.stderr)")
            let granted = try runsheet(["sign", id, "ship", "--exception", "--as", "bob", "--role", "sre", "--reason", "urgent"], in: dir)
            #expect(granted.status == 0, "\(granted.stderr)")
        }
        // With real sign-offs the gate opens; the exception sre gave under the other calendar still does not count.
        #expect(try runsheet(["sign", id, "approve", "--as", "bob"], in: dir).status == 0)
        #expect(try runsheet(["sign", id, "approve", "--as", "carol"], in: dir).status == 0)
        let resumed = try runsheet(["resume", id, "--as", "alice"], in: dir, stdin: "done\nrun\ndone\nquit\n")
        #expect(resumed.stdout.contains("⛔ production change blocked: it is inside the change freeze 'year-end'"), "\(resumed.stdout)\(resumed.stderr)")
        let journal = try RepositoryRuns.events(dir, id: id)
        #expect(journal.contains { $0["type"] as? String == "exception.granted" })
        #expect(!journal.contains { $0["type"] as? String == "command.finished" })
        #expect(!journal.contains { $0["type"] as? String == "step.completed" && $0["step"] as? String == "ship" })
    }

    @Test func aFollowUpReviewBySomeoneGivenTheRoleForOneCommandDoesNotCount() throws {
        let emergency = Self.runbook.replacingOccurrences(of: "roles: [sre, release-manager]", with: "class: emergency\nroles: [sre, release-manager]")
        let dir = try repository(runbook: emergency)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try runsheet(["run", "deploy.md", "--as", "alice"], in: dir, stdin: "done\nquit\n").status == 3)
        let id = try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))
        #expect(try runsheet(["sign", id, "approve", "--as", "bob"], in: dir).status == 0)
        #expect(try runsheet(["resume", id, "--as", "alice"], in: dir, stdin: "done\nrun\n").status == 0)
        let review = String(try #require(try RepositoryRuns.events(dir, id: id).first { $0["type"] as? String == "run.started" }
            .flatMap { ($0["data"] as? [String: Any])?["followUp"] as? [String: Any] }?["roles"] as? [String])?.first ?? "")
        try whileFile(dir.appendingPathComponent(".runsheet/roles.yaml"), says: Self.roles.replacingOccurrences(of: "  \(review): [", with: "  \(review): [mallory, ")) {
            let signed = try runsheet(["sign", id, "--follow-up", "--as", "mallory", "--comment", "PIR held"], in: dir)
            #expect(signed.status == 0, "\(signed.stderr)")
        }
        let readiness = try runsheet(["readiness", "releases/r1.md", "--format", "md"], in: dir)
        #expect(!readiness.stdout.contains("its follow-up review was recorded by mallory"), "\(readiness.stdout)")
        #expect(readiness.stdout.contains("its follow-up review is due by") || readiness.stdout.contains("its follow-up review is overdue"), "\(readiness.stdout)")
    }

    /// Found by the adversary: `status` showed a gate as passed (✓) after its approval stopped
    /// holding: a signer taken out of the roles file, a waiver whose author then drove the run.
    @Test func statusShowsAGatePassedOnApprovalsThatNoLongerHold() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try runsheet(["run", "deploy.md", "--as", "alice"], in: dir, stdin: "done\nquit\n").status == 3)
        let id = try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))
        #expect(try runsheet(["sign", id, "approve", "--as", "bob"], in: dir).status == 0)
        #expect(try runsheet(["sign", id, "approve", "--as", "carol"], in: dir).status == 0)
        #expect(try runsheet(["resume", id, "--as", "alice"], in: dir, stdin: "done\nquit\n").status == 3)
        var status = try runsheet(["status", id], in: dir)
        #expect(status.stdout.contains("  ✓ approve  alice"), "\(status.stdout)")

        try Self.roles.replacingOccurrences(of: "[alice, bob, carol]", with: "[alice, bob]")
            .write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        status = try runsheet(["status", id], in: dir)
        #expect(status.stdout.contains("  ↺ approve  alice") && status.stdout.contains("APPROVAL LAPSED"), "\(status.stdout)")
        #expect(status.stdout.contains("carol does not hold the role sre") || status.stdout.contains("no longer counts"), "\(status.stdout)")

        // A waiver by rita makes the gate pass again; once rita drives the run, it no longer holds.
        #expect(try runsheet(["sign", id, "approve", "--waive", "--as", "rita", "--reason", "carol left; CAB ok"], in: dir).status == 0)
        status = try runsheet(["status", id], in: dir)
        #expect(status.stdout.contains("  ✓ approve  alice"), "\(status.stdout)")
        _ = try runsheet(["resume", id, "--as", "rita"], in: dir, stdin: "quit\n")
        status = try runsheet(["status", id], in: dir)
        #expect(status.stdout.contains("  ↺ approve  alice") && status.stdout.contains("APPROVAL LAPSED"), "\(status.stdout)")
        let md = try runsheet(["report", id, "--format", "md"], in: dir).stdout
        #expect(md.contains("WAIVED by rita (release-manager): carol left; CAB ok; it needed ") && md.contains("(no longer counts: rita drove the run after waiving it)"), "\(md)")
    }
}
