import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// The adversary's attacks on `store void`'s promise, a record that verifies is never voided: the
/// owner judging signatures by allowed signers of their own (an uncommitted edit, another
/// repository, a copy with other signers committed) or by a file that cannot be read.
@Suite(.serialized) struct StoreVoidJudgeTests {
    let void = StoreVoidTests()

    /// `runsheet ARGUMENTS` by the database's owner in `directory`.
    func owner(_ s: StoreRunTests.Setup, _ arguments: [String], in directory: URL) throws -> ProcessResult {
        try Fixtures.runsheet(arguments + ["--store", s.team.store.url()], environment: s.team.store.environment(password: s.team.store.ownerPassword), directory: directory)
    }

    @Test func aValidHaltOrLiftIsNotVoidedByAllowedSignersOtherThanTheCommittedOnes() throws {
        let s = try StoreRunTests().setup()
        let keys = try Fixtures.temporaryDirectory("void-judge-keys")
        let carolKey = try SigningKeys.generate(name: "carol", in: keys), otherKey = try SigningKeys.generate(name: "other", in: keys)
        try SigningKeys.allow([("carol@example.com", carolKey)], in: s.a.dir)
        try void.commit(s)
        let signers = s.a.dir.appendingPathComponent(".runsheet/allowed_signers")
        let original = try String(contentsOf: signers, encoding: .utf8)

        // Carol's signed halt, then (two seconds later) her signed lift: both verify.
        #expect(try void.carol(s, ["--reason", "INC-9 maintenance", "--key", carolKey]).status == 0)
        let between = Date().addingTimeInterval(1)
        Thread.sleep(forTimeInterval: 2.2)
        #expect(try void.carol(s, ["--lift", "--key", carolKey]).status == 0)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMddHHmmss'Z'"
        func untouched() throws {
            #expect(try s.sql("SELECT count(*) FROM runsheet.governance WHERE log = 'halts'") == "2" && (try s.sql("SELECT count(*) FROM runsheet.voided")) == "0", "nothing was voided")
        }

        // Uncommitted edits: carol's key valid only before her lift (which would void the lift and
        // bring the halt back), or another key in place of hers.
        let edits = [("valid-before", 2, "carol@example.com namespaces=\"runsheet\",valid-before=\"\(formatter.string(from: between))\" \(try SigningKeys.publicKey(carolKey))\n"),
                     ("another key", 1, "carol@example.com namespaces=\"runsheet\" \(try SigningKeys.publicKey(otherKey))\n")]
        for (edit, seq, text) in edits {
            try text.write(to: signers, atomically: true, encoding: .utf8)
            let refused = try void.owner(s, ["store", "void", "--log", "halts", "--from", "\(seq)", "--reason", "INC-10"])
            #expect(refused.status == 1 && refused.stderr.contains("is not the one committed at HEAD") && refused.stderr.split(separator: "\n").count == 1,
                    "\(edit): \(refused.status) \(refused.stdout)\(refused.stderr)")
            try untouched()
        }

