import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Injection into what people read (issue 13, item 7), played through the real binary: names
/// with line breaks and text with terminal escapes are refused at input, a journal that already
/// holds them (written by an older runsheet) shows them escaped everywhere, and the Markdown
/// report shows HTML and table syntax from notes as text.
@Suite struct ShownTextTests {
    static let runbook = """
        ---
        id: esc
        ---
        # Escapes

        - [ ] Prepare
          - Id: prepare
        - [ ] Approve
          - Id: approve
          - Sign-off: sre
          - Separation: starter
        - [ ] Deploy
          - Id: deploy
        """

    func repository() throws -> URL {
        let dir = try Fixtures.temporaryDirectory()
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        try "roles:\n  operator: [alice]\n  sre: [bob]\n".write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        try Self.runbook.write(to: dir.appendingPathComponent("esc.md"), atomically: true, encoding: .utf8)
        return dir
    }

    func runsheet(_ arguments: [String], in dir: URL, stdin: String? = nil, environment: [String: String] = [:]) throws -> ProcessResult {
        try Fixtures.runsheet(arguments + ["--runs-dir", "runs"], stdin: stdin,
                              environment: ["NO_COLOR": "1", "RUNSHEET_USER": ""].merging(environment) { $1 }, directory: dir)
    }

    func journal(_ dir: URL, _ id: String) throws -> Data {
        try Data(contentsOf: dir.appendingPathComponent("runs/\(id)/journal.jsonl"))
    }

