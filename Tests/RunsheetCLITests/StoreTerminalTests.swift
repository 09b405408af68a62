import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// A run of the PostgreSQL store on a real terminal (tmux, TERM=xterm): the operator's screen at a
/// `2 of cab` gate moves on by itself when two approvers sign from their own machines, and a halt
/// declared from another machine shows within a second.
@Suite(.serialized) struct StoreTerminalTests {
    let session = "runsheet-store-\(UUID().uuidString.prefix(8))"

    @discardableResult
    func tmux(_ arguments: [String]) throws -> ProcessResult { try Tmux.run(arguments, server: session) }

    func keys(_ keys: String...) throws { try tmux(["send-keys", "-t", session] + keys) }

    @discardableResult
    func waitFor(_ text: String, seconds: Double = 15, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        try Tmux.waitFor(text, server: session, seconds: seconds, every: 0.05, sourceLocation: sourceLocation)
    }

    /// The command line that starts `runsheet ARGUMENTS` on machine `machine` inside tmux.
    func command(_ machine: StoreRunTests.Machine, _ arguments: [String]) -> String {
        let environment = machine.environment.merging(["TERM": "xterm", "NO_COLOR": "1"]) { $1 }
            .map { "\($0.key)='\($0.value)'" }.sorted().joined(separator: " ")
        return "cd \(machine.dir.path) && env -u CI \(environment) \(Fixtures.binary.path) \(arguments.joined(separator: " ")) --store '\(machine.url)'; echo EXITED-$?; sleep 60"
    }

    @Test func theGateScreenMovesOnWhenTwoOtherMachinesSign() throws {
        #expect(FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux"), "tmux is required (scripts/install-deps installs it)")
        let s = try StoreRunTests().setup()
        #expect(try tmux(["new-session", "-d", "-s", session, "-x", "100", "-y", "40", command(s.a, ["run", "deploy.md", "--as", "alice@example.com"])]).status == 0)
        defer { _ = try? tmux(["kill-server"]) }
        try waitFor("Gate: sign-off by 2 of cab")
        let id = try #require(try s.sql("SELECT run FROM runsheet.runs").split(separator: "\n").first.map(String.init))
        #expect(try s.b.runsheet(["sign", id, "approve-the-deploy", "--as", "bob@example.com"]).status == 0)
        try waitFor("needs 1 more of cab", seconds: 1)
        #expect(try s.c.runsheet(["sign", id, "approve-the-deploy", "--as", "carol@example.com"]).status == 0)
        let moved = try waitFor("▶ Deploy", seconds: 1)
        #expect(moved.contains("Gate approved"), "\(moved)")
        try keys("r")
        try waitFor("Run this command now?")
        try keys("y")
        try waitFor("press any key")
        try keys("Enter")
        try waitFor("EXITED-0")
        #expect(try s.sql("SELECT convert_from(line, 'UTF8') FROM runsheet.events WHERE run = '\(id)' ORDER BY seq DESC LIMIT 1").contains("\"completed\""))
    }

    @Test func aHaltFromAnotherMachineShowsWithinASecond() throws {
        #expect(FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux"), "tmux is required (scripts/install-deps installs it)")
        let s = try StoreRunTests().setup()
        for name in [".runsheet", ".git"] {
            try FileManager.default.copyItem(at: s.a.dir.appendingPathComponent(name), to: s.c.dir.appendingPathComponent(name))
        }
        #expect(try tmux(["new-session", "-d", "-s", session, "-x", "100", "-y", "40", command(s.a, ["run", "change.md", "--as", "alice@example.com"])]).status == 0)
        defer { _ = try? tmux(["kill-server"]) }
        try waitFor("▶ Prepare")
        try keys("d")
        try waitFor("▶ Switch traffic")
        // Declared on another machine while the operator waits at the production step.
        #expect(try s.c.runsheet(["halt", "--reason", "INC-9 checkout errors", "--as", "carol@example.com"]).status == 0)
        let shown = try waitFor("HALTED", seconds: 1)
        #expect(shown.contains("halted by carol@example.com") && shown.contains("INC-9"), "\(shown)")
        try keys("d")
        try waitFor("step 'switch-traffic' is a production change")
        try keys("q")
        try waitFor("EXITED-3")
    }
}
