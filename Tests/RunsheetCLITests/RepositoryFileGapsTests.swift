import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Gaps the adversary of issue 14 found in how rule and release files are read, each through the
/// real binary: a release's `change: ~`, two runbooks with one id, and a change record pattern
/// whose `\d` takes other scripts' digits.
@Suite struct RepositoryFileGapsTests {
    static let runbook = "---\nid: deploy\n---\n# Deploy\n\n- [ ] Deploy it\n"

    func repository(policy: String? = nil) throws -> URL {
        let dir = try Fixtures.temporaryDirectory()
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try "ref: refs/heads/main\n".write(to: dir.appendingPathComponent(".git/HEAD"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        if let policy { try policy.write(to: dir.appendingPathComponent(".runsheet/policy.yaml"), atomically: true, encoding: .utf8) }
        try Self.runbook.write(to: dir.appendingPathComponent("deploy.md"), atomically: true, encoding: .utf8)
        return dir
    }

    func check(_ paths: [String], in dir: URL) throws -> ProcessResult {
        try Fixtures.runsheet(["check"] + paths, environment: ["NO_COLOR": "1"], directory: dir)
    }

    /// `change: ~` was read as a change record named "~". YAML's null (and nothing after the
    /// colon) names no change record, so the release is refused with a sentence at its position.
    @Test(arguments: ["~", "null", ""])
    func aReleaseWhoseChangeIsNullIsRefused(value: String) throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "---\ntarget: 2030-01-01\nchange: \(value)\n---\n# Release\n\n## Requires\n\n- [Deploy](deploy.md)\n"
            .write(to: dir.appendingPathComponent("release.md"), atomically: true, encoding: .utf8)
        let refused = try RepositoryRuns.runsheet(["readiness", "release.md"], in: dir)
        #expect(refused.status == 2, "\(refused.stdout)\(refused.stderr)")
        #expect(refused.stderr.contains(value.isEmpty ? "release.md:" : "release.md:3:9: ") && refused.stderr.contains("'change' is null, which names no change record"), "\(refused.stderr)")
        #expect(refused.stdout.isEmpty)
        // A quoted "~" is text, a reference like any other.
        try "---\ntarget: 2030-01-01\nchange: '~'\n---\n# Release\n\n## Requires\n\n- [Deploy](deploy.md)\n"
            .write(to: dir.appendingPathComponent("release.md"), atomically: true, encoding: .utf8)
        let quoted = try RepositoryRuns.runsheet(["readiness", "release.md"], in: dir)
        #expect(quoted.status == 1 && !quoted.stderr.contains("is null"), "\(quoted.stdout)\(quoted.stderr)")
    }

    /// Two runbooks with one id: readiness would take the runs of one for the other (and block as
    /// on a stale runbook). `check` reports the second at its id, naming the first.
    @Test func twoRunbooksWithOneIdAreAnErrorAtTheSecondsId() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("b"), withIntermediateDirectories: true)
        try "---\ntitle: Other\nid:   deploy\n---\n# Other\n\n- [ ] Do the other thing\n".write(to: dir.appendingPathComponent("b/other.md"), atomically: true, encoding: .utf8)
        let checked = try check(["deploy.md", "b/other.md"], in: dir)
        #expect(checked.status == 1, "\(checked.stdout)\(checked.stderr)")
        #expect(checked.stdout.contains("b/other.md:3:7: error: the runbook id deploy is already the id of deploy.md; runs are matched to their runbook by id")
                && checked.stdout.contains("[duplicate-runbook-id]"), "\(checked.stdout)")
        #expect(!checked.stdout.contains("deploy.md:2:"), "the first keeps its id: \(checked.stdout)")
        // An id from the file name counts too, reported at 1:1.
        try "# Deploy\n\n- [ ] Deploy it again\n".write(to: dir.appendingPathComponent("b/deploy.md"), atomically: true, encoding: .utf8)
        let named = try check(["deploy.md", "b/deploy.md"], in: dir)
        #expect(named.status == 1 && named.stdout.contains("b/deploy.md:1:1: error: the runbook id deploy (from its file name) is already the id of deploy.md"), "\(named.stdout)")
        // Each alone is fine.
        #expect(try check(["b/other.md"], in: dir).status == 0)
    }

    /// `\d` in ICU takes any script's decimal digits: `CHG\d{7}` accepts CHG١٢٣٤٥٦٧, which looks
    /// like no reference of the change system. `check` warns at the pattern, suggesting [0-9].
    @Test func aChangeRecordPatternWithBackslashDWarnsAtThePolicy() throws {
        let dir = try repository(policy: "change-record: {required: true, pattern: 'CHG\\d{7}'}\nmajor:\n  change-record:\n    pattern: 'MAJ[[:digit:]]+'\n")
        defer { try? FileManager.default.removeItem(at: dir) }
        let checked = try check(["deploy.md"], in: dir)
        #expect(checked.status == 0, "\(checked.stdout)\(checked.stderr)")
        #expect(checked.stdout.contains(".runsheet/policy.yaml:1:42: warning: the change record pattern 'CHG\\d{7}' matches digits with \\d, which also takes the digits of other scripts")
                && checked.stdout.contains("write [0-9] for the digits 0 to 9 [policy-file]"), "\(checked.stdout)")
        #expect(checked.stdout.contains(".runsheet/policy.yaml:4:14: warning: the change record pattern 'MAJ[[:digit:]]+' matches digits with [:digit:]"), "\(checked.stdout)")
        #expect(try Fixtures.runsheet(["check", "--strict", "deploy.md"], directory: dir).status == 1)
        // The run it warns about: Arabic-Indic digits pass the pattern as written.
        let run = try RepositoryRuns.runsheet(["run", "deploy.md", "--as", "alice", "--change", "CHG١٢٣٤٥٦٧"], in: dir, stdin: "done\n")
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        // [0-9], and a backslash before a d that is itself escaped, say what they mean: no warning.
        try "change-record: {required: true, pattern: 'CHG[0-9]{7}|X\\\\d'}\n".write(to: dir.appendingPathComponent(".runsheet/policy.yaml"), atomically: true, encoding: .utf8)
        let plain = try check(["deploy.md"], in: dir)
        #expect(plain.status == 0 && !plain.stdout.contains("warning"), "\(plain.stdout)")
    }
}
