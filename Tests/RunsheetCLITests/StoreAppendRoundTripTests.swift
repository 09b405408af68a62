import Foundation
@testable import RunsheetCLI
import RunsheetCore
import RunsheetPostgres
import RunsheetTestSupport
import Testing

/// What an append to the store costs in round trips, counted on the connection (each statement
/// the append path sends is one), and what a writer whose view of the run is stale does: its
/// statement is refused by the database, it reads what landed and decides again. In process,
/// against a real server, through `StoreJournal`, the journal `sign` and `reject` write to.
@Suite(.serialized) struct StoreAppendRoundTripTests {
    func connect(_ store: TestStore, _ login: (user: String, password: String)) throws -> StoreConnection {
        let settings = try ConnectionSettings.parse(store.url(user: login.user), environment: [:], loginName: login.user, home: NSHomeDirectory())
        return try Blocking.wait { try await StoreConnection.open(settings, password: login.password, passwordFile: "/nonexistent") }
    }

    func note(_ text: String, by person: String) -> RunEvent {
        RunEvent(seq: 0, time: Timestamp.now(), type: .note, actor: person, host: "test-host", via: "terminal", data: ["text": .string(text)], canonical: person)
    }

    func review(by person: String) -> RunEvent {
        RunEvent(seq: 0, time: Timestamp.now(), type: .reviewSigned, actor: person, host: "test-host", via: "terminal",
                 data: ["role": .string("sre"), "comment": .string("reviewed")], canonical: person)
    }

    /// The run as the store holds it now.
    func stored(_ id: String, on store: StoreConnection) throws -> (state: RunState, lines: [[UInt8]]) {
        let lines = try Blocking.wait { try await RunStore.newLines(store, id, after: 0) }
        var state = RunState()
        for line in lines { state.apply(try JSONDecoder().decode(RunEvent.self, from: Data(line))) }
        return (state, lines)
    }

    @Test func anAppendIsOneStatementAndAStaleWriterIsRefusedReadsAndDecidesAgain() throws {
        let (dir, id, team, _) = try StoreSignTests().pushedRun()
        defer { try? FileManager.default.removeItem(at: dir) }
        let alice = try connect(team.store, team.alice), bob = try connect(team.store, team.bob)
        defer { _ = try? Blocking.wait { await RunStore.close(alice); await RunStore.close(bob) } }
        // Alice drives the run here (notes are the driving session's): her connection holds its lease.
        let holder = try Blocking.wait { try await RunStore.takeSessionLock(alice, .lease, key: id, run: id, holder: "test") }
        #expect(holder == nil)
        let aliceJournal = StoreJournal(store: alice, url: team.store.url(user: team.alice.user), runID: id)
        let bobJournal = StoreJournal(store: bob, url: team.store.url(user: team.bob.user), runID: id)
        var aliceState = try stored(id, on: alice).state
        var bobState = aliceState
        let start = aliceState.eventCount

        // The first append on a connection: LISTEN for its commits' confirmations, then the INSERT.
        var before = alice.statementCount
        let first = try aliceJournal.append(note("one", by: "alice@example.com"), onto: &aliceState, check: { _ in })
        #expect(alice.statementCount - before == 2 && first.seq == start + 1)
        // Every later one on the run as it stands: the INSERT alone, one round trip.
        for text in ["two", "three"] {
            before = alice.statementCount
            _ = try aliceJournal.append(note(text, by: "alice@example.com"), onto: &aliceState, check: { _ in })
            #expect(alice.statementCount - before == 1, "\(text)")
        }

        // Bob read the run before Alice's three notes: his INSERT is refused (the head moved),
        // he reads them (his check sees them: the run as it stands), and sends again.
        before = bob.statementCount
        var seen: [Int] = []
        let reviewed = try bobJournal.append(review(by: "bob@example.com"), onto: &bobState, check: { seen.append($0.eventCount) })
        #expect(bob.statementCount - before == 4, "LISTEN, the refused INSERT, the read, the INSERT")
        #expect(seen == [start, start + 3], "checked on the run as read, then as it stood: \(seen)")
        #expect(reviewed.seq == start + 4 && reviewed.prev == aliceState.headHash)

        // Bob again, from his view before his own review: refused by the database, then by the
        // journal's rule once he reads it (one person reviews a run once); nothing is written.
        var stale = RunState()
        for line in try stored(id, on: bob).lines.dropLast() { stale.apply(try JSONDecoder().decode(RunEvent.self, from: Data(line))) }
        before = bob.statementCount
        #expect(throws: AppendRefusal.self) {
            _ = try bobJournal.append(review(by: "bob@example.com"), onto: &stale, check: { _ in })
        }
        #expect(bob.statementCount - before == 2, "the refused INSERT and the read")
        #expect(try stored(id, on: bob).state.eventCount == start + 4, "nothing was written")

        // Alice's view is now one behind (Bob's review): her next note goes in after it, in three statements.
        before = alice.statementCount
        let fourth = try aliceJournal.append(note("four", by: "alice@example.com"), onto: &aliceState, check: { _ in })
        #expect(alice.statementCount - before == 3 && fourth.seq == start + 5 && fourth.prev == reviewed.hash)

        // A refusal decided on a stale view is decided again on the run as it stands: a check that
        // refuses until it sees Bob's review passes once it does.
        var behind = RunState()
        for line in try stored(id, on: alice).lines.prefix(start) { behind.apply(try JSONDecoder().decode(RunEvent.self, from: Data(line))) }
        let waited = try aliceJournal.append(note("five", by: "alice@example.com"), onto: &behind) { state in
            guard state.reviews.contains(where: { $0.actor == "bob@example.com" }) else { throw AppendRefusal("no review yet") }
        }
        #expect(waited.seq == start + 6)

        // The store's journal verifies.
        let exported = dir.appendingPathComponent("exported/\(id)/journal.jsonl")
        try FileManager.default.createDirectory(at: exported.deletingLastPathComponent(), withIntermediateDirectories: true)
        let export = try Fixtures.runsheet(["export", id, "-o", exported.path, "--store", team.store.url(user: team.bob.user)],
                                           environment: team.store.environment(password: team.bob.password), directory: dir)
        #expect(export.status == 0, "\(export.stderr)")
        let verified = try Fixtures.runsheet(["verify", exported.path], environment: ["RUNSHEET_STORE": ""], directory: dir)
        #expect(verified.status == 0 && verified.stdout.contains("intact, \(start + 6) events"), "\(verified.stdout)\(verified.stderr)")
    }
}
