import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// More of the walk-through in tmux (the helpers and the serialized suite are TerminalTests'):
/// colour and an 80-column screen. The keys that move, fail, explain and abort are driven in
/// process, frame by frame, by WalkThroughScreenTests.
extension TerminalTests {
    static let demo = Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/runbooks/run-demo.md").path

    /// The visible screen; `escapes` keeps the colour and style sequences, `joined` puts lines the
    /// terminal wrapped back together.
    func capture(escapes: Bool = false, joined: Bool = false) throws -> String {
        try tmux(["capture-pane", "-p", "-t", session] + (escapes ? ["-e"] : []) + (joined ? ["-J"] : [])).stdout
    }

    /// Waits until the screen satisfies `condition`, failing with the screen after `seconds`.
    @discardableResult
    func waitUntil(_ what: String, seconds: Double = 15, _ condition: (String) -> Bool) throws -> String {
        let deadline = Date().addingTimeInterval(seconds)
        var last = ""
        while Date() < deadline {
            last = try screen()
            if condition(last) { return last }
            Thread.sleep(forTimeInterval: 0.1)
        }
        Issue.record("the screen never showed \(what); it shows:\n\(last)")
        return last
    }

    func keys(_ keys: String...) throws { try tmux(["send-keys", "-t", session] + keys) }

    func type(_ text: String) throws {
        try tmux(["send-keys", "-t", session, "-l", text])
        try tmux(["send-keys", "-t", session, "Enter"])
    }

    @Test func colourOnlyOnATerminalAndNotWithNoColorSet() throws {
        // NO_COLOR counts only when it is present and not empty (no-color.org).
        for (setting, coloured) in [("", true), ("NO_COLOR=1", false), ("NO_COLOR=", true)] {
            let runs = try Fixtures.temporaryDirectory()
            let command = "env -u CI -u NO_COLOR TERM=xterm-256color \(setting) \(Fixtures.binary.path) run \(Self.demo) --runs-dir \(runs.path); echo EXITED-$?; sleep 30"
            try start(["new-session", "-d", "-s", session, "-x", "80", "-y", "30", command])
            defer { _ = try? tmux(["kill-server"]) }
            _ = try waitFor("▶ Read the notes")
            let shown = try capture(escapes: true)
            #expect(shown.contains("\u{1B}[") == coloured, "\(setting.isEmpty ? "NO_COLOR unset" : setting): \(shown.debugDescription)")
            try keys("q")
            _ = try waitFor("EXITED-3")
        }

        // Standard output into a pipe is no terminal, even with the keyboard on one: no colour.
        let runs = try Fixtures.temporaryDirectory()
        let piped = "env -u CI -u NO_COLOR TERM=xterm-256color \(Fixtures.binary.path) run \(Self.demo) --runs-dir \(runs.path) | cat; sleep 30"
        try start(["new-session", "-d", "-s", session, "-x", "80", "-y", "30", piped])
        defer { _ = try? tmux(["kill-server"]) }
        _ = try waitFor("▶ [0/4] read-the-notes")
        try type("quit")
        _ = try waitFor("resume with: runsheet resume")
        let shown = try capture(escapes: true)
        #expect(!shown.contains("\u{1B}["), "\(shown.debugDescription)")
        let scripted = try Fixtures.runsheet(["run", Self.demo, "--runs-dir", runs.path], stdin: "done\nrun\nquit\n",
                                             environment: ["NO_COLOR": "", "TERM": "xterm-256color"])
        #expect(scripted.status == 3 && scripted.stdout.contains("✓ commands passed"), "\(scripted.stdout)\n\(scripted.stderr)")
        #expect(!scripted.stdout.contains("\u{1B}"), "\(scripted.stdout.debugDescription)")
    }

