import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Ctrl-C (SIGINT) sent to the real binary where nothing is running in the foreground: between a
/// command's attempts, and in a scripted `wait` at a gate.
@Suite struct InterruptTests {
    func events(_ runs: URL) throws -> [RunEvent] {
        guard let id = Fixtures.onlyRun(in: runs.path) else { return [] }
        return try JournalFile.read(at: runs.appendingPathComponent(id + "/journal.jsonl").path, repair: false).events
    }

    /// Ctrl-C while a failed command waits for its next attempt stops the step as it does during
    /// the command: no further attempt, the step stays open, the run goes on.
    @Test(arguments: ["Retries: 3 every 30s", "Poll: every 30s for 5m"])
    func ctrlCBetweenAttemptsStopsTheStep(annotation: String) throws {
        let dir = try Fixtures.temporaryDirectory()
        let runbook = dir.appendingPathComponent("waits.md")
        try "# Waits\n\n- [ ] Check the service\n  - \(annotation)\n\n  ```sh run\n  echo checking; exit 1\n  ```\n- [ ] Next\n"
            .write(to: runbook, atomically: true, encoding: .utf8)
        let runs = dir.appendingPathComponent("runs")
        let run = try RunningRunsheet(["run", runbook.path, "--runs-dir", runs.path], environment: ["CI": ""])
        run.send("run")
        #expect(run.waitFor("│ checking"), "\(run.printed)")
        // The first attempt is recorded: the runner is now waiting before the second.
        let deadline = Date().addingTimeInterval(10)
        while try !events(runs).contains(where: { $0.type == .commandFinished }) && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        Thread.sleep(forTimeInterval: 0.3)
        kill(run.process.processIdentifier, SIGINT)
        #expect(run.waitFor("■ interrupted; the step is still open", seconds: 10), "\(run.printed)")
        run.send("note still open", "quit")
        #expect(run.finish(seconds: 20) == 3, "\(run.printed)\n\(run.errors)")
        let recorded = try events(runs)
        #expect(recorded.filter { $0.type == .commandFinished }.count == 1)
        let state = RunState.fold(recorded)
        #expect(state.record("check-the-service").status == .active)
        #expect(state.record("check-the-service").notes.map(\.text) == ["still open"])
        #expect(!run.printed.contains("attempt 2"))
    }

    /// In a script, `wait` at a gate nobody signs ends with Ctrl-C: the run pauses (exit 3).
    @Test func ctrlCWhileAScriptWaitsAtAGatePausesTheRun() throws {
        let dir = try Fixtures.temporaryDirectory()
        let runbook = dir.appendingPathComponent("gate.md")
        try "---\nroles: [sre]\n---\n# Gate\n\n- [ ] Approve the change\n  - Sign-off: sre\n- [ ] Deploy\n"
            .write(to: runbook, atomically: true, encoding: .utf8)
        let runs = dir.appendingPathComponent("runs")
        let run = try RunningRunsheet(["run", runbook.path, "--runs-dir", runs.path, "--as", "alice"], environment: ["CI": ""])
        run.send("wait")
        // The gate's line is shown when the step is announced and again when the wait begins.
        #expect(run.waitFor("signed: nobody yet", count: 2), "\(run.printed)")
        kill(run.process.processIdentifier, SIGINT)
        #expect(run.waitFor("resume with: runsheet resume", seconds: 10), "\(run.printed)")
        #expect(run.finish(seconds: 10) == 3, "\(run.printed)\n\(run.errors)")
        #expect(run.printed.contains("■ interrupted"))
        let recorded = try events(runs)
        #expect(recorded.last?.type == .runPaused)
        #expect(RunState.fold(recorded).record("approve-the-change").status == .active)
    }

    /// The same in process, for both of a script's waits: for a gate's signatures and for the
    /// calendar exception a production step in a freeze needs.
    @Test(arguments: ["gate", "freeze"])
    func ctrlCEndsAScriptedWait(for what: String) throws {
        let dir = try Fixtures.temporaryDirectory()
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        try "roles:\n  sre: [carol]\n  operator: [alice]\n".write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        try "exception-roles: [sre]\nfreezes:\n  - {name: now, from: 2000-01-01, to: 2999-12-31}\n"
            .write(to: dir.appendingPathComponent(".runsheet/calendar.yaml"), atomically: true, encoding: .utf8)
        let step = what == "gate" ? "- [ ] Approve the change\n  - Sign-off: sre\n" : "- [ ] Switch traffic\n  - Production: yes\n"
        try "# Change\n\n\(step)- [ ] Tidy up\n".write(to: dir.appendingPathComponent("change.md"), atomically: true, encoding: .utf8)
        let runs = dir.appendingPathComponent("runs")
        let terminal = ScriptedTerminal(script: ["wait", "note never read"])
        Thread {
            Thread.sleep(forTimeInterval: 0.8)
            terminal.interrupt()
        }.start()
        let started = Date()
        let result = try InProcess.walk(["run", dir.appendingPathComponent("change.md").path, "--runs-dir", runs.path, "--as", "alice"], on: terminal)
        #expect(result.status == 3, "\(result.stdout)\n\(result.stderr)")
        #expect(Date().timeIntervalSince(started) < 10)
        #expect(result.stdout.contains(what == "gate" ? "signed: nobody yet" : "⛔ production change blocked"), "\(result.stdout)")
        #expect(result.stdout.contains("■ interrupted\nrun "), "\(result.stdout)")
        #expect(result.stdout.contains("paused; resume with: runsheet resume"))
        #expect(terminal.unread == 1)
        let recorded = try events(runs)
        #expect(recorded.last?.type == .runPaused)
        #expect(!recorded.contains { $0.type == .note })
    }
}
