import Foundation
import RunsheetCore
import Testing

/// What the speed work on reading and verifying journals must not change (docs/BENCHMARKS.md,
/// "Journal", 2026-12-04): seals are checked against every earlier hash, now kept as 32 bytes
/// each, and must name that hash exactly as written, whatever it looks like; events stamped
/// earlier than the one before them are found by index, and events with the same time never are.
@Suite struct JournalSpeedEquivalenceTests {
    let alice = Actor(name: "alice", host: "h", via: "terminal")

    /// A run.started, a note whose hash is `noteHash` as written, and a seal of the note naming `sealedHead`.
    func sealedNote(noteHash: String, sealedHead: String) throws -> [RunEvent] {
        let started = RunStarted(schema: JournalFormat.writtenSigned, runId: "r1", runbook: "r.md", runbookId: "r", title: "R",
                                 sha256: "ab", stepHashes: [:], runsheetVersion: "0")
        let one = try RunEvent(time: "2026-11-22T04:55:01.123Z", by: alice, .runStarted(started)).sealed(seq: 1, after: "")
        var note = try RunEvent(time: "2026-11-22T04:55:02.123Z", by: alice, .note(NoteTaken(text: "n"))).sealed(seq: 2, after: one.hash)
        note.hash = noteHash
        var seal = try RunEvent(time: "2026-11-22T04:55:03.123Z", by: alice, .journalSealed(JournalSealed(head: sealedHead, seq: 2)))
        seal.signature = "-----BEGIN SSH SIGNATURE-----\n-----END SSH SIGNATURE-----"
        return [one, note, try seal.sealed(seq: 3, after: noteHash)]
    }

    @Test(arguments: [
        String(repeating: "0123456789abcdef", count: 4),  // as runsheet writes it
        String(repeating: "0123456789ABCDEF", count: 4),  // uppercase: kept as written, not as bytes
        "3f2a", String(repeating: "g", count: 64), String(repeating: "é", count: 32), "",
    ])
    func aSealIsCheckedAgainstTheHashAsWritten(hash: String) throws {
        #expect(SignedRecordCheck.firstProblem(in: try sealedNote(noteHash: hash, sealedHead: hash)) == nil)
        let other = String(repeating: "1", count: 64)
        let problem = SignedRecordCheck.firstProblem(in: try sealedNote(noteHash: hash, sealedHead: other))
        #expect(problem?.kind == .sealBroken && problem?.line == 3)
        #expect(problem?.message.contains("sealed event 2 with hash \(other), but event 2 now has hash \(hash), ") == true)
    }

    /// The hashes are kept in chunks of 4,096: a seal of an event on either side of a chunk's
    /// edge is checked against that event's hash as written, and a wrong one is found.
    @Test func sealsAcrossTheHashChunksAreCheckedAgainstTheirEvent() throws {
        var events = try sealedNote(noteHash: String(repeating: "0", count: 64), sealedHead: String(repeating: "0", count: 64)).prefix(1).map { $0 }
        let odd: [Int: String] = [4_096: "3f2a", 4_097: String(repeating: "AB", count: 32), 8_192: "", 8_193: String(repeating: "é", count: 32)]
        for seq in 2...9_000 {
            var note = try RunEvent(time: "2026-11-22T04:55:02.123Z", by: alice, .note(NoteTaken(text: "n\(seq)"))).sealed(seq: seq, after: events[seq - 2].hash)
            note.hash = odd[seq] ?? String(format: "%064x", seq)
            events.append(note)
        }
        func sealing(_ seqs: [Int], head: (Int) -> String) throws -> [RunEvent] {
            var all = events
            for sealed in seqs {
                var seal = try RunEvent(time: "2026-11-22T04:55:03.123Z", by: alice, .journalSealed(JournalSealed(head: head(sealed), seq: sealed)))
                seal.signature = "-----BEGIN SSH SIGNATURE-----\n-----END SSH SIGNATURE-----"
                all.append(try seal.sealed(seq: all.count + 1, after: all[all.count - 1].hash))
            }
            return all
        }
        let edges = [2, 4_095, 4_096, 4_097, 4_098, 8_192, 8_193, 8_194, 9_000]
        #expect(SignedRecordCheck.firstProblem(in: try sealing(edges) { events[$0 - 1].hash }) == nil)
        for wrong in edges {
            let problem = SignedRecordCheck.firstProblem(in: try sealing([wrong]) { $0 == wrong ? String(repeating: "1", count: 64) : events[$0 - 1].hash })
            #expect(problem?.kind == .sealBroken && problem?.line == 9_001, "seal of event \(wrong)")
            #expect(problem?.message.contains("but event \(wrong) now has hash \(events[wrong - 1].hash), ") == true)
        }
    }

    @Test func eventsStampedEarlierAreFoundAndTheSameTimeIsNot() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("speed-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/journal.jsonl"
        let started = RunStarted(schema: JournalFormat.written, runId: "r1", runbook: "r.md", runbookId: "r", title: "R",
                                 sha256: "ab", stepHashes: [:], runsheetVersion: "0")
        try JournalFile.create(at: path, first: try RunEvent(time: "2026-11-22T04:55:05.000Z", by: alice, .runStarted(started)))
        let journal = try JournalFile(path: path)
        // The same time again, then earlier (line 3), later, earlier again in another form (line 5), then that same text again.
        for time in ["2026-11-22T04:55:05.000Z", "2026-11-22T04:55:04.000Z", "2026-11-22T04:55:09.000Z",
                     "2026-11-22T05:55:08.000+01:00", "2026-11-22T05:55:08.000+01:00"] {
            try journal.append(try RunEvent(time: time, by: alice, .note(NoteTaken(text: "t"))))
        }
        let report = try JournalVerifier.verify(path: path)
        #expect(report.isIntact)
        #expect(report.timesGoingBack.map { "\($0.line) \($0.seq) \($0.time) \($0.previousTime)" } == [
            "3 3 2026-11-22T04:55:04.000Z 2026-11-22T04:55:05.000Z",
            "5 5 2026-11-22T05:55:08.000+01:00 2026-11-22T04:55:09.000Z",
        ])
        // The fold by index holds the same run as event by event.
        var byEvent = RunState()
        for event in report.events { byEvent.apply(event) }
        let folded = RunState.fold(report.events)
        #expect(folded == byEvent && folded.notes.map(\.time) == byEvent.notes.map(\.time) && folded.lastTime == "2026-11-22T05:55:08.000+01:00")
    }
}
