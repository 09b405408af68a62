import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Two runsheet processes writing to one run at once, each through the whole product path
/// (walk-through, engine, `JournalFile.append` under `flock`): every line stays intact and chained.
@Suite struct ConcurrentWriterTests {
    @Test func twoProcessesAppendAThousandEventsEachToOneRun() throws {
        let dir = try Fixtures.temporaryDirectory()
        let runbook = dir.appendingPathComponent("shared.md")
        try "# Shared\n\n- [ ] Watch the rollout\n- [ ] Close the change\n".write(to: runbook, atomically: true, encoding: .utf8)
        let runs = dir.appendingPathComponent("runs").path
        let start = try Fixtures.runsheet(["run", runbook.path, "--runs-dir", runs, "--as", "starter"], stdin: "quit\n")
        #expect(start.status == 3, "\(start.stdout)\n\(start.stderr)")
        let id = try #require(Fixtures.onlyRun(in: runs))
        let journal = runs + "/" + id + "/journal.jsonl"
        let before = try JournalFile.read(at: journal, repair: false).events.count

        // Both resume and are waiting for input before either gets any, so their appends overlap.
        let writers = try ["alice", "bob"].map { name in
            (name, try RunningRunsheet(["resume", id, "--runs-dir", runs, "--as", name]))
        }
        for (name, walk) in writers { #expect(walk.waitFor("▶"), "\(name): \(walk.printed)\n\(walk.errors)") }
        let notes = 1_000
        for (name, walk) in writers {
            #expect(walk.send((1...notes).map { "note \(name) #\($0)" }.joined(separator: "\n")))
        }
        for (name, walk) in writers {
            // End of input pauses the run: exit 3, after every note was acknowledged.
            #expect(walk.finish() == 3, "\(name): \(walk.errors)")
            #expect(walk.printed.components(separatedBy: "  noted\n").count - 1 == notes, "\(name)")
        }

        let contents = try JournalFile.read(at: journal, repair: false)
        #expect(contents.tornLine == nil)
        let events = contents.events
        let lines = try String(contentsOfFile: journal, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == events.count + 1 && lines.last == "", "one event per line, each ending in a newline")
        // Each writer adds run.resumed, its notes and run.paused to what the start wrote.
        #expect(events.count == before + 2 * (notes + 2))
        #expect(events.map(\.seq) == Array(1...events.count))
        for (name, _) in writers {
            let mine = events.filter { $0.type == .note && $0.actor == name }.compactMap { $0.data["text"]?.string }
            #expect(mine == (1...notes).map { "\(name) #\($0)" }, "\(name)'s notes, each once and in order")
            #expect(events.filter { $0.actor == name }.map(\.type.rawValue).sorted() == (["run.paused", "run.resumed"] + Array(repeating: "note", count: notes)).sorted())
        }
        // The writers took turns on the lock rather than one finishing before the other began.
        let alice = events.indices.filter { events[$0].actor == "alice" }
        #expect(alice.last! - alice.first! + 1 > alice.count, "alice's events were never interleaved with bob's")
        let report = try JournalVerifier.verify(path: journal)
        #expect(report.problem == nil, "\(String(describing: report.problem))")
        #expect(report.eventCount == events.count && report.headHash == events.last?.hash)
        #expect(try Fixtures.runsheet(["verify", id, "--runs-dir", runs]).status == 0)
    }
}
