import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Secrets in typed text (issue 13, item 8), through the real binary: a secret parameter's value
/// typed into a note, a lesson, an added step, a skip, fail or abort reason or a sign-off
/// comment never reaches the journal, and so no report, `render` or `update --patch`.
@Suite struct TypedSecretTests {
    static let token = "s3cr3t-T0ken-xyz"

    static let runbook = """
        ---
        id: rotate
        params:
          token:
            secret: true
          short:
            secret: true
        ---
        # Rotate

        - [ ] Check access
          - Id: check
        - [ ] Revoke the old key
          - Id: revoke

          ```bash run
          test -n "{{token}}" && echo revoked
          ```
        - [ ] Approve
          - Id: approve
          - Sign-off: sre
          - Separation: starter
        - [ ] Approve the publication
          - Id: approve-publish
          - Sign-off: sre
        - [ ] Publish
          - Id: publish
        """

    func repository() throws -> URL {
        let dir = try Fixtures.temporaryDirectory()
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        try "roles:\n  operator: [alice]\n  sre: [bob, carol]\n".write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        try Self.runbook.write(to: dir.appendingPathComponent("rotate.md"), atomically: true, encoding: .utf8)
        return dir
    }

    func runsheet(_ arguments: [String], in dir: URL, stdin: String? = nil, environment: [String: String] = [:]) throws -> ProcessResult {
        try Fixtures.runsheet(arguments + ["--runs-dir", "runs"], stdin: stdin,
                              environment: ["NO_COLOR": "1", "RUNSHEET_PARAM_token": "", "RUNSHEET_PARAM_short": ""].merging(environment) { $1 },
                              directory: dir)
    }

    /// No spelling of the token: as typed, lowercased (an added step's id is a slug of its title).
    static func expectNoToken(_ text: String, _ what: String) {
        #expect(!text.contains(token), "\(what) holds the token: \(text)")
        #expect(!text.lowercased().contains(token.lowercased()), "\(what) holds the token in lower case: \(text)")
    }

    @Test func aSecretTypedIntoTheRunIsMaskedBeforeTheJournalHoldsIt() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let token = Self.token
        let actions = """
            note the token is \(token), rotate it after
            lesson never paste \(token) in chat
            add Rotated \(token) by hand
            skip \(token) already revoked on the console
            note short one: abc
            quit
            """
        let run = try runsheet(["run", "rotate.md", "--as", "alice", "--param", "token=\(token)", "--param", "short=abc"], in: dir, stdin: actions + "\n")
        #expect(run.status == 3, "\(run.stdout)\(run.stderr)")
        Self.expectNoToken(run.stdout + run.stderr, "the session's output")
        let id = try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))
        #expect(run.stdout.contains("added step 'rotated-by-hand' as done"), "\(run.stdout)")

        // A later session masks too (the secret is given again on resume): a failure's reason.
        let resumed = try runsheet(["resume", id, "--as", "alice", "--param", "token=\(token)", "--param", "short=abc"], in: dir,
                                   stdin: "fail revoke printed \"\(token)\"\n")
        #expect(resumed.status == 1, "\(resumed.stdout)\(resumed.stderr)")
        Self.expectNoToken(resumed.stdout + resumed.stderr, "the resumed session's output")

        let bytes = try String(contentsOf: dir.appendingPathComponent("runs/\(id)/journal.jsonl"), encoding: .utf8)
        Self.expectNoToken(bytes, "the journal")
        let texts = try RepositoryRuns.events(dir, id: id).compactMap { event -> String? in
            let data = event["data"] as? [String: Any]
            return (data?["text"] ?? data?["reason"] ?? data?["title"]) as? String
        }
        for expected in ["the token is ••••, rotate it after", "never paste •••• in chat", "Rotated •••• by hand",
                         "•••• already revoked on the console", "short one: abc"] {
            #expect(texts.contains(expected), "\(expected) not in \(texts)")
        }
        #expect(texts.contains("revoke printed \"••••\""), "\(texts)")

        for format in ["md", "html", "json", "junit", "csv"] {
            let report = try runsheet(["report", id, "--format", format], in: dir)
            #expect(report.status == 0, "\(format): \(report.stderr)")
            Self.expectNoToken(report.stdout, "report --format \(format)")
            #expect(report.stdout.contains("••••"), "\(format)")
        }
        let render = try runsheet(["render", id], in: dir)
        Self.expectNoToken(render.stdout, "render")
        let patch = try runsheet(["update", "rotate.md", "--from", id, "--patch"], in: dir)
        #expect(patch.status == 0, "\(patch.stdout)\(patch.stderr)")
        Self.expectNoToken(patch.stdout + patch.stderr, "update --patch")
        #expect(patch.stdout.contains("Lesson: never paste •••• in chat"), "\(patch.stdout)")
        #expect(patch.stdout.contains("Rotated •••• by hand"), "\(patch.stdout)")
    }

    @Test func anAbortReasonIsMaskedToo() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try runsheet(["run", "rotate.md", "--as", "alice", "--param", "token=\(Self.token)", "--param", "short=abc"], in: dir,
                               stdin: "abort leaked \(Self.token) in the ticket\n")
        #expect(run.status == 1, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("aborted: leaked •••• in the ticket"), "\(run.stdout)")
        Self.expectNoToken(run.stdout + run.stderr, "the session's output")
        let id = try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))
        Self.expectNoToken(try String(contentsOf: dir.appendingPathComponent("runs/\(id)/journal.jsonl"), encoding: .utf8), "the journal")
    }

    @Test func signMasksASecretItKnowsByTheRunsDigestOrItsEnvironment() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let token = Self.token
        let run = try runsheet(["run", "rotate.md", "--as", "alice", "--param", "token=\(token)", "--param", "short=abc"], in: dir,
                               stdin: "done\nskip revoked by the vendor\nquit\n")
        #expect(run.status == 3, "\(run.stdout)\(run.stderr)")
        let id = try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))

        // bob's process never had the token: a word that matches the digest the run recorded is masked.
        let signed = try runsheet(["sign", id, "approve", "--as", "bob", "--comment", "checked that token=\(token) is revoked"], in: dir)
        #expect(signed.status == 0, "\(signed.stdout)\(signed.stderr)")
        Self.expectNoToken(signed.stdout + signed.stderr, "sign's output")
        // carol has it in her environment, as the run reads it; it is masked inside a word too.
        let second = try runsheet(["sign", id, "approve-publish", "--as", "carol", "--comment", "\(token)-old is still live"], in: dir,
                                  environment: ["RUNSHEET_PARAM_token": token])
        #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
        Self.expectNoToken(second.stdout + second.stderr, "the second sign's output")

        let bytes = try String(contentsOf: dir.appendingPathComponent("runs/\(id)/journal.jsonl"), encoding: .utf8)
        Self.expectNoToken(bytes, "the journal")
        let events = try RepositoryRuns.events(dir, id: id)
        let comments = events.filter { $0["type"] as? String == "signoff.signed" }.compactMap { ($0["data"] as? [String: Any])?["comment"] as? String }
        #expect(comments == ["checked that token=•••• is revoked", "••••-old is still live"])
        for format in ["md", "csv"] { Self.expectNoToken(try runsheet(["report", id, "--format", format], in: dir).stdout, format) }
    }
}
