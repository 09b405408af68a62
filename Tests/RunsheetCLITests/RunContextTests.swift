import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// What a run records about itself at the start: who acts (`--as`, then RUNSHEET_USER, then
/// `git config user.email`, then the login name), from which host, driven by what, and on which
/// commit of the runbook.
@Suite struct RunContextTests {
    /// An empty home and no system Git configuration, so only a repository's own settings count,
    /// whatever the machine running the tests has configured.
    struct Sandbox {
        let home: URL

        init() throws {
            home = try Fixtures.temporaryDirectory("home")
            try Data().write(to: home.appendingPathComponent(".gitconfig"))
        }

        /// RUNSHEET_USER empty counts as unset; CI empty counts as not CI.
        var environment: [String: String] {
            ["HOME": home.path, "XDG_CONFIG_HOME": home.path, "GIT_CONFIG_NOSYSTEM": "1",
             "GIT_CONFIG_GLOBAL": home.appendingPathComponent(".gitconfig").path, "RUNSHEET_USER": "", "CI": ""]
        }

        @discardableResult
        func git(_ arguments: [String], in directory: URL) throws -> String {
            let result = try Fixtures.run("/usr/bin/env", ["git"] + arguments, environment: environment, directory: directory)
            #expect(result.status == 0, "git \(arguments.joined(separator: " ")): \(result.stderr)")
            return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        /// A new repository holding `r.md`, committed, with `user.email` set in its own config.
        func repository(email: String) throws -> URL {
            let repo = try Fixtures.temporaryDirectory("repo")
            try "# R\n- [ ] one\n- [ ] two\n".write(to: repo.appendingPathComponent("r.md"), atomically: true, encoding: .utf8)
            try git(["init", "-q"], in: repo)
            try git(["config", "user.email", email], in: repo)
            try git(["config", "user.name", "Repo User"], in: repo)
            try git(["add", "r.md"], in: repo)
            try git(["commit", "-q", "-m", "Add the runbook"], in: repo)
            return repo
        }

        /// Starts a run of `runbook` from `directory` and quits at once; returns its events.
        func start(_ runbook: URL, from directory: URL, _ extra: [String] = [], environment more: [String: String] = [:]) throws -> [RunEvent] {
            let runs = try Fixtures.temporaryDirectory("runs")
            let result = try Fixtures.runsheet(["run", runbook.path, "--runs-dir", runs.path] + extra, stdin: "quit\n",
                                               environment: environment.merging(more) { $1 }, directory: directory)
            #expect(result.status == 3, "\(result.stdout)\n\(result.stderr)")
            let id = try #require(Fixtures.onlyRun(in: runs.path))
            return try JournalFile.read(at: runs.appendingPathComponent(id + "/journal.jsonl").path).events
        }
    }

    /// The one actor on every event of a run, or a description of the mix.
    func actor(_ events: [RunEvent]) -> String {
        Set(events.map(\.actor)).sorted().joined(separator: " + ")
    }

    @Test func runsheetUserComesAfterAsAndBeforeGit() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository(email: "git-user@example.com")
        let runbook = repo.appendingPathComponent("r.md")
        let user = ["RUNSHEET_USER": "  carol@example.com "]
        #expect(actor(try sandbox.start(runbook, from: repo, environment: user)) == "carol@example.com")
        #expect(actor(try sandbox.start(runbook, from: repo, ["--as", "alice"], environment: user)) == "alice")
    }

    @Test func gitUserEmailWhenNoRunsheetUser() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository(email: "git-user@example.com")
        #expect(actor(try sandbox.start(repo.appendingPathComponent("r.md"), from: repo)) == "git-user@example.com")
        // It is the Git configuration of the folder runsheet runs in, not of the runbook's.
        let elsewhere = try Fixtures.temporaryDirectory("elsewhere")
        #expect(actor(try sandbox.start(repo.appendingPathComponent("r.md"), from: elsewhere)) != "git-user@example.com")
    }

    @Test func loginNameWithoutRunsheetUserOrGitEmail() throws {
        let sandbox = try Sandbox()
        let folder = try Fixtures.temporaryDirectory("plain")
        let runbook = folder.appendingPathComponent("r.md")
        try "# R\n- [ ] one\n".write(to: runbook, atomically: true, encoding: .utf8)
        // The account's name; a user id with no account entry falls back to USER, as runsheet does.
        let id = try Fixtures.run("/usr/bin/env", ["id", "-un"])
        let login = id.status == 0 ? id.stdout.trimmingCharacters(in: .whitespacesAndNewlines) : ProcessInfo.processInfo.environment["USER"] ?? "unknown"
        #expect(actor(try sandbox.start(runbook, from: folder)) == login)
    }

    @Test func everyEventRecordsTheHostAndWhatDroveTheRun() throws {
        let sandbox = try Sandbox()
        let folder = try Fixtures.temporaryDirectory("plain")
        let runbook = folder.appendingPathComponent("r.md")
        try "# R\n- [ ] one\n".write(to: runbook, atomically: true, encoding: .utf8)
        var buffer = [CChar](repeating: 0, count: 256)
        #expect(gethostname(&buffer, buffer.count) == 0)
        let host = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // A terminal is recorded as "terminal" (TerminalTests); here standard input is a pipe.
        for (ci, via) in [("", "script"), ("false", "script"), ("true", "ci"), ("1", "ci")] {
            let events = try sandbox.start(runbook, from: folder, ["--as", "alice"], environment: ["CI": ci])
            #expect(events.first?.type == .runStarted)
            #expect(events.allSatisfy { $0.host == host && $0.via == via }, "CI=\(ci): \(events.map { "\($0.host) \($0.via)" })")
            #expect(RunState.fold(events).host == host && RunState.fold(events).via == via)
        }
    }

    @Test func startRecordsTheRunbooksCommitAndWhetherItWasEdited() throws {
        let sandbox = try Sandbox()
        let repo = try sandbox.repository(email: "git-user@example.com")
        let runbook = repo.appendingPathComponent("r.md")
        let head = try sandbox.git(["rev-parse", "HEAD"], in: repo)
        #expect(head.count == 40)
        let elsewhere = try Fixtures.temporaryDirectory("elsewhere")

        var events = try sandbox.start(runbook, from: elsewhere)
        #expect(events.first?.data["gitCommit"] == .string(head))
        #expect(RunState.fold(events).gitCommit == head)

        // An edit not yet committed is recorded as such.
        try "# R\n- [ ] one\n- [ ] two\n- [ ] three\n".write(to: runbook, atomically: true, encoding: .utf8)
        events = try sandbox.start(runbook, from: elsewhere)
        #expect(events.first?.data["gitCommit"] == .string(head + "+dirty"))

        // Outside any repository there is no commit to record.
        let copy = elsewhere.appendingPathComponent("r.md")
        try FileManager.default.copyItem(at: runbook, to: copy)
        events = try sandbox.start(copy, from: elsewhere)
        #expect(events.first?.type == .runStarted && events.first?.data["gitCommit"] == nil)
        #expect(RunState.fold(events).gitCommit == nil)
    }
}
