import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// A journal written for a newer runsheet: every command that reads it refuses in one sentence
/// with exit 2 (README, "Exit codes"), rather than show part of the run.
@Suite struct JournalFormatCommandTests {
    @Test func commandsRefuseAJournalNeedingANewerReader() throws {
        let runs = try Fixtures.temporaryDirectory("newer-runs")
        let folder = runs.appendingPathComponent("newer-run")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let alice = Actor(name: "alice", host: "ops-1", via: "terminal")
        let started = try RunEvent(time: "2026-11-22T04:55:01.123Z", by: alice, .runStarted(RunStarted(
            schema: "runsheet.journal/1.6", runId: "newer-run", runbook: "r.md", runbookId: "r", title: "R", sha256: "ab",
            runsheetVersion: "9.0.0"))).sealed(seq: 1, after: "")
        let note = try RunEvent(time: started.time, by: alice, .note(NoteTaken(text: "x"))).sealed(seq: 2, after: started.hash)
        let journal = folder.appendingPathComponent("journal.jsonl")
        try (try started.canonicalJSON() + Data("\n".utf8) + note.canonicalJSON() + Data("\n".utf8)).write(to: journal)
        let sentence = "runsheet: \(journal.path):1: the journal format is runsheet.journal/1.6, but this runsheet reads only runsheet.journal/1 up to 1.5; upgrade runsheet to read it.\n"
        for command in ["status", "audit", "verify"] {
            let result = try Fixtures.runsheet([command, "newer-run", "--runs-dir", runs.path])
            #expect(result.status == 2, "\(command): \(result.stderr)")
            #expect(result.stderr == sentence, "\(command)")
        }
    }
}
