import Foundation
import RunsheetCore
import Testing

/// How readiness tells whose run a folder holds, and what a run was as of a time.
@Suite struct RunRecordTests {
    @Test func aFolderNameClaimsOnlyItsOwnRunbookWhole() {
        #expect(RunRecord.runbookPart(ofFolder: "deploy-20261122-093821-40d2") == "deploy")
        #expect(RunRecord.runbookPart(ofFolder: "deploy-api-20261122-093821-40d2") == "deploy-api")
        for name in ["deploy", "deploy-20261122-093821", "deploy-2026112-093821-40d2", "deploy-20261122-093821-40D2", "-20261122-093821-40d2"] {
            #expect(RunRecord.runbookPart(ofFolder: name) == nil, "\(name)")
        }
        let fault = RunRecord.Fault(location: "runs/x/journal.jsonl", message: "not a regular file (a directory)", read: false)
        let api = RunRecord(id: "deploy-api-20261122-093821-40d2", fault: fault, runbookID: nil)
        #expect(api.belongs(to: "deploy-api") && !api.belongs(to: "deploy") && !api.belongs(to: "deploy-ap"))
        // Run ids cut the runbook id at 40 characters.
        let long = String(repeating: "a", count: 45)
        #expect(RunRecord(id: String(long.prefix(40)) + "-20261122-093821-40d2", fault: fault, runbookID: nil).belongs(to: long))
        // A broken journal whose first line names the runbook is its run, whatever the folder is called.
        #expect(RunRecord(id: "renamed", fault: fault, runbookID: "deploy").belongs(to: "deploy"))
    }

    @Test func aJournalThatVerifiesIsClaimedByItsRunStartedOnly() {
        let events = PausedTimeTests.events()
        let id = PausedTimeTests.runbook.id
        #expect(RunRecord(id: "\(id)-20261122-100000-beef", events: events).belongs(to: id))
        #expect(!RunRecord(id: "other-20261122-100000-beef", events: events).belongs(to: "other"))
    }

    /// The journal as it stood then: a prefix of the chain, cut at the first later event even when
    /// a clock behind stamped something after it earlier.
    @Test func asOfATimeARunIsItsJournalUpToThen() throws {
        let events = PausedTimeTests.events()
        let record = RunRecord(id: "r1", events: events)
        #expect(record.state(asOf: Timestamp.parse("2026-11-22T09:59:59.999Z")) == nil, "not started yet")
        let paused = try #require(record.state(asOf: Timestamp.parse("2026-11-22T12:00:00.000Z")))
        #expect(paused.eventCount == 4 && paused.signatures.values.joined().map(\.signer) == ["bob"] && paused.outcome == nil)
        #expect(try #require(record.state(asOf: Timestamp.parse("2026-11-22T11:59:59.999Z"))).signatures.isEmpty)
        #expect(try #require(record.state(asOf: nil)).outcome == .completed)

        var skewed = events
        skewed[3].time = "2026-11-22T17:00:00.000Z"  // the signature, from a host whose clock is ahead
        let cut = try #require(RunRecord(id: "r1", events: skewed).state(asOf: Timestamp.parse("2026-11-22T16:30:00.000Z")))
        #expect(cut.eventCount == 3 && cut.outcome == nil, "nothing after the first later event counts")
    }
}