    @Test func eightyColumnsNeverWrapWithLongTitlesCommandsAndWideCharacters() throws {
        let dir = try Fixtures.temporaryDirectory()
        let command = "echo deploying the service with a deliberately long command line --flag-one=value --flag-two=value --label=発布発布発布発布発布 --done"
        try """
            # Release 発布手順書 with a title far too long for one line of an eighty-column terminal 🚀🚀🚀

            ## 準備: a section title that is also much longer than the terminal has room for 🚀🚀

            - [ ] デプロイ前にすべてのサービスの状態を確認してください, then confirm every dashboard is green 🚀🚀🚀
              - Estimate: 5m

              Read https://dashboards.example.com/d/a-very-long-dashboard-identifier-without-spaces/overview?org=1 and 中文说明文字中文说明文字中文说明文字中文说明文字中文说明文字中文说明文字中文说明文字 first.

              ```bash run
              \(command)
              ```
            - [ ] Second step

            """.write(to: dir.appendingPathComponent("wide.md"), atomically: true, encoding: .utf8)
        let runs = dir.appendingPathComponent("runs")
        let run = "cd \(dir.path) && env -u CI TERM=xterm-256color NO_COLOR=1 \(Fixtures.binary.path) run wide.md --runs-dir \(runs.path); echo EXITED-$?; sleep 30"
        try start(["new-session", "-d", "-s", session, "-x", "80", "-y", "50", run])
        defer { _ = try? tmux(["kill-server"]) }
        // The key bar's first line at 80 columns; the rest goes on the next (issue 15).
        let keyList = "[d]one  [r]un  [s]kip  [f]ail  [n]ote  [l]esson  [a]dd  [b]ack  [g]oto"

        /// tmux joins the rows of a line it had to wrap: no wrap, as many joined lines as rows.
        func expectNoWrap(_ what: String) throws {
            let rows = try capture().split(separator: "\n", omittingEmptySubsequences: false)
            let lines = try capture(joined: true).split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.count == rows.count, "\(what): a line wrapped past 80 columns:\n\(rows.joined(separator: "\n"))")
        }
        var shown = try waitFor(keyList)
        try expectNoWrap("the step screen")
        var rows = shown.split(separator: "\n").map(String.init)
        #expect(rows.contains(keyList) && rows.contains("[Tab/o] steps  [c]opy  [x]abort  [?]help  [q]uit"), "the key bar wraps between keys")
        #expect(rows.contains { $0.hasPrefix("[") && $0.contains("] 0/2  elapsed 00:") }, "the progress line is whole")
        #expect(rows.contains { $0.hasPrefix("Release 発布手順書 with a title") && $0.hasSuffix("…") })
        #expect(rows.contains { $0.hasPrefix("▶ デプロイ前に") && $0.hasSuffix("…") })
        // The command is never cut: it breaks at spaces, each row after the first marked ↪ in the
        // margin, and its rows, put together, are the whole command.
        let first = try #require(rows.firstIndex { $0.hasPrefix("  $ ") })
        let continued = rows[(first + 1)...].prefix { $0.hasPrefix("  ↪ ") }
        #expect(!continued.isEmpty)
        #expect(([String(rows[first].dropFirst(4))] + continued.map { String($0.dropFirst(4)) }).joined(separator: " ") == command)

        try keys("s")
        shown = try waitFor("Reason to skip (Esc cancels):")
        try expectNoWrap("the skip prompt")
        rows = shown.split(separator: "\n").map(String.init)
        #expect(rows.contains(keyList) && rows.contains("Reason to skip (Esc cancels):"))
        try keys("Escape")
        // A key right after Escape would be taken for the rest of an escape sequence: wait first.
        try waitUntil("the step again, without the prompt") { $0.contains(keyList) && !$0.contains("Reason to skip") }
        try keys("?")
        _ = try waitFor("press any key")
        try expectNoWrap("the help screen")
        try keys("Space")
        _ = try waitFor(keyList)
        try keys("q")
        _ = try waitFor("EXITED-3")
    }
}
