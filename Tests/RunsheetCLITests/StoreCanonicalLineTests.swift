import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Schema version 3: the database takes a line only in the canonical encoding runsheet writes
/// (found by the adversary: a sign-off inserted by psql with a duplicate key and a correct hash
/// went in, and the run never verified again, for anyone). Every line runsheet can write goes in;
/// each other way of writing the same content is refused, with its hash made correct.
@Suite(.serialized) struct StoreCanonicalLineTests {
    let stores = PostgresStoreTests()

    /// `unsealed` (a canonical line with `"hash":""`) changed by `edit`, with the hash of the result
    /// written in, as the trigger recomputes it: the forger's best effort.
    func rehashed(_ unsealed: String, _ edit: (String) -> String) -> (line: String, hash: String) {
        let changed = edit(unsealed)
        let hash = SHA256Hex.of(changed)
        return (changed.replacingOccurrences(of: #""hash":"""#, with: #""hash":"\#(hash)""#), hash)
    }

    func hex(_ line: String) -> String { Array(line.utf8).map { String(format: "%02x", $0) }.joined() }

    /// Other ways to write a line's content, each read by PostgreSQL as JSON, none what runsheet writes.
    static let variants: [(String, @Sendable (String) -> String)] = [
        ("a duplicate key", { $0.replacingOccurrences(of: #"{"actor":"bob@example.com","#, with: #"{"actor":"bob@example.com","actor":"bob@example.com","#) }),
        ("keys out of order", { "{\"via\":\"script\"," + String($0.dropFirst().dropLast()).replacingOccurrences(of: #","via":"script""#, with: "") + "}" }),
        ("a space", { $0.replacingOccurrences(of: #","host":"#, with: #", "host":"#) }),
        ("\\u0062 for b", { $0.replacingOccurrences(of: "a/b by", with: "a/\\u0062 by") }),
        ("an escaped slash", { $0.replacingOccurrences(of: "a/b by", with: "a\\/b by") }),
        ("1.0 for 1", { $0.replacingOccurrences(of: #""count":1"#, with: #""count":1.0"#) }),
        ("1e0 for 1", { $0.replacingOccurrences(of: #""count":1"#, with: #""count":1e0"#) }),
        ("a number beyond 64 bits", { $0.replacingOccurrences(of: #""count":1"#, with: #""count":9223372036854775808"#) }),
        ("a trailing newline", { $0 + "\n" }),
        ("a field runsheet does not write", { $0.replacingOccurrences(of: #""host":"h","#, with: #""host":"h","hostname":"h","#) }),
        ("null for a field left out", { $0.replacingOccurrences(of: #","time":"#, with: #","step":null,"time":"#) }),
        ("two keys Swift reads as one", { $0.replacingOccurrences(of: #"},"hash":"#, with: ",\"e\u{301}\":1,\"\u{e9}\":2},\"hash\":") }),
    ]

    @Test func aForgedSignOffNotInCanonicalFormIsRefusedAndTheRunStillVerifies() throws {
        let team = try stores.team()
        let (_, id, journal) = try stores.pushedAliceRun(team)
        let head = try #require(try JournalFile.read(at: journal).events.last)
        // Bob's own sign-off (an act of others: no lease needed), correctly chained and in his name.
        let signOff = try RunEvent(seq: head.seq + 1, time: Timestamp.now(), type: .signOff, actor: "bob@example.com", host: "h", via: "script",
                                   step: "deploy", data: ["comment": "a/b by bob", "count": 1], canonical: "bob@example.com")
            .sealed(seq: head.seq + 1, after: head.hash)
        var unsealed = signOff
        unsealed.hash = ""
        let plain = String(decoding: try unsealed.canonicalJSON(), as: UTF8.self)
        func insert(_ line: String, hash: String) throws -> ProcessResult {
            try team.store.sql("INSERT INTO runsheet.events (run, seq, line, hash, prev, actor) VALUES ('\(id)', \(signOff.seq), decode('\(hex(line))', 'hex'), '\(hash)', '\(signOff.prev)', 'bob@example.com')",
                               user: team.bob.user, password: team.bob.password)
        }
        let unknownType: (String, @Sendable (String) -> String) = ("an event type runsheet does not know", { $0.replacingOccurrences(of: "signoff.signed", with: "signoff.forged") })
        for (name, edit) in Self.variants + [unknownType] {
            let forged = rehashed(plain, edit)
            #expect(forged.line != String(decoding: try signOff.canonicalJSON(), as: UTF8.self), "\(name) changes the line")
            let refused = try insert(forged.line, hash: forged.hash)
            #expect(refused.status != 0 && refused.stderr.contains("event \(signOff.seq) of run \(id) is not written as runsheet writes an event"),
                    "\(name): \(refused.stdout)\(refused.stderr)")
        }
        // The same sign-off as runsheet writes it goes in, and the run verifies with it.
        let accepted = try insert(String(decoding: try signOff.canonicalJSON(), as: UTF8.self), hash: signOff.hash)
        #expect(accepted.status == 0, "\(accepted.stderr)")
        try stores.expectVerifies(team, id, events: head.seq + 1)
    }

    @Test func aForgedHaltRecordNotInCanonicalFormIsRefusedAndTheLogStillVerifies() throws {
        let team = try stores.team()
        var halt = GovernanceRecord(type: Halt.declared, by: Actor(name: "bob@example.com", host: "h", via: "script", canonical: "bob@example.com"),
                                    data: ["reason": "a/b by bob", "count": 1])
        (halt.seq, halt.prev) = (1, "")
        let plain = String(decoding: try halt.canonicalBytes(), as: UTF8.self)
        halt.hash = try halt.computedHash()
        func insert(_ line: String, hash: String) throws -> ProcessResult {
            try team.store.sql("INSERT INTO runsheet.governance (log, seq, line, hash, prev, actor) VALUES ('halts', 1, decode('\(hex(line))', 'hex'), '\(hash)', '', 'bob@example.com')",
                               user: team.bob.user, password: team.bob.password)
        }
        for (name, edit) in Self.variants {
            let forged = rehashed(plain, edit)
            #expect(forged.line != String(decoding: try halt.canonicalBytes(), as: UTF8.self), "\(name) changes the line")
            let refused = try insert(forged.line, hash: forged.hash)
            #expect(refused.status != 0 && refused.stderr.contains("record 1 of the halts log is not written as runsheet writes a record"),
                    "\(name): \(refused.stdout)\(refused.stderr)")
        }
        let line = String(decoding: try halt.canonicalBytes(), as: UTF8.self)
        let accepted = try insert(line, hash: halt.hash)
        #expect(accepted.status == 0, "\(accepted.stderr)")
        // The log as the store holds it reads back as a governance log runsheet trusts.
        let stored = try team.store.sql("SELECT convert_from(line, 'UTF8') FROM runsheet.governance WHERE log = 'halts' ORDER BY seq",
                                        user: team.alice.user, password: team.alice.password)
        #expect(stored.stdout == line + "\n", "\(stored.stdout)")
        let file = try Fixtures.temporaryDirectory("halts").appendingPathComponent("halts.jsonl")
        try Data(stored.stdout.utf8).write(to: file)
        #expect(try GovernanceLog(path: file.path, name: "halts").read() == [halt])
    }

    /// Everything runsheet can write goes in: tricky strings and keys, nesting, extreme integers,
    /// both encoders (`CanonicalEventWriter`, and `JSONEncoder` for non-ASCII keys); the run verifies.
    @Test func everyLineRunsheetWritesGoesIn() throws {
        let team = try stores.team()
        let (_, id, journal) = try stores.pushedAliceRun(team)
        let controls = String((1..<0x20).map { Character(Unicode.Scalar(UInt8($0))) }) + "\u{7f}"
        let strings: [String] = ["", "say \"hi\"", "back\\slash", controls, "a/b//c", "line\u{2028}sep\u{2029}", "😀👩‍👩‍👧", "e\u{301} vs \u{e9}",
                                 "\u{FEFF}bom \u{FFFD} \u{10FFFF}", "日本語", String(repeating: "long é ", count: 4_000), "\\u0041 \\/"]
        var nested: JSONValue = .object(["leaf": .array([.null, true, false, 0])])
        for depth in 0..<12 { nested = depth.isMultiple(of: 2) ? .array([nested, .string("d\(depth)")]) : .object(["k\(depth)": nested, "K": .int(-depth)]) }
        let datas: [[String: JSONValue]] = [
            Dictionary(uniqueKeysWithValues: strings.enumerated().map { ("s\($0.offset)", .string($0.element)) }),
            ["min": .int(Int.min), "max": .int(Int.max), "neg": -1, "zero": 0, "big": .int(1 << 53 + 1), "empty": .object([:]), "none": .array([])],
            ["B": "upper", "a": "lower", "_": "under", "10": "ten", "9": "nine", "a b": "space", "a/b": "slash", "a\"q": "quote", "a\\": "back", "\u{1}": "control"],
            ["é": 1, "Ä": 2, "日本": 3, "a😀": 4, "a\u{FFFF}": 5, "A\u{30A}": 6, "z": 7, "e\u{301}x": 8],
            ["nested": nested, "list": .array(strings.map { .string($0) })],
        ]
        var previous = try #require(try JournalFile.read(at: journal).events.last)
        for (index, data) in datas.enumerated() {
            let event = try RunEvent(seq: previous.seq + 1, time: Timestamp.now(), type: index.isMultiple(of: 2) ? .signOff : .reviewSigned,
                                     actor: "bob@example.com", host: "host/\(strings[index + 3])", via: "script",
                                     step: index == 1 ? "step 😀 \"x\"" : nil, data: data, canonical: "bob@example.com",
                                     uid: index == 2 ? -1 : 1000, login: index == 3 ? nil : "bob\u{7}")
                .sealed(seq: previous.seq + 1, after: previous.hash)
            let line = String(decoding: try event.canonicalJSON(), as: UTF8.self)
            let inserted = try team.store.sql("INSERT INTO runsheet.events (run, seq, line, hash, prev, actor) VALUES ('\(id)', \(event.seq), decode('\(hex(line))', 'hex'), '\(event.hash)', '\(event.prev)', 'bob@example.com')",
                                              user: team.bob.user, password: team.bob.password)
            #expect(inserted.status == 0, "event \(index): \(inserted.stderr)")
            previous = event
        }
        try stores.expectVerifies(team, id, events: previous.seq)
    }

    /// The repository's journal fixtures, every line as written, go in as pushed runs.
    @Test func theFixtureJournalsGoIn() throws {
        let team = try stores.team()
        let root = Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures")
        let journals = try #require(FileManager.default.enumerator(atPath: root.path)).compactMap { $0 as? String }.filter { $0.hasSuffix("journal.jsonl") }
        #expect(journals.count >= 20)
        for (index, path) in journals.enumerated() {
            let lines = try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8).split(separator: "\n").map(String.init)
            let events = try JournalFile.read(at: root.appendingPathComponent(path).path).events
            let rows = zip(events, lines).map { event, line in
                "('fixture-\(index)', \(event.seq), decode('\(hex(line))', 'hex'), '\(event.hash)', '\(event.prev)', \(sqlText(event.actor)))"
            }
            let inserted = try team.store.sql("""
                INSERT INTO runsheet.runs (run, pushed, pushed_through) VALUES ('fixture-\(index)', true, \(events.count));
                INSERT INTO runsheet.events (run, seq, line, hash, prev, actor) VALUES \(rows.joined(separator: ", "))
                """, user: team.store.owner, password: team.store.ownerPassword)
            #expect(inserted.status == 0, "\(path): \(inserted.stderr)")
        }
    }

    /// A version 2 store (no canonical check: a hand-written line goes in) upgraded by `store init`
    /// keeps every run and record, which verify; from then on the check holds.
    @Test func initUpgradesAVersion2StoreToVersion4KeepingEveryRun() throws {
        let team = try stores.team()
        let (runs, id, journal) = try stores.aliceRun()
        let alice = team.store.environment(password: team.alice.password), owner = team.store.environment(password: team.store.ownerPassword)
        let pushed = try Fixtures.runsheet(["store", "push", id, "--runs-dir", runs.path, "--store", team.store.url(user: team.alice.user)], environment: alice)
        #expect(pushed.status == 0, "\(pushed.stderr)")
        var halt = GovernanceRecord(type: Halt.declared, by: Actor(name: "bob@example.com", host: "h", via: "script", canonical: "bob@example.com"), data: ["reason": "INC-1"])
        (halt.seq, halt.prev) = (1, "")
        halt.hash = try halt.computedHash()
        let record = try team.store.sql("INSERT INTO runsheet.governance (log, seq, line, hash, prev, actor) VALUES ('halts', 1, decode('\(hex(String(decoding: try halt.canonicalBytes(), as: UTF8.self)))', 'hex'), '\(halt.hash)', '', 'bob@example.com')",
                                        user: team.bob.user, password: team.bob.password)
        #expect(record.status == 0, "\(record.stderr)")
        // The store as version 2 left it: the triggers without the canonical check, and its functions gone.
        let downgraded = try team.store.sql("""
            DO $$
            DECLARE
                name text;
            BEGIN
                FOREACH name IN ARRAY ARRAY['check_event', 'check_governance'] LOOP
                    EXECUTE regexp_replace(pg_get_functiondef(('runsheet.' || name || '()')::regprocedure),
                                           'IF runsheet\\.canonical_[a-z]+\\(doc\\)[^;]*;\\s*END IF;', '');
                END LOOP;
            END
            $$;
            DROP FUNCTION runsheet.canonical_event(jsonb), runsheet.canonical_governance(jsonb), runsheet.canonical(jsonb), runsheet.armored_signature(text);
            DROP TABLE runsheet.voided;
            DROP FUNCTION runsheet.stamp_voided();
            UPDATE runsheet.store SET version = 2
            """, user: team.store.owner, password: team.store.ownerPassword)
        #expect(downgraded.status == 0, "\(downgraded.stderr)")
        let refused = try Fixtures.runsheet(["status", "--store", team.store.url(user: team.alice.user)], environment: alice)
        #expect(refused.status == 6 && refused.stderr.contains("has runsheet schema version 2, older than version 4"), "\(refused.stderr)")

        let upgraded = try Fixtures.runsheet(["store", "init", team.store.url(), "--role", team.role], environment: owner)
        #expect(upgraded.status == 0 && upgraded.stdout.contains("from version 2 to 4"), "\(upgraded.stdout)\(upgraded.stderr)")
        let events = try JournalFile.read(at: journal).events
        try stores.expectVerifies(team, id, events: events.count)
        let halts = try team.store.sql("SELECT count(*) FROM runsheet.governance WHERE log = 'halts'", user: team.alice.user, password: team.alice.password)
        #expect(halts.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        // The check is in place: a line with a space after a comma is refused.
        let head = try #require(events.last)
        var review = try RunEvent(seq: head.seq + 1, time: Timestamp.now(), type: .reviewSigned, actor: "bob@example.com", host: "h", via: "script",
                                  data: ["comment": "ok"], canonical: "bob@example.com").sealed(seq: head.seq + 1, after: head.hash)
        review.hash = ""
        let forged = rehashed(String(decoding: try review.canonicalJSON(), as: UTF8.self)) { $0.replacingOccurrences(of: #","host":"#, with: #", "host":"#) }
        let spaced = try team.store.sql("INSERT INTO runsheet.events (run, seq, line, hash, prev, actor) VALUES ('\(id)', \(review.seq), decode('\(hex(forged.line))', 'hex'), '\(forged.hash)', '\(head.hash)', 'bob@example.com')",
                                        user: team.bob.user, password: team.bob.password)
        #expect(spaced.status != 0 && spaced.stderr.contains("is not written as runsheet writes an event"), "\(spaced.stderr)")
    }

    func sqlText(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }
}
