import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Only the session holding a run's lease drives it: a member who forges a driving event into
/// someone's run by hand (psql, in their own name, correctly chained) is refused by the database,
/// as is a command output log planted before the session keeps its own. Found by an adversary.
@Suite(.serialized) struct StoreDrivingTests {
    /// The next line of run `id` as `person` would write it: the last event's line with another
    /// type, data and actor, sealed onto the head (a valid chain, a valid hash).
    func forged(_ s: StoreRunTests.Setup, run id: String, type: String, data: [String: Any], step: String?, person: String) throws -> String {
        let last = try s.sql("SELECT convert_from(line, 'UTF8') FROM runsheet.events WHERE run = '\(id)' ORDER BY seq DESC LIMIT 1")
        var object = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
        let head = try JSONDecoder().decode(RunEvent.self, from: Data(last.utf8))
        (object["type"], object["data"], object["actor"], object["canonical"]) = (type, data, person, person)
        object["step"] = step
        object.removeValue(forKey: "signature")
        let event = try JSONDecoder().decode(RunEvent.self, from: try JSONSerialization.data(withJSONObject: object))
        let sealed = try event.sealed(seq: head.seq + 1, after: head.hash)
        let line = try sealed.canonicalJSON()
        return "INSERT INTO runsheet.events (run, seq, line, hash, prev, actor) VALUES ('\(id)', \(sealed.seq), decode('\(line.map { String(format: "%02x", $0) }.joined())', 'hex'), '\(sealed.hash)', '\(sealed.prev)', '\(person)')"
    }

    @Test func aForgedDrivingEventIsRefusedAndTheGateStillHolds() throws {
        let s = try StoreRunTests().setup()
        let a = try s.a.start(["run", "deploy.md", "--as", "alice@example.com"])
        let id = try StoreRunTests().startedID(a)
        #expect(a.waitFor("Approve the deploy", seconds: 30), "\(a.printed)\(a.errors)")
        let before = try s.sql("SELECT count(*) FROM runsheet.events WHERE run = '\(id)'")
        let attempts: [(String, [String: Any], String?)] = [
            ("cursor.moved", ["to": "deploy", "reason": "goto"], nil),
            ("step.completed", ["next": "deploy"], "approve-the-deploy"),
            ("run.ended", ["outcome": "completed"], nil),
        ]
        for (type, data, step) in attempts {
            // Bob, in his own name; and Alice herself, on a connection of her own (not her session's).
            for (person, login) in [("bob@example.com", s.team.bob), ("alice@example.com", s.team.alice)] {
                let statement = try forged(s, run: id, type: type, data: data, step: step, person: person)
                let refused = try s.team.store.sql(statement, user: login.user, password: login.password)
                #expect(refused.status != 0 && refused.stderr.contains("does not hold the run's lease"), "\(type) by \(person): \(refused.stdout)\(refused.stderr)")
            }
        }
        #expect(try s.sql("SELECT count(*) FROM runsheet.events WHERE run = '\(id)'") == before, "nothing was written")
        // Others' acts still go in: a sign-off by bob is taken.
        let signed = try s.b.runsheet(["sign", id, "approve-the-deploy", "--as", "bob@example.com"])
        #expect(signed.status == 0, "\(signed.stdout)\(signed.stderr)")
        a.send("quit")
        #expect(a.finish() == 3, "\(a.printed)\(a.errors)")
        let status = try s.b.runsheet(["status", id])
        #expect(status.stdout.contains("paused") || status.stdout.contains("approve-the-deploy"), "\(status.stdout)")
    }

    @Test func anOutputLogPlantedByAnotherMemberIsRefused() throws {
        let s = try StoreRunTests().setup()
        let a = try s.a.start(["run", "deploy.md", "--as", "alice@example.com"])
        let id = try StoreRunTests().startedID(a)
        #expect(a.waitFor("Approve the deploy", seconds: 30), "\(a.printed)\(a.errors)")
        let fake = Array("FAKE OUTPUT\n".utf8), sha = SHA256Hex.of(fake)
        let planted = try s.team.store.sql("""
            INSERT INTO runsheet.blobs (sha256, content) VALUES ('\(sha)', decode('\(fake.map { String(format: "%02x", $0) }.joined())', 'hex'));
            INSERT INTO runsheet.run_files (run, kind, path, sha256) VALUES ('\(id)', 'output', 'output/deploy-1-1.log', '\(sha)')
            """, user: s.team.bob.user, password: s.team.bob.password)
        #expect(planted.status != 0 && planted.stderr.contains("comes with the run's creation or from the session driving it"), "\(planted.stdout)\(planted.stderr)")
        for (machine, person) in [(s.b, "bob@example.com"), (s.c, "carol@example.com")] {
            #expect(try machine.runsheet(["sign", id, "approve-the-deploy", "--as", person]).status == 0)
        }
        a.send("wait", "run")
        #expect(a.finish(seconds: 60) == 0, "\(a.printed)\(a.errors)")
        let kept = try s.sql("SELECT encode(b.content, 'escape') FROM runsheet.run_files f JOIN runsheet.blobs b USING (sha256) WHERE f.run = '\(id)' AND f.kind = 'output'")
        #expect(kept.contains("deployed") && !kept.contains("FAKE"), "\(kept)")
    }
}
