import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// The temporary folders of a session on the PostgreSQL store (its local copy of the run, the
/// store's halts as a file): SIGTERM and SIGHUP stop the session as a lost store does and remove
/// them; what a kill -9 leaves behind the next store command of the same user removes, and never
/// a live session's folder, a link, or another user's folder. Through the binary, against a
/// throwaway server, each machine with a TMPDIR of its own.
@Suite(.serialized) struct StoreSessionFolderTests {
    let runs = StoreRunTests()

    /// Waits for `session` to end by itself (its standard input stays open: closing it would pause the run).
    func ended(_ session: RunningRunsheet, seconds: Double = 30) -> (signal: Int32?, status: Int32) {
        let deadline = Date().addingTimeInterval(seconds)
        while session.process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        let status = session.finish(seconds: 1)
        return (session.process.terminationReason == .uncaughtSignal ? status : nil, status)
    }

    func events(_ s: StoreRunTests.Setup, _ id: String) throws -> String {
        try s.sql("SELECT count(*) FROM runsheet.events WHERE run = '\(id)'")
    }

    @Test func sigtermAndSighupStopASessionAtAGateWithNoFolderLeftAndTheRunResumesToTheEnd() throws {
        let s = try runs.setup()
        let a = try s.a.start(["run", "deploy.md", "--as", "alice@example.com"])
        a.send("wait")
        let id = try runs.startedID(a)
        #expect(a.waitFor("needs 2 more of cab", seconds: 30), "\(a.printed)\(a.errors)")
        #expect(!runs.leftovers(s.a).isEmpty, "the session keeps its local copy while it runs")
        kill(a.process.processIdentifier, SIGTERM)
        let first = ended(a)
        #expect(first.signal == SIGTERM, "ended by \(first)")
        let stored = try events(s, id)
        #expect(a.errors.contains("SIGTERM stopped the session of run \(id): it stops here with every event up to \(stored) in the store") &&
                a.errors.contains("'runsheet resume \(id)' continues the run"), "\(a.errors)")
        #expect(runs.leftovers(s.a).isEmpty, "left behind: \(runs.leftovers(s.a))")

        // Resumed, it waits at the gate again; SIGHUP (the terminal closed) stops it the same way.
        let resumed = try s.a.start(["resume", id, "--as", "alice@example.com"])
        resumed.send("wait")
        #expect(resumed.waitFor("needs 2 more of cab", seconds: 30), "\(resumed.printed)\(resumed.errors)")
        #expect(!runs.leftovers(s.a).isEmpty)
        kill(resumed.process.processIdentifier, SIGHUP)
        let second = ended(resumed)
        #expect(second.signal == SIGHUP, "ended by \(second)")
        #expect(resumed.errors.contains("SIGHUP stopped the session of run \(id): it stops here with every event up to \(try events(s, id)) in the store"),
                "\(resumed.errors)")
        #expect(runs.leftovers(s.a).isEmpty, "left behind: \(runs.leftovers(s.a))")

        // Nothing acknowledged was lost: the two approvers sign and the run goes on to the end.
        for (machine, name) in [(s.b, "bob@example.com"), (s.c, "carol@example.com")] {
            let signed = try machine.runsheet(["sign", id, "approve-the-deploy", "--as", name])
            #expect(signed.status == 0, "\(signed.stdout)\(signed.stderr)")
        }
        let last = try s.a.runsheet(["resume", id, "--as", "alice@example.com"], stdin: "done\nrun\n")
        #expect(last.status == 0, "\(last.status) \(last.stdout)\(last.stderr)")
        let verified = try s.a.runsheet(["verify", id])
        #expect(verified.status == 0 && verified.stdout.contains("intact"), "\(verified.stdout)\(verified.stderr)")
        let journal = try s.sql("SELECT string_agg(convert_from(line, 'UTF8'), '' ORDER BY seq) FROM runsheet.events WHERE run = '\(id)'")
        #expect(journal.contains("\"run.ended\"") && journal.contains("\"completed\""), "\(journal)")
        #expect(runs.leftovers(s.a).isEmpty, "left behind: \(runs.leftovers(s.a))")
    }

    @Test func whatAKilledSessionLeavesTheNextStoreCommandRemovesAndNothingElse() throws {
        let s = try runs.setup()
        let tmp = s.a.dir.appendingPathComponent("tmp")
        let a = try s.a.start(["run", "deploy.md", "--as", "alice@example.com"])
        a.send("wait")
        let id = try runs.startedID(a)
        #expect(a.waitFor("needs 2 more of cab", seconds: 30), "\(a.printed)\(a.errors)")
        let pid = a.process.processIdentifier
        let killed = runs.leftovers(s.a)
        #expect(!killed.isEmpty && killed.allSatisfy { $0.contains("-\(pid)-") }, "named for their process: \(killed)")
        _ = a.kill()
        #expect(runs.leftovers(s.a) == killed, "kill -9 leaves them")

        // A live session's folders, while it waits at the gate.
        let live = try s.a.start(["resume", id, "--as", "alice@example.com"])
        live.send("wait")
        #expect(live.waitFor("needs 2 more of cab", seconds: 30), "\(live.printed)\(live.errors)")
        let theirs = runs.leftovers(s.a).filter { !killed.contains($0) }
        #expect(!theirs.isEmpty)

        // Planted: a link named as a dead session's folder (to a folder that must survive), a
        // folder named for a live process that is no session, and, as root, another user's folder.
        let dead = Self.deadPID()
        let victim = s.a.dir.appendingPathComponent("victim")
        try FileManager.default.createDirectory(at: victim, withIntermediateDirectories: true)
        try "keep".write(to: victim.appendingPathComponent("file"), atomically: true, encoding: .utf8)
        let link = "runsheet-store-session-\(dead)-\(UUID().uuidString)"
        try FileManager.default.createSymbolicLink(atPath: tmp.appendingPathComponent(link).path, withDestinationPath: victim.path)
        let alive = "runsheet-store-session-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(at: tmp.appendingPathComponent(alive + "/runs"), withIntermediateDirectories: true)
        var planted = [link, alive]
        if geteuid() == 0 {
            let others = "runsheet-store-run-\(dead)-\(UUID().uuidString)"
            try FileManager.default.createDirectory(at: tmp.appendingPathComponent(others + "/runs"), withIntermediateDirectories: true)
            #expect(chown(tmp.appendingPathComponent(others).path, 65534, 65534) == 0)
            planted.append(others)
        }

        // Any store command of the same user sweeps: the killed session's folders go, nothing else.
        let status = try s.a.runsheet(["status", id])
        #expect(status.status == 0, "\(status.stdout)\(status.stderr)")
        #expect(Set(runs.leftovers(s.a)) == Set(theirs + planted), "after the sweep: \(runs.leftovers(s.a))")
        #expect(FileManager.default.fileExists(atPath: victim.appendingPathComponent("file").path), "the link was not followed")
        #expect(live.process.isRunning)

        kill(live.process.processIdentifier, SIGTERM)
        #expect(ended(live).signal == SIGTERM, "\(live.printed)\(live.errors)")
        #expect(Set(runs.leftovers(s.a)) == Set(planted), "the live session removed its own: \(runs.leftovers(s.a))")
    }

    /// The id of a process that has ended (a `/bin/true` waited for).
    static func deadPID() -> pid_t {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try? process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }
}
