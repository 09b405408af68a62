import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// `store void` (schema version 4): the database holds no allowed signers, so a member can insert
/// by psql, in their own name and correctly chained, a record whose signature is well formed and
/// does not verify. Before it, the halts log (and so every production step obeying the store, and
/// every lift) or a run stayed blocked until the owner wrote SQL by hand. Now the owner voids the
/// first record that does not verify (and those after it) into `runsheet.voided`, recorded.
@Suite(.serialized) struct StoreVoidTests {
    let forms = StoreSignatureFormTests()

    /// A member of the team's store, `name@example.com`.
    func member(_ s: StoreRunTests.Setup, _ name: String) throws -> (user: String, password: String, url: String, environment: [String: String]) {
        let login = try s.team.store.makeUser(name)
        let granted = try Fixtures.runsheet(["store", "grant", "\(name)@example.com", login.user, "--store", s.team.store.url()],
                                            environment: s.team.store.environment(password: s.team.store.ownerPassword))
        #expect(granted.status == 0, "\(granted.stderr)")
        return (login.user, login.password, s.team.store.url(user: login.user), s.team.store.environment(password: login.password))
    }

    /// `runsheet ARGUMENTS` by the database's owner, in alice's checkout of the repository.
    func owner(_ s: StoreRunTests.Setup, _ arguments: [String]) throws -> ProcessResult {
        try Fixtures.runsheet(arguments + ["--store", s.team.store.url()], environment: s.team.store.environment(password: s.team.store.ownerPassword), directory: s.a.dir)
    }

    /// `halt` (or `halt --lift`) by carol, a release manager.
    func carol(_ s: StoreRunTests.Setup, _ arguments: [String]) throws -> ProcessResult {
        try Fixtures.runsheet(["halt", "--as", "carol@example.com", "--store", s.c.url] + arguments, environment: s.c.environment, directory: s.a.dir)
    }

    /// Writes `files` (path from alice's checkout → text) and commits the checkout; with no files,
    /// the config naming the team's store, whose logs only that repository judges.
    func commit(_ s: StoreRunTests.Setup, _ files: [String: String]? = nil) throws {
        for (path, text) in files ?? [".runsheet/config.yaml": "store: \(s.a.url)\n"] {
            try text.write(to: s.a.dir.appendingPathComponent(path), atomically: true, encoding: .utf8)
        }
        for arguments in [["add", "-A"], ["-c", "user.name=Alice", "-c", "user.email=alice@example.com", "-c", "commit.gpgsign=false", "commit", "-qm", "rules"]] {
            let git = try Fixtures.run("/usr/bin/git", ["-C", s.a.dir.path] + arguments)
            #expect(git.status == 0, "git \(arguments): \(git.stderr)")
        }
    }

