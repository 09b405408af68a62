import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Issue 12, item 6: a roles, policy or calendar file that is there but cannot be read, decoded or
/// parsed stops every command that acts on the rules, with one sentence naming the file and what
/// is wrong with it, and nothing is recorded. Before, such a file was taken as no file: anyone
/// signed with any --role, and production steps ran inside a freeze.
@Suite struct RuleFilesFailClosedTests {
    enum RuleFile: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case roles, policy, calendar

        var path: String { ".runsheet/\(rawValue).yaml" }
        var what: String { "\(rawValue) file" }
        var code: String { "\(rawValue)-file" }

        /// What the file says when it is healthy.
        var healthy: String {
            switch self {
            case .roles: "roles:\n  sre: [sam, sue]\n  release-manager: [rita]\n  operator: [olly]\n"
            case .policy: "emergency: {follow-up: release-manager}\n"
            case .calendar: "windows:\n  - {name: always, from: \"00:00\", to: \"24:00\"}\n"
            }
        }

        /// A rule that matters, for the versions that are read but not understood: nobody may sign
        /// as sre; every gate needs three people; a freeze that holds now.
        var strict: String {
            switch self {
            case .roles: "roles:\n  sre: []\n  release-manager: [rita]\n  operator: [olly]\n"
            case .policy: "normal: {approvers: 3}\n"
            case .calendar: "freezes:\n  - {name: always, from: 2000-01-01, to: 2999-12-31}\n"
            }
        }