        // A file that cannot be read or decoded, or is gone, is no allowed signers at all: refused as any rule file is.
        let copy = keys.appendingPathComponent("allowed_signers")
        try original.write(to: copy, atomically: true, encoding: .utf8)
        let broken: [(String, () throws -> Void)] = [
            ("a Latin-1 byte", { try Data(Array(original.utf8) + [0xE9, 0x0A]).write(to: signers) }),
            ("a symbolic link", { try FileManager.default.createSymbolicLink(at: signers, withDestinationURL: copy) }),
            ("a directory", { try FileManager.default.createDirectory(at: signers, withIntermediateDirectories: false) }),
            ("deleted", {}),
        ]
        for (form, make) in broken {
            try FileManager.default.removeItem(at: signers)
            try make()
            let refused = try void.owner(s, ["store", "void", "--log", "halts", "--from", "1", "--reason", "INC-11"])
            #expect(refused.status == 2 && refused.stderr.contains(".runsheet/allowed_signers") && refused.stderr.split(separator: "\n").count == 1,
                    "\(form): \(refused.status) \(refused.stdout)\(refused.stderr)")
            try untouched()
            try? FileManager.default.removeItem(at: signers)
            try original.write(to: signers, atomically: true, encoding: .utf8)
        }

        // Another repository (with no key for carol) does not judge this store's log: its committed config does not name the store.
        let other = s.b.dir
        try FileManager.default.createDirectory(at: other.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        try "roles:\n  release-manager: [carol@example.com]\n".write(to: other.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        for arguments in [["init", "-q"], ["add", "-A"], ["-c", "user.name=Mallory", "-c", "user.email=m@example.com", "-c", "commit.gpgsign=false", "commit", "-qm", "mine"]] {
            #expect(try Fixtures.run("/usr/bin/git", ["-C", other.path] + arguments).status == 0)
        }
        let elsewhere = try owner(s, ["store", "void", "--log", "halts", "--from", "1", "--reason", "INC-12"], in: other)
        #expect(elsewhere.status == 1 && (elsewhere.stderr.contains("does not name the store") || elsewhere.stderr.contains("no .runsheet/config.yaml is committed")),
                "\(elsewhere.status) \(elsewhere.stdout)\(elsewhere.stderr)")
        #expect(elsewhere.status == 1 && elsewhere.stderr.split(separator: "\n").count == 1)
        try untouched()

        // A copy of the repository (its config names the store) with carol's lift made invalid by a
        // committed valid-before: the lift verifies under the allowed signers its history holds.
        let clone = try Fixtures.temporaryDirectory("void-judge-copy").appendingPathComponent("repo")
        #expect(try Fixtures.run("/usr/bin/git", ["clone", "-q", s.a.dir.path, clone.path]).status == 0)
        try edits[0].2.write(to: clone.appendingPathComponent(".runsheet/allowed_signers"), atomically: true, encoding: .utf8)
        let recommitted = try Fixtures.run("/bin/sh", ["-c", "git add -A && git -c user.name=m -c user.email=m@example.com -c commit.gpgsign=false commit -qm 'valid-before'"], directory: clone)
        #expect(recommitted.status == 0, "\(recommitted.stderr)")
        let inCopy = try owner(s, ["store", "void", "--log", "halts", "--from", "2", "--reason", "INC-12"], in: clone)
        #expect(inCopy.status == 1 && inCopy.stderr.contains("a version of the allowed signers committed in this repository's history") && inCopy.stderr.split(separator: "\n").count == 1,
                "\(inCopy.status) \(inCopy.stdout)\(inCopy.stderr)")
        try untouched()

        // The positive control: judged by the committed file, both verify.
        let verifies = try void.owner(s, ["store", "void", "--log", "halts", "--from", "2", "--reason", "INC-13"])
        #expect(verifies.status == 1 && verifies.stderr.contains("verifies here"), "\(verifies.status) \(verifies.stderr)")

        // A line or paragraph separator in a halt's reason is refused, as a line break is.
        for reason in ["INC-14\u{2028}\u{26A0} fake line", "INC-14\u{2029}more"] {
            let halted = try void.carol(s, ["--reason", reason, "--key", carolKey])
            #expect(halted.status == 2, "\(halted.status) \(halted.stdout)\(halted.stderr)")
        }
    }

    @Test func aValidSignOffIsNotVoidedByAnEditedOrRecommittedAllowedSignersFile() throws {
        let run = try StoreReadTests().pushedSignedRun()
        let store = run.team.store
        let environment = store.environment(password: store.ownerPassword)
        func sql(_ text: String) throws -> String {
            try store.sql(text, user: store.owner, password: store.ownerPassword).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let bobs = try sql("SELECT min(seq) FROM runsheet.events WHERE run = '\(run.id)' AND convert_from(line, 'UTF8') LIKE '%\"type\":\"signoff.signed\"%'")
        let count = try sql("SELECT count(*) FROM runsheet.events WHERE run = '\(run.id)'")
        func voiding(in directory: URL) throws -> ProcessResult {
            try Fixtures.runsheet(["store", "void", run.id, "--from", bobs, "--reason", "INC-15", "--store", store.url()], environment: environment, directory: directory)
        }
        func untouched() throws {
            #expect(try sql("SELECT count(*) FROM runsheet.events WHERE run = '\(run.id)'") == count && (try sql("SELECT count(*) FROM runsheet.voided")) == "0", "nothing was voided")
        }
        // Bob's key taken out of the allowed signers, uncommitted: his sign-off would not verify here.
        let signers = run.dir.appendingPathComponent(".runsheet/allowed_signers")
        let original = try String(contentsOf: signers, encoding: .utf8)
        let withoutBob = original.split(separator: "\n").filter { !$0.hasPrefix("bob ") }.joined(separator: "\n") + "\n"
        #expect(withoutBob != original && !bobs.isEmpty)
        try withoutBob.write(to: signers, atomically: true, encoding: .utf8)
        let edited = try voiding(in: run.dir)
        #expect(edited.status == 1 && edited.stderr.contains("is not the one committed at HEAD"), "\(edited.status) \(edited.stdout)\(edited.stderr)")
        try untouched()
        try original.write(to: signers, atomically: true, encoding: .utf8)

        // A copy of the repository with bob's key taken out and committed there: his sign-off
        // still verifies under the allowed signers committed where the run started.
        let copy = try Fixtures.temporaryDirectory("void-judge-copy").appendingPathComponent("repo")
        #expect(try Fixtures.run("/usr/bin/git", ["clone", "-q", run.dir.path, copy.path]).status == 0)
        try withoutBob.write(to: copy.appendingPathComponent(".runsheet/allowed_signers"), atomically: true, encoding: .utf8)
        let committed = try Fixtures.run("/bin/sh", ["-c", "git add -A && git -c user.name=m -c user.email=m@example.com -c commit.gpgsign=false commit -qm 'bob out'"], directory: copy)
        #expect(committed.status == 0, "\(committed.stderr)")
        let recommitted = try voiding(in: copy)
        #expect(recommitted.status == 1 && recommitted.stderr.contains("verifies under the allowed signers committed at the commit the run started at"),
                "\(recommitted.status) \(recommitted.stdout)\(recommitted.stderr)")
        try untouched()
    }
}