    /// The seq and hash of the last row of `table` where `filter` holds.
    func head(_ s: StoreRunTests.Setup, _ table: String, _ filter: String) throws -> (seq: Int, hash: String) {
        let parts = try s.sql("SELECT seq || ' ' || hash FROM runsheet.\(table) WHERE \(filter) ORDER BY seq DESC LIMIT 1").split(separator: " ").map(String.init)
        try #require(parts.count == 2, "\(parts)")
        return (try #require(Int(parts[0])), parts[1])
    }

    /// Mallory signs off the production step of run `id` `count` times, by psql, with a key no one
    /// lists (a sign-off needs no lease); returns the run's head before them.
    func forgeSignOffs(_ s: StoreRunTests.Setup, _ mallory: (user: String, password: String, url: String, environment: [String: String]),
                       run id: String, count: Int) throws -> (seq: Int, hash: String) {
        let before = try head(s, "events", "run = '\(id)'")
        var prev = before.hash
        for seq in before.seq + 1...before.seq + count {
            let event = try RunEvent(seq: seq, time: Timestamp.now(), type: .signOff, actor: "mallory@example.com", host: "h", via: "script", step: "switch-traffic",
                                     data: ["role": "cab", "stepHash": "0123456789abcdef", "sha256": .string(String(repeating: "0", count: 64))],
                                     canonical: "mallory@example.com", signature: try forms.realSignature())
                .sealed(seq: seq, after: prev)
            let line = String(decoding: try event.canonicalJSON(), as: UTF8.self)
            let inserted = try s.team.store.sql("INSERT INTO runsheet.events (run, seq, line, hash, prev, actor) VALUES ('\(id)', \(seq), decode('\(forms.hex(line))', 'hex'), '\(event.hash)', '\(prev)', 'mallory@example.com')",
                                                user: mallory.user, password: mallory.password)
            #expect(inserted.status == 0, "\(inserted.stderr)")
            prev = event.hash
        }
        return before
    }

    /// Mallory appends to the store's `log`, by psql, a record of `type` signed with a key no one
    /// lists: canonical, chained and in her own name, so the database takes it. Returns its line.
    func forgeRecord(_ s: StoreRunTests.Setup, _ mallory: (user: String, password: String, url: String, environment: [String: String]),
                     log: String, type: String, data: [String: JSONValue]) throws -> String {
        let empty = try s.sql("SELECT count(*) FROM runsheet.governance WHERE log = '\(log)'") == "0"
        let last: (seq: Int, hash: String) = empty ? (0, "") : try head(s, "governance", "log = '\(log)'")
        var record = GovernanceRecord(type: type, by: Actor(name: "mallory@example.com", host: "h", via: "script", canonical: "mallory@example.com"), data: data)
        (record.seq, record.prev, record.signature) = (last.seq + 1, last.hash, try forms.realSignature())
        record.hash = try record.computedHash()
        let line = String(decoding: try record.canonicalBytes(), as: UTF8.self)
        let inserted = try s.team.store.sql("INSERT INTO runsheet.governance (log, seq, line, hash, prev, actor) VALUES ('\(log)', \(record.seq), decode('\(forms.hex(line))', 'hex'), '\(record.hash)', '\(last.hash)', 'mallory@example.com')",
                                            user: mallory.user, password: mallory.password)
        #expect(inserted.status == 0, "\(inserted.stderr)")
        return line
    }

    @Test func aHaltWithASignatureThatDoesNotVerifyIsVoidedByTheOwnerAndProductionGoesOn() throws {
        let s = try StoreRunTests().setup()
        try commit(s)
        let mallory = try member(s, "mallory")
        // Two records that verify: a halt and its lift.
        #expect(try carol(s, ["--reason", "INC-1 maintenance"]).status == 0)
        #expect(try carol(s, ["--lift"]).status == 0)
        // Mallory's halt: canonical, chained, in her own name, signed with a key no allowed signers file lists.
        let line = try forgeRecord(s, mallory, log: "halts", type: Halt.declared, data: ["reason": "INC-1 still going"])

        // Every production step is blocked, and no lift is taken.
        let blocked = try s.a.runsheet(["run", "change.md", "--as", "alice@example.com"], stdin: "done\ndone\n")
        #expect(blocked.status == 3 && blocked.stdout.contains("production steps are blocked") && blocked.stdout.contains("mallory@example.com"),
                "\(blocked.status) \(blocked.stdout)\(blocked.stderr)")
        let id = try s.sql("SELECT run FROM runsheet.runs")
        let lift = try carol(s, ["--lift"])
        #expect(lift.status == 1 && lift.stderr.contains("runsheet store void --log halts --from 3"), "\(lift.status) \(lift.stderr)")

        // A member may not void; nor may anyone without a reason, or with one that is not one line of text.
        let byMallory = try Fixtures.runsheet(["store", "void", "--log", "halts", "--from", "3", "--reason", "mine", "--store", mallory.url],
                                              environment: mallory.environment, directory: s.a.dir)
        #expect(byMallory.status == 6 && byMallory.stderr.contains("does not own the runsheet tables") && byMallory.stderr.split(separator: "\n").count == 1,
                "\(byMallory.status) \(byMallory.stderr)")
        for reason in ["", "two\nlines", "red \u{1B}[31m", "two\u{2028}\u{26A0} lines", "two\u{2029}paragraphs", "next\u{85}line"] {
            let bad = try owner(s, ["store", "void", "--log", "halts", "--from", "3", "--reason", reason])
            #expect(bad.status == 2 && bad.stderr.split(separator: "\n").count == 1, "\(reason.debugDescription): \(bad.status) \(bad.stderr)")
        }
        // Only the first record that does not verify: not one that verifies, not one after it.
        for seq in ["1", "4"] {
            let refused = try owner(s, ["store", "void", "--log", "halts", "--from", seq, "--reason", "INC-2"])
            #expect(refused.status == 1 && refused.stderr.contains("record 3 is"), "\(seq): \(refused.status) \(refused.stderr)")
        }
        #expect(try s.sql("SELECT count(*) FROM runsheet.governance WHERE log = 'halts'") == "3", "nothing was voided")
        #expect(try s.sql("SELECT count(*) FROM runsheet.voided") == "0")