        var testDescription: String { path }
    }

    enum Breakage: String, CaseIterable, Sendable, CustomTestStringConvertible {
        /// The strict rules with a Latin-1 'é' in a comment on the last line.
        case latin1
        /// A directory where the file should be.
        case directory
        /// A symbolic link to a file that is not there (on this machine).
        case brokenLink
        /// A symbolic link to itself.
        case linkLoop
        /// A symbolic link to a readable file outside `.runsheet/`, which would change without a commit.
        case link
        /// No read permission (skipped as root, which reads it anyway).
        case noPermission
        /// A YAML syntax error: what already stopped run and sign, now with the same sentence.
        case badYAML

        var testDescription: String { rawValue }
    }

    static let runbook = """
        ---
        id: change
        class: normal
        roles: [sre, release-manager]
        ---
        # Change

        - [ ] Prepare
        - [ ] Approve
          - Sign-off: sre
        - [ ] Switch traffic
          - Production: yes
        """

    static let release = """
        ---
        release: r-1
        target: 2030-06-03 10:00
        class: normal
        owner: alice
        ---
        # Release r-1

        ## Requires

        - [Change](change.md)
        """

    func repository() throws -> URL {
        let dir = try Fixtures.temporaryDirectory()
        let manager = FileManager.default
        try manager.createDirectory(at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try manager.createDirectory(at: dir.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        for file in RuleFile.allCases {
            try file.healthy.write(to: dir.appendingPathComponent(file.path), atomically: true, encoding: .utf8)
        }
        try Self.runbook.write(to: dir.appendingPathComponent("change.md"), atomically: true, encoding: .utf8)
        try Self.release.write(to: dir.appendingPathComponent("release.md"), atomically: true, encoding: .utf8)
        return dir
    }

    func runsheet(_ arguments: [String], in dir: URL, stdin: String? = nil) throws -> ProcessResult {
        try Fixtures.runsheet(arguments + ["--runs-dir", "runs"], stdin: stdin, environment: ["NO_COLOR": "1"], directory: dir)
    }

    /// Breaks `file` in `dir`; returns where the error is (line, column) and what the message says after "the roles file ".
    func breakFile(_ file: RuleFile, _ breakage: Breakage, in dir: URL) throws -> (line: Int, column: Int, reason: String) {
        let path = dir.appendingPathComponent(file.path).path
        let manager = FileManager.default
        try manager.removeItem(atPath: path)
        switch breakage {
        case .latin1:
            let text = Array(file.strict.utf8) + Array("# caf".utf8)
            try Data(text + [0xE9, 0x0A]).write(to: URL(fileURLWithPath: path))
            let lines = file.strict.split(separator: "\n", omittingEmptySubsequences: false).count
            return (lines, 6, "is not UTF-8 (byte 0xE9 at byte offset \(text.count)); save it as UTF-8")
        case .directory:
            try manager.createDirectory(atPath: path, withIntermediateDirectories: false)
            try file.strict.write(toFile: path + "/inside.yaml", atomically: true, encoding: .utf8)
            return (1, 1, "cannot be read: it is a directory, not a file")
        case .brokenLink:
            let target = "/etc/runsheet-\(UUID().uuidString)/\(file.rawValue).yaml"
            try manager.createSymbolicLink(atPath: path, withDestinationPath: target)
            return (1, 1, "cannot be read: it is a symbolic link to \(target), which does not exist")
        case .linkLoop:
            try manager.createSymbolicLink(atPath: path, withDestinationPath: "\(file.rawValue).yaml")
            return (1, 1, "cannot be read: \(String(cString: strerror(ELOOP)))")
        case .link:
            let target = dir.appendingPathComponent("elsewhere-\(file.rawValue).yaml").path
            try file.healthy.write(toFile: target, atomically: true, encoding: .utf8)
            try manager.createSymbolicLink(atPath: path, withDestinationPath: target)
            return (1, 1, "cannot be read: it is a symbolic link (to \(target)), and it is read only as a regular file of the repository, never through a link; replace the link with the file itself")
        case .noPermission:
            try file.strict.write(toFile: path, atomically: true, encoding: .utf8)
            try manager.setAttributes([.posixPermissions: 0], ofItemAtPath: path)
            return (1, 1, "cannot be read: \(String(cString: strerror(EACCES)))")
        case .badYAML:
            try "\(file.strict)broken: [\n".write(toFile: path, atomically: true, encoding: .utf8)
            return (0, 0, "is not valid YAML")
        }
    }

    @Test(arguments: RuleFile.allCases, Breakage.allCases)
    func aRuleFileThatCannotBeReadStopsEveryCommand(file: RuleFile, breakage: Breakage) throws {
        // Root reads a file without read permission; the other cases hold for everyone.
        if breakage == .noPermission && getuid() == 0 { return }
        let dir = try repository()
        defer {
            try? FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: dir.appendingPathComponent(file.path).path)
            try? FileManager.default.removeItem(at: dir)
        }
        // A run that waits at the gate, started while the rules could be read.
        let started = try runsheet(["run", "change.md", "--as", "olly"], in: dir, stdin: "done\n")
        #expect(started.status == 3, "\(started.stdout)\(started.stderr)")
        let id = try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))
        let journal = dir.appendingPathComponent("runs/\(id)/journal.jsonl")
        let before = try Data(contentsOf: journal)

        let (line, column, reason) = try breakFile(file, breakage, in: dir)
        let position = breakage == .badYAML ? "" : "\(line):\(column):"
        let sentence = "\(file.path):\(position)"
        func refused(_ result: ProcessResult, _ command: String, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(result.status == 2, "\(command): \(result.stdout)\(result.stderr)", sourceLocation: sourceLocation)
            let message = result.stderr.split(separator: "\n").map(String.init).first { $0.hasPrefix("runsheet: ") } ?? ""
            #expect(message.contains(sentence) && message.contains("the \(file.what) \(reason)"), "\(command): \(result.stderr)", sourceLocation: sourceLocation)
            #expect(message.contains("(runsheet does not act on rules it cannot read; 'runsheet check change.md' lists every problem)"), "\(command): \(result.stderr)", sourceLocation: sourceLocation)
            #expect(result.stderr.split(separator: "\n").count == 1, "\(command): one sentence, not a list: \(result.stderr)", sourceLocation: sourceLocation)
        }

        // check: an error at the file's position, with its code.
        let check = try Fixtures.runsheet(["check", "change.md"], environment: ["NO_COLOR": "1"], directory: dir)
        #expect(check.status == 1, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains(sentence) && check.stdout.contains("error: the \(file.what) \(reason)") && check.stdout.contains("[\(file.code)]"),
                "\(check.stdout)")

        // Commands that act on the rules stop, and record nothing.
        refused(try runsheet(["run", "change.md", "--as", "olly"], in: dir, stdin: "done\ndone\ndone\n"), "run")
        refused(try runsheet(["run", "change.md", "--dry-run"], in: dir), "run --dry-run")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("runs").path).filter { !$0.hasPrefix(".") } == [id])
        refused(try runsheet(["resume", id, "--as", "olly"], in: dir, stdin: "done\ndone\n"), "resume")
        // The attack: someone outside every role signs as sre, which an unread roles file let through.
        refused(try runsheet(["sign", id, "approve", "--as", "mallory", "--role", "sre"], in: dir), "sign")
        refused(try runsheet(["sign", id, "approve", "--as", "sam"], in: dir), "sign")
        refused(try runsheet(["sign", id, "switch-traffic", "--exception", "--reason", "urgent", "--as", "rita"], in: dir), "sign --exception")
        refused(try runsheet(["reject", id, "approve", "--reason", "not now", "--as", "sam"], in: dir), "reject")
        refused(try runsheet(["readiness", "release.md"], in: dir), "readiness")
        #expect(try Data(contentsOf: journal) == before, "a refused command appended to the journal")

        // Put right, the same commands go on.
        try? FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: dir.appendingPathComponent(file.path).path)
        try FileManager.default.removeItem(at: dir.appendingPathComponent(file.path))
        try file.healthy.write(to: dir.appendingPathComponent(file.path), atomically: true, encoding: .utf8)
        let signed = try runsheet(["sign", id, "approve", "--as", "sam"], in: dir)
        #expect(signed.status == 0, "\(signed.stderr)")
        let events = try JournalFile.read(at: journal.path).events
        #expect(events.filter { $0.type == .signOff }.map(\.actor) == ["sam"])
    }

    /// The check does not depend on the runbook: one without gates or production steps is
    /// refused as well, since the rules of the repository are what would apply to it.
    @Test func aRunbookWithoutGatesStillMeetsTheBrokenFile() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "# Notes\n\n- [ ] Write them down\n".write(to: dir.appendingPathComponent("notes.md"), atomically: true, encoding: .utf8)
        _ = try breakFile(.roles, .directory, in: dir)
        let check = try Fixtures.runsheet(["check", "notes.md"], environment: ["NO_COLOR": "1"], directory: dir)
        #expect(check.status == 1 && check.stdout.contains(".runsheet/roles.yaml:1:1: error: the roles file cannot be read: it is a directory, not a file [roles-file]"),
                "\(check.stdout)")
        let run = try runsheet(["run", "notes.md", "--as", "olly"], in: dir, stdin: "done\n")
        #expect(run.status == 2 && run.stderr.contains("the roles file cannot be read: it is a directory"), "\(run.stderr)")
        #expect(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path) == nil)
    }

    /// A calendar the front matter names is read the same way: not there, or not UTF-8, stops the run.
    @Test func aCalendarNamedInTheFrontMatterFailsClosedToo() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let runbook = Self.runbook.replacingOccurrences(of: "class: normal\n", with: "class: normal\ncalendar: ops/calendar.yaml\n")
        try runbook.write(to: dir.appendingPathComponent("change.md"), atomically: true, encoding: .utf8)
        var run = try runsheet(["run", "change.md", "--as", "olly"], in: dir, stdin: "done\n")
        #expect(run.status == 2 && run.stderr.contains("change.md:1:1: the calendar file ") && run.stderr.contains("ops/calendar.yaml named in the front matter does not exist"),
                "\(run.stderr)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("ops"), withIntermediateDirectories: true)
        // "fête" in Latin-1: 0xE9 after "f" on the second line.
        let latin1 = Array("freezes:\n  - {name: f".utf8) + [0xE9] + Array("te, from: 2000-01-01, to: 2999-12-31}\n".utf8)
        try Data(latin1).write(to: dir.appendingPathComponent("ops/calendar.yaml"))
        run = try runsheet(["run", "change.md", "--as", "olly"], in: dir, stdin: "done\n")
        #expect(run.status == 2 && run.stderr.contains("ops/calendar.yaml:2:13: the calendar file is not UTF-8 (byte 0xE9 at byte offset 21)"), "\(run.stderr)")
        #expect(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path) == nil)
    }
}
