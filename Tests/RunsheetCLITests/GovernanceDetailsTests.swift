import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Issue 12, item 11: smaller governance faults, each through the real binary, with what the
/// person sees and what the journal holds.
@Suite struct GovernanceDetailsTests {
    /// A repository with a roles file (and `files` beside it under .runsheet/) and `change.md`.
    func repository(runbook: String, roles: String, files: [String: String] = [:]) throws -> URL {
        let dir = try Fixtures.temporaryDirectory()
        let manager = FileManager.default
        try manager.createDirectory(at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try manager.createDirectory(at: dir.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        try roles.write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        for (name, text) in files {
            try text.write(to: dir.appendingPathComponent(".runsheet/\(name)"), atomically: true, encoding: .utf8)
        }
        try runbook.write(to: dir.appendingPathComponent("change.md"), atomically: true, encoding: .utf8)
        return dir
    }

    func runsheet(_ arguments: [String], in dir: URL, stdin: String? = nil) throws -> ProcessResult {
        try Fixtures.runsheet(arguments + ["--runs-dir", "runs"], stdin: stdin, environment: ["NO_COLOR": "1"], directory: dir)
    }

    func runID(_ dir: URL) throws -> String {
        try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))
    }

    func events(_ dir: URL) throws -> [RunEvent] {
        try JournalFile.read(at: dir.appendingPathComponent("runs/\(try runID(dir))/journal.jsonl").path).events
    }

    // MARK: - a. check reads the roles file for runbooks without gates

    @Test func aRunbookWithoutGatesSeesTheRolesFileForThePolicysFollowUpRole() throws {
        let runbook = """
            ---
            id: notes
            class: emergency
            roles: [sre]
            ---
            # Notes

            - [ ] Write down what happened
            """
        let roles = "roles:\n  sre: [sam]\n  cab: [carl]\n"
        let dir = try repository(runbook: runbook, roles: roles, files: ["policy.yaml": "emergency: {follow-up: cab}\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let check = try Fixtures.runsheet(["check", "change.md"], environment: ["NO_COLOR": "1"], directory: dir)
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(!check.stdout.contains("bad-policy"), "\(check.stdout)")
        #expect(check.stderr.contains("checked 1 file: 0 errors"))

        // The run the false error used to stop starts, owing its review to the cab.
        let run = try runsheet(["run", "change.md", "--as", "olly"], in: dir, stdin: "done\n")
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let started = try #require(try events(dir).first?.data["followUp"]?.object)
        #expect(started["roles"]?.array?.compactMap(\.string) == ["cab"])

        // A role that really is declared nowhere is still an error.
        try "roles:\n  sre: [sam]\n".write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        let undeclared = try Fixtures.runsheet(["check", "change.md"], environment: ["NO_COLOR": "1"], directory: dir)
        #expect(undeclared.status == 1 && undeclared.stdout.contains("the emergency policy's follow-up role 'cab' is not declared in 'roles' or the roles file [bad-policy]"),
                "\(undeclared.stdout)")
    }

    // MARK: - b. a refused --role says which role was asked for, and what the signer holds

    static let twoRoleGate = """
        ---
        id: change
        roles: [qa, release-manager, sre]
        ---
        # Change

        - [ ] Prepare
        - [ ] Approve
          - Sign-off: qa
          - Sign-off: release-manager
        - [ ] Ship
        """

    @Test func aRefusedRoleNamesTheRoleAskedForAndWhatTheSignerHolds() throws {
        let roles = "roles:\n  qa: [quinn]\n  release-manager: [rita]\n  sre: [sam]\n"
        let dir = try repository(runbook: Self.twoRoleGate, roles: roles)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try runsheet(["run", "change.md", "--as", "olly"], in: dir, stdin: "done\n").status == 3)
        let id = try runID(dir)
        let before = try events(dir).count

        // Rita holds release-manager, not qa.
        let rita = try runsheet(["sign", id, "approve", "--as", "rita", "--role", "qa"], in: dir)
        #expect(rita.status == 1, "\(rita.stdout)\(rita.stderr)")
        #expect(rita.stderr == "runsheet: rita does not hold the role qa in .runsheet/roles.yaml; rita holds release-manager, " +
                "which may also sign gate 'approve': sign with --role release-manager, or leave --role out\n")
        #expect(!rita.stderr.contains("holds none"))

