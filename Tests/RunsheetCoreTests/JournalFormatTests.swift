import Foundation
@testable import RunsheetCore
import RunsheetTestSupport
import Testing

/// How the journal's format grows: additive event types and fields within runsheet.journal/1, the
/// lowest reader version recorded in run.started, and a clear refusal by older readers.
@Suite struct JournalFormatTests {
    @Test func versionsParse() {
        #expect(JournalFormat(schema: "runsheet.journal/1") == JournalFormat(major: 1, minor: 0))
        #expect(JournalFormat(schema: "runsheet.journal/1.0") == JournalFormat(major: 1, minor: 0))
        #expect(JournalFormat(schema: "runsheet.journal/1.12") == JournalFormat(major: 1, minor: 12))
        #expect(JournalFormat(schema: "runsheet.journal/2") == JournalFormat(major: 2, minor: 0))
        for invalid in ["runsheet.journal/", "runsheet.journal/1.", "runsheet.journal/.1", "runsheet.journal/01", "runsheet.journal/1.x",
                        "runsheet.journal/1.2.3", "runsheet.journal/-1", "other/1", ""] {
            #expect(JournalFormat(schema: invalid) == nil, "\(invalid)")
        }
        #expect(JournalFormat(major: 1, minor: 2) < JournalFormat(major: 1, minor: 10))
        #expect(JournalFormat(schema: JournalFormat.written)?.isReadable == true)
        #expect(JournalFormat(schema: JournalFormat.written)! <= JournalFormat.newestReadable)
    }

    static let alice = Actor(name: "alice", host: "ops-1", via: "terminal")

    /// A run.started of `schema`, then an event of a type this runsheet has never heard of, as a
    /// newer runsheet may write one.
    static func journal(schema: String) throws -> (path: String, first: RunEvent) {
        let path = try Fixtures.temporaryDirectory("format").appendingPathComponent("journal.jsonl").path
        let first = try RunEvent(time: "2026-11-22T04:55:01.123Z", by: alice,
                                 .runStarted(RunStarted(schema: schema, runId: "r1", runbook: "r.md", runbookId: "r", title: "R",
                                                        sha256: "ab", runsheetVersion: "9.0.0")))
        let (sealed, firstLine) = try JournalFile.seal(first, seq: 1, after: "")
        let (_, nextLine) = try JournalFile.seal(try RunEvent(time: first.time, by: alice, .note(NoteTaken(text: "x"))), seq: 2, after: sealed.hash)
        let unknown = String(decoding: nextLine, as: UTF8.self).replacingOccurrences(of: #""type":"note""#, with: #""type":"future.event""#)
        try (String(decoding: firstLine, as: UTF8.self) + unknown).write(toFile: path, atomically: true, encoding: .utf8)
        return (path, first)
    }

    @Test func aJournalNeedingANewerReaderIsRefusedInOneSentence() throws {
        for schema in ["runsheet.journal/1.6", "runsheet.journal/2"] {
            let (path, first) = try Self.journal(schema: schema)
            let refusal = JournalError.unsupportedSchema(path: path, schema: schema)
            #expect(refusal.errorDescription == "\(path):1: the journal format is \(schema), but this runsheet reads only runsheet.journal/1 up to 1.5; upgrade runsheet to read it.")
            #expect(throws: refusal) { try JournalFile.read(at: path) }
            #expect(throws: refusal) { try JournalFile.state(at: path) }
            #expect(throws: refusal) { try JournalVerifier.verify(path: path) }
            let other = path + ".new"
            #expect(throws: JournalError.unsupportedSchema(path: other, schema: schema)) { try JournalFile.create(at: other, first: first) }
        }
    }

    /// Without the version in run.started the same journal would fail on its unknown event type.
    @Test func anUnknownEventTypeInAJournalClaimingThisVersionIsNotAnEvent() throws {
        let path = try Self.journal(schema: "runsheet.journal/1").path
        #expect(throws: JournalError.notAnEvent(path: path, line: 2, reason: #"unknown event type "future.event""#)) {
            try JournalFile.read(at: path)
        }
    }
}
