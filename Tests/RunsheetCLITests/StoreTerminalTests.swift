import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// A run of the PostgreSQL store on a real terminal (tmux, TERM=xterm): the operator's screen at a
/// `2 of cab` gate moves on by itself when two approvers sign from their own machines, and a halt
/// declared from another machine shows within a second.
@Suite(.serialized) struct StoreTerminalTests {
    let screen = TmuxScreen(prefix: "runsheet-store")

    /// The command line that starts `runsheet ARGUMENTS` on machine `machine` inside tmux.
    func command(_ machine: StoreRunTests.Machine, _ arguments: [String]) -> String {
        let environment = machine.environment.merging(["TERM": "xterm", "NO_COLOR": "1"]) { $1 }
            .map { "\($0.key)='\($0.value)'" }.sorted().joined(separator: " ")
        return "cd \(machine.dir.path) && env -u CI \(environment) \(Fixtures.binary.path) \(arguments.joined(separator: " ")) --store '\(machine.url)'; echo EXITED-$?; sleep 60"
    }

    @Test func theGateScreenMovesOnWhenTwoOtherMachinesSign() throws {
        #expect(FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux"), "tmux is required (scripts/install-deps installs it)")
        let s = try StoreRunTests().setup()
        #expect(try screen.tmux(["new-session", "-d", "-s", screen.session, "-x", "100", "-y", "40", command(s.a, ["run", "deploy.md", "--as", "alice@example.com"])]).status == 0)
        defer { _ = try? screen.tmux(["kill-server"]) }
        try screen.waitFor("Gate: sign-off by 2 of cab")
        let id = try #require(try s.sql("SELECT run FROM runsheet.runs").split(separator: "\n").first.map(String.init))
        #expect(try s.b.runsheet(["sign", id, "approve-the-deploy", "--as", "bob@example.com"]).status == 0)
        try screen.waitFor("needs 1 more of cab", seconds: 1)
        #expect(try s.c.runsheet(["sign", id, "approve-the-deploy", "--as", "carol@example.com"]).status == 0)
        let moved = try screen.waitFor("▶ Deploy", seconds: 1)
        #expect(moved.contains("Gate approved"), "\(moved)")
        try screen.keys("r")
        try screen.waitFor("Run this command now?")
        try screen.keys("y")
        try screen.waitFor("press any key")
        try screen.keys("Enter")
        try screen.waitFor("EXITED-0")
        #expect(try s.sql("SELECT convert_from(line, 'UTF8') FROM runsheet.events WHERE run = '\(id)' ORDER BY seq DESC LIMIT 1").contains("\"completed\""))
    }

    @Test func aHaltFromAnotherMachineShowsWithinASecond() throws {
        #expect(FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux"), "tmux is required (scripts/install-deps installs it)")
        let s = try StoreRunTests().setup()
        for name in [".runsheet", ".git"] {
            try FileManager.default.copyItem(at: s.a.dir.appendingPathComponent(name), to: s.c.dir.appendingPathComponent(name))
        }
        #expect(try screen.tmux(["new-session", "-d", "-s", screen.session, "-x", "100", "-y", "40", command(s.a, ["run", "change.md", "--as", "alice@example.com"])]).status == 0)
        defer { _ = try? screen.tmux(["kill-server"]) }
        try screen.waitFor("▶ Prepare")
        try screen.keys("d")
        try screen.waitFor("▶ Switch traffic")
        // Declared on another machine while the operator waits at the production step.
        #expect(try s.c.runsheet(["halt", "--reason", "INC-9 checkout errors", "--as", "carol@example.com"]).status == 0)
        let shown = try screen.waitFor("HALTED", seconds: 1)
        #expect(shown.contains("halted by carol@example.com") && shown.contains("INC-9"), "\(shown)")
        try screen.keys("d")
        try screen.waitFor("step 'switch-traffic' is a production change")
        try screen.keys("q")
        try screen.waitFor("EXITED-3")
    }
}
