import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Small gaps the adversary found around halts: impossible dates taken for the next valid one,
/// `metrics` without `--runbooks`, a store's halt cited as a line of a file it is not in.
@Suite(.serialized) struct HaltGapsTests {
    /// Every impossible date or time is refused with one sentence (exit 2), not rolled over.
    @Test func impossibleDatesAndTimesAreRefused() throws {
        let dir = try HaltTests().repository()
        let cases = ["2099-02-30", "2099-02-29", "2099-13-01", "2099-04-31T10:00:00Z", "2099-12-04T24:30:00Z", "2099-12-04T10:61:00Z", "2099-12-04 10:00:60"]
        for until in cases {
            let result = try Fixtures.runsheet(["halt", "--as", "rita", "--reason", "outage", "--until", until], directory: dir)
            #expect(result.status == 2 && result.stderr.contains("is not a date that exists"), "\(until): \(result.status) \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "one sentence: \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent(".runsheet/halts.jsonl").path))
        let metrics = try Fixtures.runsheet(["metrics", "--since", "2026-02-30", "--runs-dir", "runs"], directory: dir)
        #expect(metrics.status == 2 && metrics.stderr.contains("2026-02 has no day 30"), "\(metrics.stderr)")
        // A possible one still works: the last day of February in a leap year.
        let leap = try Fixtures.runsheet(["halt", "--as", "rita", "--reason", "outage", "--until", "2096-02-29"], directory: dir)
        #expect(leap.status == 0, "\(leap.stderr)")
    }

    /// `metrics --runbooks DIR` counts the halts of DIR's .runsheet/, as `status` and `halt` find them.
    @Test func metricsFindsTheHaltsLikeStatusAndHalt() throws {
        let dir = try HaltTests().repository()
        let manager = FileManager.default
        try manager.createDirectory(at: dir.appendingPathComponent("runbooks"), withIntermediateDirectories: true)
        try manager.moveItem(at: dir.appendingPathComponent(".runsheet"), to: dir.appendingPathComponent("runbooks/.runsheet"))
        #expect(try Fixtures.runsheet(["halt", "--runbooks", "runbooks", "--as", "rita", "--reason", "INC-1"], directory: dir).status == 0)
        Thread.sleep(forTimeInterval: 1.1)
        #expect(try Fixtures.runsheet(["halt", "--runbooks", "runbooks", "--lift", "--as", "rita"], directory: dir).status == 0)
        let metrics = try Fixtures.runsheet(["metrics", "--runbooks", "runbooks", "--runs-dir", "runs"], directory: dir)
        #expect(metrics.status == 0 && metrics.stderr.contains("production halted: 1s in this window (1 halt)"), "\(metrics.status) \(metrics.stderr)")
    }

    /// Readiness cites a halt of the store by the store's halts log and record, the URL without a password.
    @Test func readinessCitesAStoreHaltByTheStore() throws {
        let s = try StoreRunTests().setup()
        try "---\nrelease: rel-1\ntitle: Checkout release\nowner: alice@example.com\n---\n# Checkout release\n\n## Requires\n\n- [Change](change.md)\n"
            .write(to: s.a.dir.appendingPathComponent("release.md"), atomically: true, encoding: .utf8)
        let run = try s.a.runsheet(["run", "change.md", "--as", "alice@example.com"], stdin: "done\ndone\ndone\n")
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let halted = try Fixtures.runsheet(["halt", "--reason", "INC-3", "--as", "carol@example.com", "--store", s.c.url], environment: s.c.environment, directory: s.a.dir)
        #expect(halted.status == 0, "\(halted.stderr)")
        let ready = try s.a.runsheet(["readiness", "release.md", "--format", "json"])
        #expect(ready.status == 1, "\(ready.stdout)\(ready.stderr)")
        let report = try JSONDecoder().decode(ReadinessReport.self, from: Data(ready.stdout.utf8))
        let blocker = try #require(report.blockers.first { $0.item == "halt 1" }, "\(report.blockers)")
        #expect(blocker.location.hasPrefix("the halts log of the store postgresql://") && blocker.location.hasSuffix("record 1"), "\(blocker.location)")
        #expect(!blocker.location.contains(".runsheet/halts.jsonl"))
    }

    /// Someone without an exception role lifting from a clone of the repository while a halt is
    /// in force on the store (named by the repository's config) is refused for the role, reading
    /// the store's halts, never told there is nothing to lift.
    @Test func aLiftWithoutTheRoleFromACloneIsRefusedForTheRole() throws {
        let s = try StoreRunTests().setup()
        try "store: \(s.a.url)\n".write(to: s.a.dir.appendingPathComponent(".runsheet/config.yaml"), atomically: true, encoding: .utf8)
        for arguments in [["add", "-A"], ["-c", "user.name=Alice", "-c", "user.email=alice@example.com", "commit", "-qm", "the team's store"]] {
            #expect(try Fixtures.run("/usr/bin/git", ["-C", s.a.dir.path] + arguments).status == 0)
        }
        let halted = try Fixtures.runsheet(["halt", "--reason", "INC-4", "--as", "carol@example.com", "--store", s.c.url], environment: s.c.environment, directory: s.a.dir)
        #expect(halted.status == 0, "\(halted.stderr)")
        let clone = s.b.dir.appendingPathComponent("checkout")
        #expect(try Fixtures.run("/usr/bin/git", ["clone", "-q", s.a.dir.path, clone.path]).status == 0)
        let variants: [(String, [String], [String: String])] = [
            ("config", [], s.b.environment),
            ("flag", ["--store", s.b.url], s.b.environment),
            ("variable", [], s.b.environment.merging(["RUNSHEET_STORE": s.b.url]) { _, new in new }),
        ]
        for (name, extra, environment) in variants {
            let lift = try Fixtures.runsheet(["halt", "--lift", "--as", "bob@example.com"] + extra, environment: environment, directory: clone)
            #expect(lift.status == 1 && lift.stderr.contains("bob@example.com holds none of release-manager") && !lift.stderr.contains("no halt"),
                    "\(name): \(lift.status) \(lift.stderr)")
        }
        #expect(try s.sql("SELECT count(*) FROM runsheet.governance WHERE log = 'halts'") == "1")
    }
}
