import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// `status RUN` on the PostgreSQL store reads a long run's journal in pieces of seqs (1…1000,
/// 1001…5000, then 10,000 at a time: `RunStore.journalPieces`) and folds each while the next is fetched (docs/BENCHMARKS.md, branch statusfast). Whatever the rows
/// hold — a seq missing inside a piece or at a piece's first line, a row beyond the gap, a forged
/// line, two lines swapped under their seqs — `status` says of the store's run exactly what it
/// says of the same journal in a folder: the same warning, the same lines, exit 1. Against a real
/// server, through the binary; the owner edits the rows with the triggers switched off.
@Suite(.serialized) struct StoreJournalPiecesTests {
    /// Four pieces: 1…1000, 1001…5000, 5001…15000, 15001…25000.
    static let events = 25_000

    struct LongRun {
        var dir: URL
        var id: String
        var url: String
        var environment: [String: String]
        var team: PostgresStoreTests.Team
        var lines: [String]
    }

    /// A run of `events` events (`runsheet-bench generate`) in a runs folder, pushed by alice.
    func pushedLongRun(events: Int = Self.events) throws -> LongRun {
        let team = try PostgresStoreTests().team()
        let dir = try Fixtures.temporaryDirectory("store-pieces")
        let id = "long-run"
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("runs/\(id)"), withIntermediateDirectories: true)
        let bench = Fixtures.binary.deletingLastPathComponent().appendingPathComponent("runsheet-bench").path
        let generated = try Fixtures.run(bench, ["generate", "runs/\(id)/journal.jsonl", String(events)], directory: dir)
        #expect(generated.status == 0, "\(generated.stderr)")
        let url = team.store.url(user: team.alice.user)
        let environment = team.store.environment(password: team.alice.password)
        let pushed = try Fixtures.runsheet(["store", "push", id, "--runs-dir", "runs", "--store", url], environment: environment, directory: dir)
        #expect(pushed.status == 0, "\(pushed.stdout)\(pushed.stderr)")
        let lines = try String(contentsOf: dir.appendingPathComponent("runs/\(id)/journal.jsonl"), encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.count == events)
        return LongRun(dir: dir, id: id, url: url, environment: environment, team: team, lines: lines)
    }

    /// SQL run by the store's owner with the events' triggers off (what only the owner can do).
    func asOwner(_ run: LongRun, _ sql: String) throws {
        let result = try run.team.store.sql("ALTER TABLE runsheet.events DISABLE TRIGGER USER; \(sql); ALTER TABLE runsheet.events ENABLE TRIGGER USER",
                                            user: run.team.store.owner, password: run.team.store.ownerPassword)
        #expect(result.status == 0 && !result.stderr.contains("ERROR"), "\(sql): \(result.stderr)")
    }

    func hex(_ line: String) -> String { Array(line.utf8).map { String(format: "%02x", $0) }.joined() }

    /// `status` of the run on the store and of `journal` (its lines in seq order as the store now
    /// holds them) in the run's folder: the same exit status, and the same output but for the
    /// journal's name.
    func expectSameStatus(_ run: LongRun, journal lines: [String], verifies: Bool, _ what: String) throws {
        let file = run.dir.appendingPathComponent("runs/\(run.id)/journal.jsonl")
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        defer { try? (run.lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8) }
        let folder = try Fixtures.runsheet(["status", run.id, "--store", "folder", "--runs-dir", "runs"], environment: ["NO_COLOR": "1"], directory: run.dir)
        let store = try Fixtures.runsheet(["status", run.id, "--store", run.url], environment: run.environment.merging(["NO_COLOR": "1"]) { $1 }, directory: run.dir)
        func normalized(_ text: String) -> String {
            text.replacingOccurrences(of: "runs/\(run.id)/journal.jsonl", with: "JOURNAL").replacingOccurrences(of: "\(run.url) run \(run.id)", with: "JOURNAL")
        }
        #expect(store.status == (verifies ? 0 : 1) && folder.status == store.status, "\(what): store \(store.status), folder \(folder.status): \(store.stderr)")
        #expect(verifies == !store.stderr.contains("the journal does not verify"), "\(what): \(store.stderr)")
        #expect(normalized(store.stderr) == normalized(folder.stderr), "\(what):\n\(store.stderr)\n---\n\(folder.stderr)")
        #expect(normalized(store.stdout) == normalized(folder.stdout) && store.stdout.contains("events   \(lines.count), head "), "\(what):\n\(store.stdout.prefix(2000))\n---\n\(folder.stdout.prefix(2000))")
    }

    /// Rows the owner puts where no seq of a journal can be (seq 0, no seq at all, once the
    /// constraints are dropped) or two rows under one seq: what `status`, `verify` and `audit` read
    /// from the store is the journal `export` writes, so they say of the run what the folder says
    /// of that export (before, a row at seq 0 or without a seq was left out of the pieces and the
    /// run showed intact while its export did not verify; two rows under one seq came out in one
    /// order here and the other in the export). Found by the adversary.
    @Test func rowsOutsideTheSeqsAreInTheJournalTheStoreShows() throws {
        let run = try pushedLongRun(events: 2_500)
        defer { try? FileManager.default.removeItem(at: run.dir) }
        try asOwner(run, "ALTER TABLE runsheet.events DROP CONSTRAINT events_seq_check; ALTER TABLE runsheet.events DROP CONSTRAINT events_pkey; ALTER TABLE runsheet.events ALTER seq DROP NOT NULL")
        let environment = run.environment.merging(["NO_COLOR": "1"]) { $1 }
        func normalized(_ text: String) -> String {
            text.replacingOccurrences(of: "exported/\(run.id)/journal.jsonl", with: "JOURNAL").replacingOccurrences(of: "\(run.url) run \(run.id)", with: "JOURNAL")
        }
        func expectAsExported(_ what: String, verifies: Bool) throws {
            let folder = run.dir.appendingPathComponent("exported/\(run.id)")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let export = try Fixtures.runsheet(["export", run.id, "--store", run.url, "-o", "exported/\(run.id)/journal.jsonl"], environment: environment, directory: run.dir)
            #expect(export.status == 0, "\(what): \(export.stderr)")
            for command in [["verify", run.id], ["status", run.id]] {
                let store = try Fixtures.runsheet(command + ["--store", run.url], environment: environment, directory: run.dir)
                let exported = try Fixtures.runsheet(command + ["--store", "folder", "--runs-dir", "exported"], environment: environment, directory: run.dir)
                #expect(store.status == exported.status && (store.status == 0) == verifies, "\(what), \(command[0]): store \(store.status) \(store.stderr), export \(exported.status) \(exported.stderr)")
                #expect(normalized(store.stdout) == normalized(exported.stdout), "\(what), \(command[0]):\n\(store.stdout.prefix(1500))\n---\n\(exported.stdout.prefix(1500))")
            }
            let audit = try Fixtures.runsheet(["audit", run.id, "--store", run.url], environment: environment, directory: run.dir)
            #expect(!audit.stderr.contains("Postgres") && !audit.stderr.contains("Error"), "\(what), audit: \(audit.stderr)")
            try FileManager.default.removeItem(at: folder)
        }
        try expectAsExported("the run as pushed", verifies: true)
        let copy = "run, seq, line, hash, prev, actor"
        // A copy of line 1 at seq 0.
        try asOwner(run, "INSERT INTO runsheet.events (\(copy)) SELECT run, 0, line, hash, prev, actor FROM runsheet.events WHERE run = '\(run.id)' AND seq = 1")
        try expectAsExported("line 1 again at seq 0", verifies: false)
        try asOwner(run, "DELETE FROM runsheet.events WHERE run = '\(run.id)' AND seq = 0")
        // A line without a seq: the last line again, after every other in the export.
        try asOwner(run, "INSERT INTO runsheet.events (\(copy)) SELECT run, NULL, line, hash, prev, actor FROM runsheet.events WHERE run = '\(run.id)' AND seq = 2500")
        try expectAsExported("line 2500 again without a seq", verifies: false)
        try asOwner(run, "DELETE FROM runsheet.events WHERE run = '\(run.id)' AND seq IS NULL")
        // Line 999 moved under seq 1000, beside line 1000: one order, whichever command reads them.
        try asOwner(run, "UPDATE runsheet.events SET seq = 1000 WHERE run = '\(run.id)' AND seq = 999")
        let stored = try run.team.store.sql("SELECT count(*) FROM runsheet.events WHERE run = '\(run.id)' AND seq = 1000", user: run.team.store.owner, password: run.team.store.ownerPassword)
        #expect(stored.stdout.contains("2"), "\(stored.stdout)")
        try expectAsExported("lines 999 and 1000 both under seq 1000", verifies: Array(run.lines[998].utf8).lexicographicallyPrecedes(Array(run.lines[999].utf8)))
    }

    @Test func statusOfALongRunReadInPiecesSaysWhatTheFolderSaysWhateverTheRowsHold() throws {
        let run = try pushedLongRun()
        defer { try? FileManager.default.removeItem(at: run.dir) }
        try expectSameStatus(run, journal: run.lines, verifies: true, "the run as pushed")
        // No vacuum while the rows are edited: rows written again go to the end of the table, in
        // the order written, not into space a vacuum freed (nor do fresh statistics change the plan).
        try asOwner(run, "ALTER TABLE runsheet.events SET (autovacuum_enabled = false)")

        // Every seq there, but a line of the fourth piece forged (another actor, its hash left as
        // it was); then two lines swapped across the edge of two pieces, their rows' seqs kept.
        // Each edit first in place (an UPDATE moves the row to the end of the table: where the
        // server reads the table in its order, not the primary key's, the piece comes out of
        // order and the journal is read again sorted), then with the rows from there on written
        // again in seq order (every piece comes in order whichever way the server reads, and the
        // fold finds the break).
        let forgedSeq = 20_500
        var withForged = run.lines
        withForged[forgedSeq - 1] = run.lines[forgedSeq - 1].replacingOccurrences(of: #""actor":"bench""#, with: #""actor":"mallory""#)
        #expect(withForged[forgedSeq - 1] != run.lines[forgedSeq - 1])
        var swapped = run.lines
        swapped.swapAt(14_999, 15_000)
        for (what, edited, first) in [("a forged line at seq \(forgedSeq)", withForged, forgedSeq), ("lines 15000 and 15001 swapped", swapped, 15_000)] {
            let changed = edited.indices.filter { edited[$0] != run.lines[$0] }.map { $0 + 1 }
            let lines = changed.map { "WHEN \($0) THEN decode('\(hex(edited[$0 - 1]))', 'hex')" }.joined(separator: " ")
            try asOwner(run, "UPDATE runsheet.events SET line = CASE seq \(lines) END WHERE run = '\(run.id)' AND seq IN (\(changed.map(String.init).joined(separator: ", ")))")
            try expectSameStatus(run, journal: edited, verifies: false, what + ", in place")
            try asOwner(run, """
                CREATE TABLE kept AS SELECT run, seq, line, hash, prev, actor FROM runsheet.events WHERE run = '\(run.id)' AND seq >= \(first);
                DELETE FROM runsheet.events WHERE run = '\(run.id)' AND seq >= \(first);
                INSERT INTO runsheet.events (run, seq, line, hash, prev, actor) SELECT * FROM kept ORDER BY seq
                """)
            try expectSameStatus(run, journal: edited, verifies: false, what + ", rows in seq order")
            let original = changed.map { "WHEN \($0) THEN decode('\(hex(run.lines[$0 - 1]))', 'hex')" }.joined(separator: " ")
            try asOwner(run, """
                DELETE FROM runsheet.events WHERE run = '\(run.id)' AND seq >= \(first);
                INSERT INTO runsheet.events (run, seq, line, hash, prev, actor)
                    SELECT run, seq, CASE seq \(original) ELSE line END, hash, prev, actor FROM kept ORDER BY seq;
                DROP TABLE kept
                """)
        }

        // A seq missing inside a piece, and at the first line of a piece: the row moved far beyond
        // the run's last seq, so the store holds it after a gap.
        for seq in [10_001, 15_001] {
            try asOwner(run, "UPDATE runsheet.events SET seq = seq + 1000000 WHERE run = '\(run.id)' AND seq = \(seq)")
            var moved = run.lines
            moved.append(moved.remove(at: seq - 1))
            try expectSameStatus(run, journal: moved, verifies: false, "seq \(seq) moved past the end")
            try asOwner(run, "UPDATE runsheet.events SET seq = \(seq) WHERE run = '\(run.id)' AND seq = \(seq + 1_000_000)")
        }
        try expectSameStatus(run, journal: run.lines, verifies: true, "the rows put back")
    }
}