        let voided = try owner(s, ["store", "void", "--log", "halts", "--from", "3", "--reason", "INC-2: halt inserted by mallory by hand, signature does not verify"])
        #expect(voided.status == 0 && voided.stdout.contains("voided record 3 of the halts log"), "\(voided.status) \(voided.stdout)\(voided.stderr)")
        #expect(try s.sql("SELECT count(*) FROM runsheet.governance WHERE log = 'halts'") == "2")
        #expect(try s.sql("SELECT seq || ' ' || voided_by || ' ' || db_user FROM runsheet.voided WHERE log = 'halts'") == "3 \(s.team.store.owner) \(mallory.user)")
        // The append-only trigger is back for everyone, the owner included.
        let delete = try s.team.store.sql("DELETE FROM runsheet.governance WHERE log = 'halts'", user: s.team.store.owner, password: s.team.store.ownerPassword)
        #expect(delete.status != 0 && delete.stderr.contains("append-only"), "\(delete.stderr)")

        // Production goes on; halts and lifts work again.
        let resumed = try s.a.runsheet(["resume", id, "--as", "alice@example.com"], stdin: "done\ndone\n")
        #expect(resumed.status == 0, "\(resumed.status) \(resumed.stdout)\(resumed.stderr)")
        #expect(try carol(s, ["--reason", "INC-3"]).status == 0)
        #expect(try carol(s, ["--lift"]).status == 0)

