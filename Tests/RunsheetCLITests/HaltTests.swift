import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// `runsheet halt`: an exception role stops every matching production step at once, through the
/// real binary in scripted and unattended runs; rollback steps still run; a halts file edited by
/// hand stops every production step; `status`, `readiness` and `metrics` see halts.
@Suite struct HaltTests {
    static let runbook = """
        ---
        service: checkout
        environment: production
        ---
        # Change

        ## Prepare

        - [ ] Prepare

        ## Switch

        * On failure: [Rollback](#rollback)

        - [ ] Switch traffic
          - Production: yes

        ## Announce

        - [ ] Announce the release

        ## Rollback

        - [ ] Restore traffic
          - Production: yes
        """

    func repository(runbook: String = HaltTests.runbook) throws -> URL {
        let dir = try Fixtures.temporaryDirectory()
        let manager = FileManager.default
        try manager.createDirectory(at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try "ref: refs/heads/main\n".write(to: dir.appendingPathComponent(".git/HEAD"), atomically: true, encoding: .utf8)
        try manager.createDirectory(at: dir.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        try "roles:\n  release-manager: [rita]\n  operator: [olly]\n"
            .write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        try runbook.write(to: dir.appendingPathComponent("change.md"), atomically: true, encoding: .utf8)
        return dir
    }

    func runsheet(_ arguments: [String], in dir: URL, stdin: String? = nil) throws -> ProcessResult {
        try Fixtures.runsheet(arguments, stdin: stdin, directory: dir)
    }

    func run(_ arguments: [String], in dir: URL, stdin: String? = nil) throws -> ProcessResult {
        try runsheet(arguments + ["--runs-dir", dir.appendingPathComponent("runs").path], in: dir, stdin: stdin)
    }

    func haltsFile(_ dir: URL) -> String { dir.appendingPathComponent(".runsheet/halts.jsonl").path }

    func events(_ dir: URL) throws -> [RunEvent] {
        let id = try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))
        return try JournalFile.read(at: dir.appendingPathComponent("runs/\(id)/journal.jsonl").path).events
    }

    @Test func badInputIsOneSentenceAndWritesNothing() throws {
        let dir = try repository()
        let cases: [([String], Int32, String)] = [
            (["halt", "--as", "rita"], 2, "needs --reason"),
            (["halt", "--as", "rita", "--reason", "   "], 2, "needs --reason"),
            (["halt", "--as", "olly", "--reason", "outage"], 1, "olly holds none of release-manager"),
            (["halt", "--as", "rita", "--reason", "outage", "--until", "2020-01-01T00:00:00Z"], 2, "is in the past"),
            (["halt", "--as", "rita", "--reason", "outage", "--until", "soon"], 2, "is not a date"),
            (["halt", "--as", "rita", "--lift"], 1, "nothing to lift"),
        ]
        for (arguments, status, text) in cases {
            let result = try runsheet(arguments, in: dir)
            #expect(result.status == status, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains(text), "\(arguments): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "one sentence: \(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: haltsFile(dir)), "\(arguments) wrote the halts file")
        }
    }

    /// A name in another letter case is the same person: RITA halts as rita; OLLY may not lift.
    @Test func letterCaseOfTheHaltersName() throws {
        let dir = try repository()
        let halted = try runsheet(["halt", "--as", "RITA", "--reason", "INC-2041 checkout errors"], in: dir)
        #expect(halted.status == 0, "\(halted.stderr)")
        #expect(halted.stdout.contains("halted by RITA since"), "\(halted.stdout)")
        let line = try String(contentsOfFile: haltsFile(dir), encoding: .utf8)
        #expect(line.contains(#""canonical":"rita""#) && line.contains(#""type":"halt.declared""#), "\(line)")
        let lift = try runsheet(["halt", "--lift", "--as", "OLLY"], in: dir)
        #expect(lift.status == 1 && lift.stderr.contains("OLLY holds none of release-manager"), "\(lift.stderr)")
        let status = try run(["status"], in: dir)
        #expect(status.stdout.contains("halt 1: production halted by RITA since") && status.stdout.contains("INC-2041 checkout errors"), "\(status.stdout)")
        let lifted = try runsheet(["halt", "--lift", "--as", "Rita", "--reason", "fixed"], in: dir)
        #expect(lifted.status == 0 && lifted.stdout.contains("lifted halt 1"), "\(lifted.stderr)")
        #expect(!(try run(["status"], in: dir)).stdout.contains("halt 1:"))
    }

