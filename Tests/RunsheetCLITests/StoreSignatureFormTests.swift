import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Schema version 3: the database takes a `signature` only written as `ssh-keygen -Y sign` writes
/// one, and a `journal.sealed` only signed. Found by the adversary: a member inserted by psql an
/// unsigned seal into another person's run (04), or a halt with `"signature":"garbage"` (05), both
/// canonical and correctly chained; the run, or the store's halts log, never verified again.
@Suite(.serialized) struct StoreSignatureFormTests {
    let stores = PostgresStoreTests()

    func hex(_ line: String) -> String { Array(line.utf8).map { String(format: "%02x", $0) }.joined() }

    /// Signatures a forger might write, each not what ssh-keygen writes.
    static func malformed(_ armored: String) -> [(String, String)] {
        let body = armored.split(separator: "\n").dropFirst().dropLast().joined()
        return [
            ("garbage", "garbage"),
            ("no END line", String(armored.split(separator: "\n").dropLast().joined(separator: "\n"))),
            ("a body that is not base64", "-----BEGIN SSH SIGNATURE-----\n!!!!\n-----END SSH SIGNATURE-----"),
            ("base64 that is no SSHSIG blob", "-----BEGIN SSH SIGNATURE-----\n\(Data("not a signature".utf8).base64EncodedString())\n-----END SSH SIGNATURE-----"),
            ("a body cut short", "-----BEGIN SSH SIGNATURE-----\n\(body.dropLast(1))\n-----END SSH SIGNATURE-----"),
            ("an empty string", ""),
        ]
    }

    func realSignature() throws -> String {
        let folder = try Fixtures.temporaryDirectory("sigform")
        let key = try SSHKeygen.generate("ed25519", in: folder, name: "mallory")
        return try SSHKeygen.sign("anything", with: key, in: folder).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test func aMemberCannotSealAnotherPersonsRunWithoutAWellFormedSignature() throws {
        let team = try stores.team()
        let (_, id, journal) = try stores.pushedAliceRun(team)
        let head = try #require(try JournalFile.read(at: journal).events.last)
        let armored = try realSignature()
        func seal(_ signature: String?, type: EventType = .journalSealed) throws -> (RunEvent, ProcessResult) {
            var event = RunEvent(seq: head.seq + 1, time: Timestamp.now(), type: type, actor: "bob@example.com", host: "h", via: "script",
                                 data: ["head": .string(head.hash), "seq": .int(head.seq)], canonical: "bob@example.com")
            event.signature = signature
            event = try event.sealed(seq: head.seq + 1, after: head.hash)
            let line = String(decoding: try event.canonicalJSON(), as: UTF8.self)
            let result = try team.store.sql("INSERT INTO runsheet.events (run, seq, line, hash, prev, actor) VALUES ('\(id)', \(event.seq), decode('\(hex(line))', 'hex'), '\(event.hash)', '\(event.prev)', 'bob@example.com')",
                                            user: team.bob.user, password: team.bob.password)
            return (event, result)
        }
        let (_, unsigned) = try seal(nil)
        #expect(unsigned.status != 0 && unsigned.stderr.contains("event \(head.seq + 1) of run \(id) carries no armored SSH signature where it must"),
                "\(unsigned.stdout)\(unsigned.stderr)")
        for (name, signature) in Self.malformed(armored) {
            let (_, refused) = try seal(signature)
            #expect(refused.status != 0 && refused.stderr.contains("carries no armored SSH signature"), "\(name): \(refused.stdout)\(refused.stderr)")
            let (_, note) = try seal(signature, type: .note)
            #expect(note.status != 0 && note.stderr.contains("carries no armored SSH signature"), "a note with \(name): \(note.stdout)\(note.stderr)")
        }
        // The run still verifies: nothing went in.
        let folder = try Fixtures.temporaryDirectory("sigform").appendingPathComponent(id)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let exported = try Fixtures.runsheet(["export", id, "-o", folder.appendingPathComponent("journal.jsonl").path, "--store", team.store.url(user: team.bob.user)],
                                             environment: team.store.environment(password: team.bob.password))
        #expect(exported.status == 0, "\(exported.stderr)")
        let verified = try Fixtures.runsheet(["verify", folder.appendingPathComponent("journal.jsonl").path])
        #expect(verified.status == 0 && verified.stdout.contains("intact, \(head.seq) events"), "\(verified.stdout)\(verified.stderr)")
        // A signature written as ssh-keygen writes one goes in (whether it verifies is for `verify`).
        let (_, accepted) = try seal(armored)
        #expect(accepted.status == 0, "\(accepted.stderr)")
    }

    @Test func aMemberCannotPoisonTheHaltsLogWithAGarbageSignature() throws {
        let team = try stores.team()
        let alice = team.store.url(user: team.alice.user), aliceEnvironment = team.store.environment(password: team.alice.password)
        let directory = try Fixtures.temporaryDirectory("sigform-halts")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        try "roles:\n  release-manager: [alice@example.com]\n  sre: [bob@example.com]\n".write(to: directory.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        for arguments in [["init", "-q"], ["add", "-A"], ["-c", "user.name=Alice", "-c", "user.email=alice@example.com", "commit", "-qm", "rules"]] {
            let git = try Fixtures.run("/usr/bin/git", ["-C", directory.path] + arguments)
            #expect(git.status == 0, "git \(arguments): \(git.stderr)")
        }
        let halted = try Fixtures.runsheet(["halt", "--reason", "any halt", "--service", "zz", "--environment", "production", "--as", "alice@example.com", "--store", alice],
                                           environment: aliceEnvironment, directory: directory)
        #expect(halted.status == 0, "\(halted.stdout)\(halted.stderr)")
        let last = try team.store.sql("SELECT seq || ' ' || hash FROM runsheet.governance WHERE log = 'halts' ORDER BY seq DESC LIMIT 1",
                                      user: team.bob.user, password: team.bob.password).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let parts = last.split(separator: " ").map(String.init)
        try #require(parts.count == 2, "\(last)")
        let seq = try #require(Int(parts[0])), prev = parts[1]
        for (name, signature) in Self.malformed(try realSignature()) {
            var record = GovernanceRecord(type: Halt.declared, by: Actor(name: "bob@example.com", host: "h", via: "script", canonical: "bob@example.com"),
                                          data: ["reason": "x", "rules": .object([:])])
            (record.seq, record.prev, record.signature) = (seq + 1, prev, signature)
            record.hash = try record.computedHash()
            let line = String(decoding: try record.canonicalBytes(), as: UTF8.self)
            let refused = try team.store.sql("INSERT INTO runsheet.governance (log, seq, line, hash, prev, actor) VALUES ('halts', \(seq + 1), decode('\(hex(line))', 'hex'), '\(record.hash)', '\(prev)', 'bob@example.com')",
                                             user: team.bob.user, password: team.bob.password)
            #expect(refused.status != 0 && refused.stderr.contains("record \(seq + 1) of the halts log carries a signature not written as ssh-keygen writes one"),
                    "\(name): \(refused.stdout)\(refused.stderr)")
        }
        // The log still verifies: the halt can be lifted.
        let lifted = try Fixtures.runsheet(["halt", "--lift", "--as", "alice@example.com", "--store", alice], environment: aliceEnvironment, directory: directory)
        #expect(lifted.status == 0, "\(lifted.stdout)\(lifted.stderr)")
    }
}