        // Sam holds a role, but not one this gate takes.
        let sam = try runsheet(["sign", id, "approve", "--as", "sam", "--role", "qa"], in: dir)
        #expect(sam.status == 1)
        #expect(sam.stderr == "runsheet: sam does not hold the role qa in .runsheet/roles.yaml; sam holds sre, none of which may sign gate 'approve' " +
                "(the roles that may are qa, release-manager); ask someone who does (qa: quinn; release-manager: rita)\n")

        // A role the gate does not take at all.
        let other = try runsheet(["sign", id, "approve", "--as", "sam", "--role", "sre"], in: dir)
        #expect(other.status == 1)
        #expect(other.stderr == "runsheet: the role sre may not sign gate 'approve'; the roles that may are qa, release-manager: " +
                "name one of them with --role, or leave --role out to use the first you hold\n")

        // Rejecting says the same, for rejecting.
        let reject = try runsheet(["reject", id, "approve", "--reason", "no", "--as", "mallory", "--role", "qa"], in: dir)
        #expect(reject.status == 1)
        #expect(reject.stderr.contains("mallory does not hold the role qa in .runsheet/roles.yaml; mallory holds no role there " +
                                       "(the roles that may are qa, release-manager); ask someone who does"), "\(reject.stderr)")
        #expect(try events(dir).count == before, "a refusal recorded something")

        // Without --role she signs as what she holds.
        let signed = try runsheet(["sign", id, "approve", "--as", "rita"], in: dir)
        #expect(signed.status == 0 && signed.stdout.contains("signed approve as release-manager (rita); still needs 1 more of qa"), "\(signed.stdout)\(signed.stderr)")
        #expect(try events(dir).filter { $0.type == .signOff }.map { "\($0.actor) \($0.data["role"]?.string ?? "")" } == ["rita release-manager"])
    }

    // MARK: - c. the CSV report carries sign-off comments and calendar exceptions

    /// RFC 4180 rows, enough for the report: quoted fields with doubled quotes and line breaks.
    static func csvRows(_ text: String) -> [[String]] {
        var rows: [[String]] = [], row: [String] = [], field = "", quoted = false
        var characters = Array(text)[...]
        while let c = characters.popFirst() {
            if quoted {
                if c == "\"" {
                    if characters.first == "\"" { field.append("\""); characters.removeFirst() } else { quoted = false }
                } else { field.append(c) }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                row.append(field); field = ""
            } else if c == "\n" {
                row.append(field); rows.append(row); row = []; field = ""
            } else {
                field.append(c)
            }
        }
        if !field.isEmpty || !row.isEmpty { row.append(field); rows.append(row) }
        return rows
    }

    @Test func theCSVReportCarriesSignOffCommentsAndCalendarExceptions() throws {
        let runbook = """
            ---
            id: change
            roles: [sre, release-manager]
            ---
            # Change

            - [ ] Approve
              - Sign-off: sre
            - [ ] Switch traffic
              - Production: yes
            """
        let calendar = "freezes:\n  - {name: year-end, from: 2000-01-01, to: 2999-12-31}\n"
        let dir = try repository(runbook: runbook, roles: "roles:\n  sre: [sam]\n  release-manager: [rita]\n  operator: [olly]\n", files: ["calendar.yaml": calendar])
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try runsheet(["run", "change.md", "--as", "olly"], in: dir).status == 3)
        let id = try runID(dir)
        #expect(try runsheet(["sign", id, "approve", "--as", "sam", "--comment", "dashboards green, \"all\" of them"], in: dir).status == 0)
        #expect(try runsheet(["sign", id, "switch-traffic", "--exception", "--reason", "security fix, CVE-2026-1", "--as", "rita"], in: dir).status == 0)
        let finished = try runsheet(["resume", id, "--as", "olly"], in: dir, stdin: "done\ndone\n")
        #expect(finished.status == 0, "\(finished.stdout)\(finished.stderr)")

        let report = try runsheet(["report", id, "--format", "csv"], in: dir)
        #expect(report.status == 0, "\(report.stderr)")
        let rows = Self.csvRows(report.stdout)
        let header = try #require(rows.first)
        #expect(header.suffix(7) == ["sign_off_comments", "calendar_exceptions", "forced", "waivers", "may_have_run", "sign_off_signatures", "change"], "new columns go last: \(header)")
        #expect(rows.dropFirst().allSatisfy { $0.count == header.count }, "\(rows)")
        func cell(_ step: String, _ column: String) -> String? {
            guard let index = header.firstIndex(of: column), let row = rows.first(where: { $0.first == step }) else { return nil }
            return row[index]
        }
        let exception = try #require(try events(dir).first { $0.type == .exceptionGranted })
        #expect(cell("approve", "sign_offs") == "sam (sre)")
        #expect(cell("approve", "sign_off_comments") == "sam (sre): dashboards green, \"all\" of them")
        #expect(cell("approve", "calendar_exceptions") == "")
        #expect(cell("switch-traffic", "calendar_exceptions") == "rita (release-manager) at \(exception.time): security fix, CVE-2026-1")
        #expect(cell("switch-traffic", "sign_off_comments") == "")
        // The same facts the Markdown report shows.
        let markdown = try runsheet(["report", id, "--format", "md"], in: dir).stdout
        #expect(markdown.contains("calendar exception by rita: security fix, CVE-2026-1"))
        #expect(markdown.contains("| sam | sre | "))
    }

    // MARK: - d. one follow-up review per person

    @Test func aSecondFollowUpReviewBySamePersonIsRefusedAndNotRecorded() throws {
        let runbook = """
            ---
            id: change
            class: emergency
            roles: [sre, cab]
            ---
            # Change

            - [ ] Approve
              - Sign-off: sre
            - [ ] Ship
            """
        let dir = try repository(runbook: runbook, roles: "roles:\n  sre: [sam]\n  cab: [carl, cora]\n  operator: [olly]\n",
                                 files: ["policy.yaml": "emergency: {follow-up: cab}\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try runsheet(["run", "change.md", "--as", "olly"], in: dir).status == 3)
        let id = try runID(dir)
        let first = try runsheet(["sign", id, "--follow-up", "--comment", "PIR held, see INC-881", "--as", "carl"], in: dir)
        #expect(first.status == 0, "\(first.stderr)")
        let review = try #require(try events(dir).first { $0.type == .reviewSigned })

        for same in ["carl", "CARL", " Carl "] {
            let again = try runsheet(["sign", id, "--follow-up", "--comment", "second thoughts", "--as", same], in: dir)
            #expect(again.status == 1, "\(same): \(again.stdout)\(again.stderr)")
            #expect(again.stderr.hasPrefix("runsheet: ") && again.stderr.hasSuffix(" already recorded the follow-up review of this run (at \(review.time)); " +
                    "one person reviews a run once, so nothing was recorded\n"), "\(same): \(again.stderr)")
            #expect(again.stdout.isEmpty)
        }
        #expect(try events(dir).filter { $0.type == .reviewSigned }.map(\.actor) == ["carl"])
        #expect(try runsheet(["report", id], in: dir).stdout.contains("| Follow-up review | done by carl at \(review.time) |"))

        // Another member of the cab may still add theirs.
        #expect(try runsheet(["sign", id, "--follow-up", "--comment", "agree", "--as", "cora"], in: dir).status == 0)
        #expect(try events(dir).filter { $0.type == .reviewSigned }.map(\.actor) == ["carl", "cora"])
    }
}
