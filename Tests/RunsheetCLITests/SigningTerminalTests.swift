import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Issue 14 through a real pseudo-terminal (tmux): a passphrase-protected key asks for its
/// passphrase on the terminal, at the start and again for `run.ended` while the walk-through
/// holds the terminal, and both events are signed.
@Suite(.serialized) struct SigningTerminalTests {
    @Test func aPassphraseIsAskedOnTheTerminalAndTheRunIsSigned() throws {
        let pty = TerminalTests()
        let (dir, _, _) = try SigningTests().repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let locked = try SigningKeys.generate(name: "alice-locked", in: dir.appendingPathComponent("keys"), passphrase: "open sesame")
        try SigningKeys.allow([("alice", locked)], in: dir)
        try "---\nid: t\ntitle: T\n---\n# T\n\n- [ ] One\n".write(to: dir.appendingPathComponent("t.md"), atomically: true, encoding: .utf8)
        let runs = dir.appendingPathComponent("runs")
        let command = "cd \(dir.path) && env -u CI TERM=xterm NO_COLOR=1 RUNSHEET_SIGNING_KEY= \(Fixtures.binary.path) run t.md --runs-dir \(runs.path) --key \(locked); echo EXITED-$?; sleep 30"
        try pty.start(["new-session", "-d", "-s", pty.session, "-x", "100", "-y", "30", command])
        defer { _ = try? pty.tmux(["kill-server"]) }

        var shown = try pty.waitFor("Enter passphrase")
        #expect(shown.components(separatedBy: "Enter passphrase").count == 2, "asked once, and it waits: \(shown)")
        _ = try pty.tmux(["send-keys", "-t", pty.session, "open sesame", "Enter"])
        _ = try pty.waitFor("▶ One")
        _ = try pty.tmux(["send-keys", "-t", pty.session, "d"])
        shown = try pty.waitFor("Enter passphrase")
        _ = try pty.tmux(["send-keys", "-t", pty.session, "open sesame", "Enter"])
        shown = try pty.waitFor("EXITED-")
        #expect(shown.contains("EXITED-0") && shown.contains("completed"), "\(shown)")
        let id = try #require(Fixtures.onlyRun(in: runs.path))
        let events = try RepositoryRuns.events(dir, id: id)
        #expect(events.filter { $0["signature"] is String }.map { $0["type"] as? String } == ["run.started", "run.ended"], "\(events)")
        let verify = try Fixtures.runsheet(["verify", id, "--runs-dir", runs.path], directory: dir)
        #expect(verify.status == 0 && verify.stdout.contains("run.ended by alice") && verify.stdout.contains(": verified"), "\(verify.stdout)")
    }
}