    /// A run of `esc.md` by alice, the first step done; its id.
    func startedRun(_ dir: URL, actions: String = "done\nquit\n") throws -> String {
        let started = try runsheet(["run", "esc.md", "--as", "alice"], in: dir, stdin: actions)
        #expect(started.status == 3, "\(started.stdout)\(started.stderr)")
        return try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))
    }

    @Test func aNameWithALineBreakOrControlCharacterIsRefusedBeforeAnythingIsWritten() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }

        // Starting a run: refused before the run folder exists.
        let forged = try runsheet(["run", "esc.md", "--as", "mallory\nforged line"], in: dir, stdin: "done\nquit\n")
        #expect(forged.status == 2, "\(forged.stdout)\(forged.stderr)")
        #expect(forged.stderr == "runsheet: the name given with --as holds a line break; a name is one line without control characters, so that nothing typed can change how a screen or report shows the record\n")
        #expect(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path) == nil)
        // Found by the adversary: a right-to-left override makes `moc.elpmaxe@ecila` show as alice.
        let reversed = try runsheet(["run", "esc.md", "--as", "\u{202E}moc.elpmaxe@ecila"], in: dir, stdin: "done\nquit\n")
        #expect(reversed.status == 2 && reversed.stderr.contains("holds the control character \\u202e"), "\(reversed.stderr)")
        #expect(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path) == nil)
        // Found by the adversary: a line or paragraph separator, which many screens show as a line break (a forged ⚠ line).
        for (separator, escaped) in [("\u{2028}", "\\u2028"), ("\u{2029}", "\\u2029")] {
            let split = try runsheet(["run", "esc.md", "--as", "mallory\(separator)⚠ forged line"], in: dir, stdin: "done\nquit\n")
            #expect(split.status == 2 && split.stderr.contains("holds the control character \(escaped)"), "\(split.stderr)")
            #expect(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path) == nil)
            #expect("INC-1\(separator)⚠ fake".shown == "INC-1\(escaped)⚠ fake")
        }
        let note = try runsheet(["run", "esc.md", "--as", "alice"], in: dir, stdin: "note see \u{2066}hidden\u{2069}\nquit\n")
        #expect(note.stdout.contains("holds the control character \\u2066"), "\(note.stdout)")
        #expect(try RepositoryRuns.events(dir, id: try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path)))
            .allSatisfy { $0["type"] as? String != "note" })
        try FileManager.default.removeItem(at: dir.appendingPathComponent("runs"))

        let id = try startedRun(dir)
        let before = try journal(dir, id)
        // Resuming, signing and rejecting: refused, and the journal is byte for byte as it was.
        let attempts: [([String], [String: String], String)] = [
            (["resume", id, "--as", "mallory\nforged line"], [:], "the name given with --as holds a line break"),
            (["resume", id], ["RUNSHEET_USER": "alice\u{1B}[8m"], "the name in RUNSHEET_USER holds an escape character (\\x1b)"),
            (["sign", id, "approve", "--as", "bob\nforged line"], [:], "the name given with --as holds a line break"),
            (["sign", id, "approve", "--as", "bob", "--role", "sre\n2026-01-01 root"], [:], "the role given with --role holds a line break"),
            (["reject", id, "approve", "--as", "bo\u{85}b", "--reason", "no"], [:], "the name given with --as holds the control character \\u0085"),
        ]
        for (arguments, environment, sentence) in attempts {
            let result = try runsheet(arguments, in: dir, stdin: "done\nquit\n", environment: environment)
            #expect(result.status == 2, "\(arguments): \(result.stdout)\(result.stderr)")
            #expect(result.stderr.hasPrefix("runsheet: " + sentence), "\(arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
            #expect(try journal(dir, id) == before, "\(arguments) wrote to the journal")
        }
        let audit = try runsheet(["audit", id], in: dir)
        #expect(!audit.stdout.contains("forged line") && !audit.stdout.contains("mallory"), "\(audit.stdout)")
    }

    @Test func typedTextWithAnEscapeIsRefusedAndLineBreaksInACommentAreKept() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        // In a session, the action is refused with a sentence and the session goes on.
        let id = try startedRun(dir, actions: "note dashboards \u{1B}[8mall green\nadd Flush\u{1B}[2K the cache\nskip not \u{7}needed\nnote kept\nquit\n")
        let run = try runsheet(["audit", id], in: dir)
        #expect(run.status == 0)
        let text = String(decoding: try journal(dir, id), as: UTF8.self)
        #expect(!text.contains("\\u001b") && !text.contains("\\u0007"), "\(text)")
        #expect(!text.contains("step.added") && !text.contains("step.skipped"), "\(text)")
        #expect(text.contains("\"text\":\"kept\""), "\(text)")
        let session = try runsheet(["resume", id, "--as", "alice"], in: dir, stdin: "note a \u{1B}]8;;https://evil\u{7}link\nquit\n")
        #expect(session.status == 3, "\(session.stdout)\(session.stderr)")
        #expect(session.stdout.contains("✗ the note holds an escape character (\\x1b); text may hold line breaks and tabs but no other control character"), "\(session.stdout)")
        #expect(!session.stdout.contains("\u{1B}"), "\(session.stdout.debugDescription)")

        // On the command line: exit 2, nothing written; a comment over several lines is text and is kept.
        let before = try journal(dir, id)
        let escaped = try runsheet(["sign", id, "approve", "--as", "bob", "--comment", "ok\u{1B}[8m hidden"], in: dir)
        #expect(escaped.status == 2, "\(escaped.stdout)\(escaped.stderr)")
        #expect(escaped.stderr.hasPrefix("runsheet: the text given with --comment holds an escape character (\\x1b)"), "\(escaped.stderr)")
        #expect(try journal(dir, id) == before)
        let rejected = try runsheet(["reject", id, "approve", "--as", "bob", "--reason", "no\r2026-01-01 signed by everyone"], in: dir)
        #expect(rejected.status == 2 && rejected.stderr.contains("holds a carriage return (\\r)"), "\(rejected.stderr)")
        #expect(try journal(dir, id) == before)
        let lines = try runsheet(["sign", id, "approve", "--as", "bob", "--comment", "checked:\n- dashboards\n- alerts"], in: dir)
        #expect(lines.status == 0, "\(lines.stdout)\(lines.stderr)")
        let signed = try RepositoryRuns.events(dir, id: id).last { $0["type"] as? String == "signoff.signed" }
        #expect((signed?["data"] as? [String: Any])?["comment"] as? String == "checked:\n- dashboards\n- alerts")
    }

    /// What an older runsheet (or a hand) wrote: a correctly chained note whose author's name
    /// holds a line break and an escape, and whose text hides the rest of its line.
    func olderJournal() throws -> (dir: URL, id: String) {
        let dir = try repository()
        let id = try startedRun(dir, actions: "note first\ndone\nquit\n")
        let journal = try JournalFile(path: dir.appendingPathComponent("runs/\(id)/journal.jsonl").path)
        defer { journal.close() }
        let mallory = Actor(name: "mallory\u{1B}[8m\n2026-01-01T00:00:00Z  root@prod (terminal)  signoff.signed approve", host: "ops", via: "terminal")
        _ = try journal.append(RunEvent(by: mallory, step: "prepare", .note(NoteTaken(text: "before \u{1B}[8mhidden\u{1B}[0m | after", lesson: true))))
        return (dir, id)
    }

    static func noEscape(_ text: String, _ what: String) {
        #expect(!text.contains("\u{1B}"), "\(what) holds a raw escape: \(text.debugDescription)")
        #expect(!text.contains("\n2026-01-01T00:00:00Z  root@prod"), "\(what) shows a forged line: \(text)")
    }

    @Test func controlCharactersAJournalAlreadyHoldsShowEscapedEverywhere() throws {
        let (dir, id) = try olderJournal()
        defer { try? FileManager.default.removeItem(at: dir) }
        let verified = try runsheet(["verify", id], in: dir)
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")

        let audit = try runsheet(["audit", id], in: dir)
        #expect(audit.status == 0)
        Self.noEscape(audit.stdout, "audit")
        #expect(audit.stdout.contains("mallory\\x1b[8m\\n2026-01-01T00:00:00Z  root@prod (terminal)  signoff.signed approve (U+001B at 8, U+000A at 12)@ops"), "\(audit.stdout)")
        #expect(audit.stdout.contains("text=before \\x1b[8mhidden\\x1b[0m | after"), "\(audit.stdout)")

        let status = try runsheet(["status", id], in: dir)
        #expect(status.status == 0)
        Self.noEscape(status.stdout, "status RUN")
        #expect(status.stdout.contains("actors   alice, mallory\\x1b[8m\\n2026-01-01"), "\(status.stdout)")

        for format in ["md", "csv", "html", "json", "junit"] {
            let report = try runsheet(["report", id, "--format", format], in: dir)
            #expect(report.status == 0, "\(format): \(report.stderr)")
            Self.noEscape(report.stdout, "report --format \(format)")
            #expect(report.stdout.contains("x1b[8mhidden"), "\(format): \(report.stdout)")
        }
        let csv = try runsheet(["report", id, "--format", "csv"], in: dir).stdout
        #expect(csv.contains("note (mallory\\x1b[8m") || csv.contains("before \\x1b[8mhidden\\x1b[0m | after"), "\(csv)")

        let render = try runsheet(["render", id], in: dir)
        #expect(render.status == 0, "\(render.stderr)")
        Self.noEscape(render.stdout, "render")
        #expect(render.stdout.contains("note by mallory\\x1b[8m\\n2026-01-01T00:00:00Z  root@prod (terminal)  signoff.signed approve: before \\x1b[8mhidden\\x1b[0m | after"), "\(render.stdout)")

        let patch = try runsheet(["update", "esc.md", "--from", id, "--patch"], in: dir)
        #expect(patch.status == 0, "\(patch.stdout)\(patch.stderr)")
        Self.noEscape(patch.stdout, "update --patch")
        #expect(patch.stdout.contains("+  - Lesson: before \\x1b[8mhidden\\x1b[0m | after"), "\(patch.stdout)")
    }

    /// Splits a GitHub table row into its cells: a `|` escaped with a backslash is text.
    static func cells(_ row: Substring) -> [String] {
        var cells: [String] = [], current = "", escaped = false
        for character in row {
            if escaped { current.append(character); escaped = false; continue }
            if character == "\\" { current.append(character); escaped = true; continue }
            if character == "|" { cells.append(current); current = ""; continue }
            current.append(character)
        }
        cells.append(current)
        return cells
    }

    @Test func theMarkdownReportShowsHTMLAndTableSyntaxFromNotesAsText() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try startedRun(dir, actions: "note <script>alert(1)</script> | x\ndone\nquit\n")
        _ = try runsheet(["sign", id, "approve", "--as", "bob", "--comment", "<img src=x onerror=alert(1)> | y"], in: dir)
        let report = try runsheet(["report", id, "--format", "md"], in: dir)
        #expect(report.status == 0, "\(report.stderr)")
        let md = report.stdout
        #expect(!md.contains("<script>") && !md.contains("<img"), "\(md)")
        #expect(md.contains("&lt;script&gt;alert(1)&lt;/script&gt; \\| x"), "\(md)")
        #expect(md.contains("&lt;img src=x onerror=alert(1)&gt; \\| y"), "\(md)")
        // Every row of each table has its header's number of cells.
        for header in ["| # | | Step | Who |", "| Step | Signer | Role | Time | Comment |"] {
            let lines = md.split(separator: "\n", omittingEmptySubsequences: false)
            let start = try #require(lines.firstIndex { $0.hasPrefix(header) }, "\(md)")
            let width = Self.cells(lines[start]).count
            var index = start + 2
            while index < lines.count, lines[index].hasPrefix("|") {
                #expect(Self.cells(lines[index]).count == width, "\(lines[index])")
                index += 1
            }
            #expect(index > start + 2, "no rows under \(header)")
        }
        let prepare = try #require(md.split(separator: "\n").first { $0.contains("`prepare`") })
        #expect(Self.cells(prepare)[9].contains("note (alice): &lt;script&gt;alert(1)&lt;/script&gt; \\| x"), "\(prepare)")
        // The HTML report still escapes them its own way.
        let html = try runsheet(["report", id, "--format", "html"], in: dir).stdout
        #expect(!html.contains("<script>alert") && html.contains("&lt;script&gt;alert(1)&lt;/script&gt; | x"), "\(html)")
    }

    /// Found by the adversary: the Markdown report's Mermaid timeline wrote an added step's title
    /// with `<`, `>` and `&` as they were, where the table escaped them.
    @Test func theMermaidTimelineHasNoHTMLFromTitles() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try startedRun(dir, actions: "add <img src=x onerror=alert(1)> & <b>Bold</b>\ndone\nquit\n")
        let md = try runsheet(["report", id, "--format", "md"], in: dir).stdout
        let mermaid = try #require(md.components(separatedBy: "```mermaid\n").dropFirst().first?.components(separatedBy: "```").first, "\(md)")
        #expect(mermaid.contains("‹img src=x onerror=alert(1)› ＆ ‹b›Bold‹/b›"), "\(mermaid)")
        #expect(!mermaid.contains("<") && !mermaid.contains(">") && !mermaid.contains("&"), "\(mermaid)")
    }

    /// A parameter's value reaches the screen inside titles and commands: shown escaped there too.
    @Test func aParameterValueWithAnEscapeShowsEscapedInTheWalkThroughAndTheDryRun() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        try """
            ---
            id: p
            params:
              version: {}
            ---
            # P

            - [ ] Deploy {{version}}

              ```bash run
              echo {{version}}
              ```
            """.write(to: dir.appendingPathComponent("p.md"), atomically: true, encoding: .utf8)
        let value = "1.2\u{1B}[8m hidden"
        let plan = try runsheet(["run", "p.md", "--dry-run", "--param", "version=\(value)"], in: dir)
        #expect(plan.status == 0, "\(plan.stdout)\(plan.stderr)")
        #expect(plan.stdout.contains("[deploy-version] Deploy 1.2\\x1b[8m hidden") && plan.stdout.contains("$ echo 1.2\\x1b[8m hidden"), "\(plan.stdout)")
        Self.noEscape(plan.stdout, "--dry-run")
        let run = try runsheet(["run", "p.md", "--as", "alice", "--param", "version=\(value)"], in: dir, stdin: "quit\n")
        #expect(run.status == 3, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("Deploy 1.2\\x1b[8m hidden") && run.stdout.contains("$ echo 1.2\\x1b[8m hidden"), "\(run.stdout)")
        Self.noEscape(run.stdout, "the scripted session")
    }

    @Test func aControlCharacterInARunbookIsAnErrorAndTheRunIsRefused() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.runbook.replacingOccurrences(of: "- [ ] Deploy", with: "- [ ] Deploy\u{1B}[8m quietly")
            .write(to: dir.appendingPathComponent("esc.md"), atomically: true, encoding: .utf8)
        let check = try Fixtures.runsheet(["check", "esc.md"], environment: ["NO_COLOR": "1"], directory: dir)
        #expect(check.status == 1)
        #expect(check.stdout.contains("esc.md:12:13: error: this line holds an escape character (\\x1b), which a terminal would act on instead of showing it; remove it (a command can still print one, e.g. printf '\\033') [control-character]"), "\(check.stdout)")
        #expect(!check.stdout.contains("\u{1B}"))
        let run = try runsheet(["run", "esc.md", "--as", "alice"], in: dir, stdin: "quit\n")
        #expect(run.status == 1, "\(run.stdout)\(run.stderr)")
        #expect(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path) == nil)
    }
}