    /// No key, goto, skip-then-back or forced done starts a halted production step; the screen
    /// says who halted, why and since when, and the journal records the block on the step.
    @Test func aHaltStopsTheProductionStepOnEveryPath() throws {
        let dir = try repository()
        #expect(try runsheet(["halt", "--as", "rita", "--reason", "INC-2041 checkout errors"], in: dir).status == 0)
        let script = "done\ndone\ndone forced past it\nskip not now\nback\ndone\ngoto switch-traffic\ndone\n"
        let result = try run(["run", "change.md", "--as", "olly"], in: dir, stdin: script)
        #expect(result.status == 3, "\(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("⛔ HALTED: production is halted by rita since"), "\(result.stdout)")
        #expect(result.stdout.contains("INC-2041 checkout errors") && result.stdout.contains("never blocks rollback steps"), "\(result.stdout)")
        #expect(result.stdout.contains("✗ step 'switch-traffic' is a production change and production is halted by rita"), "\(result.stdout)")
        let events = try events(dir)
        #expect(!events.contains { $0.type == .stepCompleted && $0.step == "switch-traffic" }, "the halted step was never done")
        #expect(!events.contains { $0.type == .stepForced && $0.step == "switch-traffic" })
        let notes = events.filter { $0.type == .note && $0.step == "switch-traffic" }.compactMap { $0.data["text"]?.string }
        #expect(notes.contains { $0.hasPrefix("blocked: production is halted by rita") }, "\(notes)")
        // Lifted: the same run goes on.
        #expect(try runsheet(["halt", "--lift", "--as", "rita"], in: dir).status == 0)
        let id = try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))
        let resumed = try run(["resume", id, "--as", "olly"], in: dir, stdin: "done\ndone\n")
        #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
    }

    /// A halt scoped to another service leaves the run alone; one for its service in another
    /// letter case stops it.
    @Test func aScopedHaltMatchesItsServiceOnly() throws {
        let dir = try repository()
        #expect(try runsheet(["halt", "--as", "rita", "--reason", "payments outage", "--service", "payments"], in: dir).status == 0)
        let other = try run(["run", "change.md", "--as", "olly"], in: dir, stdin: "done\ndone\ndone\n")
        #expect(other.status == 0 && !other.stdout.contains("HALTED"), "\(other.stdout)")
        #expect(try runsheet(["halt", "--as", "rita", "--reason", "checkout outage", "--service", "CHECKOUT", "--environment", "Production"], in: dir).status == 0)
        let runs = dir.appendingPathComponent("runs2").path
        let halted = try runsheet(["run", "change.md", "--as", "olly", "--runs-dir", runs], in: dir, stdin: "done\ndone\n")
        #expect(halted.status == 3 && halted.stdout.contains("checkout outage") && !halted.stdout.contains("payments outage"), "\(halted.stdout)")
        // Lifting with a scope lifts only the halt declared with exactly it.
        let lift = try runsheet(["halt", "--lift", "--as", "rita", "--service", "payments"], in: dir)
        #expect(lift.status == 0 && lift.stdout.contains("payments outage") && !lift.stdout.contains("checkout outage"), "\(lift.stdout)")
    }

    /// A halt never blocks a rollback step: the run fails into its Rollback section and carries it out.
    @Test func aRollbackStepStillRuns() throws {
        let dir = try repository()
        #expect(try runsheet(["halt", "--as", "rita", "--reason", "INC-2041"], in: dir).status == 0)
        let result = try run(["run", "change.md", "--as", "olly"], in: dir, stdin: "done\nfail the switch broke\ndone\n")
        #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
        let events = try events(dir)
        #expect(events.contains { $0.type == .stepCompleted && $0.step == "restore-traffic" }, "\(result.stdout)")
        #expect(events.last?.data["outcome"]?.string == "rolled-back", "\(result.stdout)")
    }

    /// --auto stops before a halted production step, saying why, and records it.
    @Test func autoStopsAtAHaltedStep() throws {
        let runbook = HaltTests.runbook.replacingOccurrences(of: "- [ ] Switch traffic\n  - Production: yes\n",
                                                           with: "- [ ] Switch traffic\n  - Production: yes\n\n  ```bash run\n  echo switched > switched.txt\n  ```\n")
            .replacingOccurrences(of: "- [ ] Prepare\n", with: "- [ ] Prepare\n\n  ```bash run\n  true\n  ```\n")
        let dir = try repository(runbook: runbook)
        #expect(try runsheet(["halt", "--as", "rita", "--reason", "INC-2041"], in: dir).status == 0)
        let result = try run(["run", "change.md", "--as", "olly", "--auto"], in: dir, stdin: "done\n")
        #expect(result.stdout.contains("production step 'switch-traffic' is not started: production is halted by rita"), "\(result.stdout)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("switched.txt").path))
    }

    /// A halts file edited by hand (one word of a lifted halt's reason) no longer verifies: every
    /// production step is blocked with a sentence, status says so, and halt refuses to append.
    @Test func aHandEditedHaltsFileFailsClosed() throws {
        let dir = try repository()
        #expect(try runsheet(["halt", "--as", "rita", "--reason", "INC-2041"], in: dir).status == 0)
        #expect(try runsheet(["halt", "--lift", "--as", "rita"], in: dir).status == 0)
        let text = try String(contentsOfFile: haltsFile(dir), encoding: .utf8)
        try text.replacingOccurrences(of: "INC-2041", with: "INC-2042").write(toFile: haltsFile(dir), atomically: false, encoding: .utf8)
        let result = try run(["run", "change.md", "--as", "olly"], in: dir, stdin: "done\ndone\n")
        #expect(result.status == 3, "\(result.stdout)")
        #expect(result.stdout.contains("production steps are blocked because") && result.stdout.contains("halts.jsonl:1 does not verify"), "\(result.stdout)")
        #expect(try run(["status"], in: dir).stdout.contains("every production step is blocked"))
        let again = try runsheet(["halt", "--as", "rita", "--reason", "more"], in: dir)
        #expect(again.status == 1 && again.stderr.contains("does not verify"), "\(again.stderr)")
        #expect(try String(contentsOfFile: haltsFile(dir), encoding: .utf8).split(separator: "\n").count == 2)
    }

    /// A halt that ends by itself (`--until`) stops blocking then; metrics count the time halted.
    @Test func metricsReportTheTimeProductionWasHalted() throws {
        let dir = try repository()
        #expect(try runsheet(["halt", "--as", "rita", "--reason", "INC-2041"], in: dir).status == 0)
        Thread.sleep(forTimeInterval: 1.2)
        #expect(try runsheet(["halt", "--lift", "--as", "rita"], in: dir).status == 0)
        let metrics = try run(["metrics"], in: dir)
        #expect(metrics.stderr.contains("production halted: 1s in this window (1 halt)"), "\(metrics.stderr)")
        // The figure is part of the metrics themselves, in every format, not only on standard error.
        #expect(metrics.stdout.contains("Production halted: ") && metrics.stdout.contains(" in this window (1 halt; overlapping halts count once)."), "\(metrics.stdout)")
        let html = try run(["metrics", "--format", "html"], in: dir)
        #expect(html.stdout.contains("<p class=\"halted\">Production halted: ") && html.stdout.contains("(1 halt; "), "\(html.stdout)")
        let json = try run(["metrics", "--format", "json"], in: dir)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let halted = try #require(object["halted"] as? [String: Any], "\(json.stdout)")
        #expect(halted["halts"] as? Int == 1 && (halted["seconds"] as? Int ?? 0) >= 1, "\(halted)")
        let csv = try run(["metrics", "--format", "csv"], in: dir)
        #expect(csv.stdout.split(separator: "\n").contains { $0.hasPrefix(",,production halted,seconds,1,") }, "\(csv.stdout)")
    }

    /// A repository that never halted: the metrics say nothing about halts, in any format.
    @Test func metricsOfARepositoryThatNeverHaltedSayNothingOfHalts() throws {
        let dir = try repository()
        let json = try run(["metrics", "--format", "json"], in: dir)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["halted"] == nil)
        #expect(!(try run(["metrics"], in: dir)).stdout.contains("Production halted"))
    }

    /// A stricter class chosen with --class, or a calendar exception, does not get past a halt.
    @Test func neitherAClassNorACalendarExceptionGetsPastAHalt() throws {
        let dir = try repository()
        #expect(try runsheet(["halt", "--as", "rita", "--reason", "INC-2041"], in: dir).status == 0)
        let result = try run(["run", "change.md", "--as", "olly", "--class", "major"], in: dir, stdin: "done\ndone\n")
        #expect(result.status == 3 && result.stdout.contains("✗ step 'switch-traffic' is a production change and production is halted"), "\(result.stdout)\(result.stderr)")
        let id = try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))
        _ = try run(["sign", id, "switch-traffic", "--exception", "--reason", "let it through", "--as", "rita"], in: dir)
        let resumed = try run(["resume", id, "--as", "olly"], in: dir, stdin: "done\n")
        #expect(resumed.status == 3 && resumed.stdout.contains("production is halted by rita"), "\(resumed.stdout)\(resumed.stderr)")
        #expect(!(try events(dir)).contains { $0.type == .stepCompleted && $0.step == "switch-traffic" })
    }

    /// A halts file that is a FIFO is not read (no hang) and blocks production steps.
    @Test func aHaltsFileThatIsNotARegularFileFailsClosed() throws {
        let dir = try repository()
        #expect(mkfifo(haltsFile(dir), 0o644) == 0)
        let result = try run(["run", "change.md", "--as", "olly"], in: dir, stdin: "done\ndone\n")
        #expect(result.status == 3 && result.stdout.contains("halts.jsonl does not verify: it is not a regular file"), "\(result.stdout)")
    }

    /// A lift counts only while its author holds an exception role in the roles file as it is
    /// now: taken away, the halt is in force again (as waivers and calendar exceptions are judged).
    @Test func aLiftBySomeoneNoLongerInTheRoleDoesNotCount() throws {
        let dir = try repository()
        #expect(try runsheet(["halt", "--as", "rita", "--reason", "INC-2041"], in: dir).status == 0)
        #expect(try runsheet(["halt", "--lift", "--as", "rita"], in: dir).status == 0)
        #expect(!(try run(["status"], in: dir)).stdout.contains("halt 1:"))
        try "roles:\n  release-manager: [rachel]\n  operator: [olly, rita]\n"
            .write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        #expect(try run(["status"], in: dir).stdout.contains("halt 1: production halted by rita"))
    }
}
