import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// A look-alike name (Cyrillic 'а', U+0430, for Latin 'a') shows its code points wherever people
/// read who acted: `check` and refusals did; `audit`, the readiness tables and the run and
/// readiness reports in every format (HTML and JSON too) now do, with the same
/// `PersonName.shownWithCodePoints`.
@Suite struct LookAlikeNamesShownTests {
    static let lookAlike = "\u{0430}lice"
    static let shown = "\u{0430}lice (U+0430 at 1)"

    static let runbook = """
        ---
        id: change
        roles: [sre]
        ---
        # Change

        - [ ] Prepare
        - [ ] Approve
          - Sign-off: 1 of sre
        - [ ] Deploy
        """

    @Test func auditReadinessAndReportsShowTheCodePoints() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try "ref: refs/heads/main\n".write(to: dir.appendingPathComponent(".git/HEAD"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        try "roles:\n  sre: [\(Self.lookAlike), bob]\n".write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        try Self.runbook.write(to: dir.appendingPathComponent("change.md"), atomically: true, encoding: .utf8)
        try "---\ntarget: 2030-01-01\nowner: \(Self.lookAlike)\n---\n# Release\n\n## Requires\n\n- [Change](change.md)\n"
            .write(to: dir.appendingPathComponent("release.md"), atomically: true, encoding: .utf8)
        let started = try RepositoryRuns.runsheet(["run", "change.md", "--as", "olly"], in: dir, stdin: "done\n")
        #expect(started.status == 3, "\(started.stdout)\(started.stderr)")
        let id = try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))
        let signed = try RepositoryRuns.runsheet(["sign", id, "approve", "--as", Self.lookAlike], in: dir)
        #expect(signed.status == 0, "\(signed.stdout)\(signed.stderr)")
        let finished = try RepositoryRuns.runsheet(["resume", id, "--as", "olly"], in: dir, stdin: "done\ndone\n")
        #expect(finished.status == 0, "\(finished.stdout)\(finished.stderr)")

        let audit = try RepositoryRuns.runsheet(["audit", id], in: dir)
        #expect(audit.status == 0 && audit.stdout.contains("  \(Self.shown)@"), "\(audit.stdout)")
        for format in ["md", "html", "json"] {
            let ready = try RepositoryRuns.runsheet(["readiness", "release.md", "--format", format], in: dir)
            #expect(ready.status == 0, "\(format): \(ready.stdout)\(ready.stderr)")
            #expect(ready.stdout.contains(Self.shown), "\(format): the approver and the owner: \(ready.stdout)")
            #expect(!ready.stdout.replacingOccurrences(of: Self.shown, with: "").contains(Self.lookAlike), "\(format): never the bare look-alike: \(ready.stdout)")
        }
        for format in ["md", "html", "json", "csv", "junit"] {
            let report = try RepositoryRuns.runsheet(["report", id, "--format", format], in: dir)
            #expect(report.status == 0, "\(format): \(report.stderr)")
            if ["md", "html", "json"].contains(format) { #expect(report.stdout.contains(Self.shown), "\(format): \(report.stdout)") }
            #expect(!report.stdout.replacingOccurrences(of: Self.shown, with: "").contains(Self.lookAlike), "\(format): never the bare look-alike: \(report.stdout)")
        }
    }
}