        // status names what was voided, and anyone lists the voided lines for an auditor.
        let status = try s.a.runsheet(["status"])
        #expect(status.stdout.contains("record 3 of the store's halts log was voided by database user \(s.team.store.owner)")
                && status.stdout.contains("INC-2: halt inserted by mallory by hand"), "\(status.stdout)\(status.stderr)")
        let listed = try s.a.runsheet(["store", "void", "--list", "--log", "halts"])
        let rows = listed.stdout.split(separator: "\n")
        #expect(listed.status == 0 && rows.count == 1, "\(listed.stdout)\(listed.stderr)")
        let row = try #require(try JSONSerialization.jsonObject(with: Data((rows.first ?? "").utf8)) as? [String: Any])
        #expect(row["line"] as? String == line && row["db_user"] as? String == mallory.user && row["voided_by"] as? String == s.team.store.owner
                && row["seq"] as? Int == 3 && row["log"] as? String == "halts", "\(row)")
    }

    @Test func aForgedSignOffInAlicesRunIsVoidedAndTheRunResumesAndVerifies() throws {
        let s = try StoreRunTests().setup()
        let mallory = try member(s, "mallory")
        // Alice's run waits at its production step under carol's halt; carol lifts it.
        #expect(try carol(s, ["--reason", "INC-5 maintenance"]).status == 0)
        let paused = try s.a.runsheet(["run", "change.md", "--as", "alice@example.com"], stdin: "done\ndone\n")
        #expect(paused.status == 3, "\(paused.stdout)\(paused.stderr)")
        #expect(try carol(s, ["--lift"]).status == 0)
        let id = try s.sql("SELECT run FROM runsheet.runs")
        let before = try forgeSignOffs(s, mallory, run: id, count: 2)
        let refused = try s.a.runsheet(["resume", id, "--as", "alice@example.com"], stdin: "done\ndone\n")
        #expect(refused.status == 1 && refused.stderr.contains("does not verify"), "\(refused.status) \(refused.stdout)\(refused.stderr)")

        let first = before.seq + 1, count = "\(before.seq + 2)"
        let byMallory = try Fixtures.runsheet(["store", "void", id, "--from", "\(first)", "--reason", "mine", "--store", mallory.url],
                                              environment: mallory.environment, directory: s.a.dir)
        #expect(byMallory.status == 6 && byMallory.stderr.contains("does not own the runsheet tables"), "\(byMallory.status) \(byMallory.stderr)")
        for seq in [before.seq, first + 1] {
            let wrong = try owner(s, ["store", "void", id, "--from", "\(seq)", "--reason", "INC-6"])
            #expect(wrong.status == 1 && wrong.stderr.contains("record \(first) is"), "\(seq): \(wrong.status) \(wrong.stderr)")
        }
        // Judged where the run's allowed signers are: outside its repository every signed record would fail.
        let elsewhere = try Fixtures.runsheet(["store", "void", id, "--from", "\(first)", "--reason", "INC-6", "--store", s.team.store.url()],
                                              environment: s.team.store.environment(password: s.team.store.ownerPassword), directory: s.b.dir)
        #expect(elsewhere.status == 1 && elsewhere.stderr.contains("is not of the repository here"), "\(elsewhere.status) \(elsewhere.stderr)")
        let bad = try owner(s, ["store", "void", id, "--from", "\(first)", "--reason", "line\u{1B}[2J"])
        #expect(bad.status == 2, "\(bad.status) \(bad.stderr)")
        #expect(try s.sql("SELECT count(*) FROM runsheet.events WHERE run = '\(id)'") == count, "nothing was voided")

        let voided = try owner(s, ["store", "void", id, "--from", "\(first)", "--reason", "INC-6: sign-offs forged by mallory"])
        #expect(voided.status == 0 && voided.stdout.contains("voided records \(first) to \(first + 1) of run \(id)"), "\(voided.status) \(voided.stdout)\(voided.stderr)")
        #expect(try s.sql("SELECT string_agg(seq::text, ',' ORDER BY seq) FROM runsheet.voided WHERE run = '\(id)'") == "\(first),\(first + 1)")

        let resumed = try s.a.runsheet(["resume", id, "--as", "alice@example.com"], stdin: "done\ndone\n")
        #expect(resumed.status == 0, "\(resumed.status) \(resumed.stdout)\(resumed.stderr)")
        let events = try #require(Int(try s.sql("SELECT count(*) FROM runsheet.events WHERE run = '\(id)'")))
        try PostgresStoreTests().expectVerifies(s.team, id, events: events, directory: s.a.dir)

        // status and audit of the run say what was voided, by whom, when and why; the lines are listed.
        let words = "records \(first) to \(first + 1) of this run were voided by database user \(s.team.store.owner)"
        for command in ["status", "audit"] {
            let shown = try s.a.runsheet([command, id])
            #expect(shown.status == 0 && shown.stdout.contains(words) && shown.stdout.contains("INC-6: sign-offs forged by mallory"),
                    "\(command): \(shown.status) \(shown.stdout)\(shown.stderr)")
        }
        // An export stays the journal byte for byte, and says on standard error what it lacks; reports list it.
        let exported = try s.a.runsheet(["export", id])
        #expect(exported.status == 0 && exported.stdout.split(separator: "\n").count == events
                && exported.stderr.contains("records \(first) to \(first + 1) of run \(id) were voided from the store by database user \(s.team.store.owner)")
                && exported.stderr.contains("runsheet store void --list \(id)") && exported.stderr.split(separator: "\n").count == 1,
                "\(exported.status) \(exported.stderr)")
        let json = try s.a.runsheet(["report", id, "--format", "json"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], "\(json.stdout)\(json.stderr)")
        let voidedList = try #require(report["voided"] as? [[String: Any]], "\(report.keys)")
        #expect(voidedList.count == 1 && voidedList[0]["first"] as? Int == first && voidedList[0]["last"] as? Int == first + 1
                && voidedList[0]["by"] as? String == s.team.store.owner && voidedList[0]["reason"] as? String == "INC-6: sign-offs forged by mallory", "\(voidedList)")
        for format in ["md", "html"] {
            let shown = try s.a.runsheet(["report", id, "--format", format])
            #expect(shown.status == 0 && shown.stdout.contains(words), "\(format): \(shown.stdout)\(shown.stderr)")
        }
        let listed = try s.b.runsheet(["store", "void", "--list", id])
        let rows = listed.stdout.split(separator: "\n")
        #expect(listed.status == 0 && rows.count == 2 && rows.allSatisfy { $0.contains(#"\"type\":\"signoff.signed\""#) && $0.contains(#""db_user":"\#(mallory.user)""#) },
                "\(listed.stdout)\(listed.stderr)")
    }

    @Test func aRunBeingDrivenIsNotVoided() throws {
        let s = try StoreRunTests().setup()
        let mallory = try member(s, "mallory")
        let session = try s.a.start(["run", "change.md", "--as", "alice@example.com"])
        let id = try StoreRunTests().startedID(session)
        #expect(session.waitFor("Prepare"), "\(session.printed)\(session.errors)")
        let before = try forgeSignOffs(s, mallory, run: id, count: 1)
        let refused = try owner(s, ["store", "void", id, "--from", "\(before.seq + 1)", "--reason", "INC-7: sign-off forged by mallory"])
        _ = session.kill()
        #expect(refused.status == 5 && refused.stderr.contains("is being driven by a session") && refused.stderr.split(separator: "\n").count == 1,
                "\(refused.status) \(refused.stdout)\(refused.stderr)")
        #expect(try s.sql("SELECT count(*) FROM runsheet.events WHERE run = '\(id)'") == "\(before.seq + 1)" && (try s.sql("SELECT count(*) FROM runsheet.voided")) == "0")
        // Once the session is gone (the server drops its lease as it notices), the owner voids it.
        var voided = try owner(s, ["store", "void", id, "--from", "\(before.seq + 1)", "--reason", "INC-7: sign-off forged by mallory"])
        let deadline = Date().addingTimeInterval(10)
        while voided.status == 5, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.2)
            voided = try owner(s, ["store", "void", id, "--from", "\(before.seq + 1)", "--reason", "INC-7: sign-off forged by mallory"])
        }
        #expect(voided.status == 0, "\(voided.status) \(voided.stdout)\(voided.stderr)")
    }

    @Test func aClosureWithASignatureThatDoesNotVerifyIsVoidedFromTheClosuresLog() throws {
        let s = try StoreRunTests().setup()
        try commit(s)
        let mallory = try member(s, "mallory")
        let line = try forgeRecord(s, mallory, log: "closures", type: ReleaseClosure.closed, data: ["release": "2026.12"])
        let wrong = try owner(s, ["store", "void", "--log", "closures", "--from", "2", "--reason", "INC-8"])
        #expect(wrong.status == 1 && wrong.stderr.contains("record 1 is"), "\(wrong.status) \(wrong.stderr)")
        let voided = try owner(s, ["store", "void", "--log", "closures", "--from", "1", "--reason", "INC-8: closure forged by mallory"])
        #expect(voided.status == 0 && voided.stdout.contains("voided record 1 of the closures log"), "\(voided.status) \(voided.stdout)\(voided.stderr)")
        #expect(try s.sql("SELECT count(*) FROM runsheet.governance WHERE log = 'closures'") == "0")
        let listed = try s.b.runsheet(["store", "void", "--list", "--log", "closures"])
        let row = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any], "\(listed.stdout)\(listed.stderr)")
        #expect(row["line"] as? String == line && row["log"] as? String == "closures" && row["reason"] as? String == "INC-8: closure forged by mallory", "\(row)")
    }
}
