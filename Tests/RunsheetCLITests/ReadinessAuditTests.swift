import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Issue 12, item 10: readiness an auditor can file. `--at` rewinds every journal to what had
/// happened by then; a journal that does not verify blocks instead of giving way to an older run;
/// the report names approvers, journal heads, each run's class against the release's, forced steps,
/// waivers and the runsheet that decided, the same in md, html and json, byte for byte the same
/// for the same --at. Each test drives the real binary.
@Suite struct ReadinessAuditTests {
    /// Two gates, a smoke test whose command fails (the run goes on past it), a production step.
    static let audited = """
        ---
        id: deploy
        roles: [sre]
        ---
        # Deploy

        - [ ] Announce the deploy
        - [ ] Approve
          - Sign-off: sre
        - [ ] Smoke test
          ```sh run
          exit 3
          ```
          - On failure: continue
        - [ ] Approve the switch
          - Sign-off: sre
        - [ ] Switch traffic
          - Production: yes

        """

    func runsheet(_ arguments: [String], in dir: URL, stdin: String? = nil) throws -> ProcessResult {
        try Fixtures.runsheet(arguments + ["--runs-dir", "runs"], stdin: stdin, environment: ["NO_COLOR": "1"], directory: dir)
    }

    func readiness(_ dir: URL, format: String = "json", at: String? = nil) throws -> ProcessResult {
        try runsheet(["readiness", "release.md", "--format", format] + (at.map { ["--at", $0] } ?? []), in: dir)
    }

    func decode(_ result: ProcessResult) throws -> ReadinessReport {
        try JSONDecoder().decode(ReadinessReport.self, from: Data(result.stdout.utf8))
    }

    func runs(_ dir: URL, _ prefix: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("runs").path)) ?? []).filter { $0.hasPrefix(prefix + "-2") }.sorted()
    }

    func journal(_ dir: URL, _ run: String) -> URL { dir.appendingPathComponent("runs/\(run)/journal.jsonl") }

    /// The journal's events as (type, time, hash), in order.
    func events(_ dir: URL, _ run: String) throws -> [(type: String, time: String, hash: String)] {
        try String(contentsOf: journal(dir, run), encoding: .utf8).split(separator: "\n").map { line in
            let event = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return (event["type"] as? String ?? "", event["time"] as? String ?? "", event["hash"] as? String ?? "")
        }
    }

    /// A rehearsed rollback and a deploy run of the simple runbook, signed by bob and completed; its id.
    func completedDeploy(_ dir: URL, rollback: Bool = true, options: [String] = []) throws -> String {
        let before = Set(runs(dir, "deploy"))
        if rollback { #expect(try runsheet(["run", "runbooks/rollback.md", "--as", "alice"], in: dir, stdin: "done\n").status == 0) }
        #expect(try runsheet(["run", "runbooks/deploy.md", "--as", "alice"] + options, in: dir, stdin: "done\n").status == 3)
        let id = try #require(runs(dir, "deploy").first { !before.contains($0) })
        #expect(try runsheet(["sign", id, "approve", "--as", "bob"], in: dir).status == 0)
        let resumed = try runsheet(["resume", id, "--as", "alice"], in: dir, stdin: "done\ndone\ndone\n")
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        return id
    }

    // MARK: - --at

    @Test func atCountsOnlyWhatHadHappenedByThen() throws {
        let dir = try ReadinessCommandTests.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try completedDeploy(dir)
        let trail = try events(dir, id)
        let signed = try #require(trail.firstIndex { $0.type == "signoff.signed" })
        let beforeSigning = trail[signed - 1], signing = trail[signed]
        let ended = try #require(trail.last { $0.type == "run.ended" })
        #expect(beforeSigning.time < signing.time, "the sign command ran in a process of its own, later")

        // Before bob signed: the run is in progress at the gate, and bob is no approver yet.
        var result = try readiness(dir, at: beforeSigning.time)
        #expect(result.status == 1, "\(result.stdout)")
        var report = try decode(result)
        var deploy = try #require(report.items.first { $0.title == "Deploy" })
        #expect(deploy.run == id && deploy.outcome == "in progress" && deploy.endedAt == nil)
        #expect(deploy.approvers.isEmpty, "a signature after --at does not count: \(deploy.approvers)")
        #expect(deploy.eventCount == signed && deploy.headHash == beforeSigning.hash)
        #expect(report.blockers.contains { $0.text.hasPrefix("run \(id) is still in progress") && $0.text.contains("is at step approve") })
        #expect(report.rewound && report.asOf == beforeSigning.time)
        let markdown = try readiness(dir, format: "md", at: beforeSigning.time)
        #expect(markdown.status == 1 && markdown.stdout.contains("## Decision: ⛔ NO-GO") && markdown.stdout.contains("| in progress |"))
        #expect(markdown.stdout.contains("## Approvals\n\nNone."), "\(markdown.stdout)")

        // At the signature: bob counts, the run is still in progress.
        report = try decode(try readiness(dir, at: signing.time))
        deploy = try #require(report.items.first { $0.title == "Deploy" })
        #expect(deploy.outcome == "in progress" && deploy.approvers.map(\.by) == ["bob"])

        // At the end: GO, with the whole journal counted.
        result = try readiness(dir, at: ended.time)
        #expect(result.status == 0, "\(result.stdout)")
        report = try decode(result)
        deploy = try #require(report.items.first { $0.title == "Deploy" })
        #expect(report.decision == .go && deploy.outcome == "completed" && deploy.eventCount == trail.count && deploy.headHash == trail.last?.hash)

        // A run started later is not there at all as of then; now it is the newest, in progress.
        #expect(try runsheet(["run", "runbooks/deploy.md", "--as", "alice"], in: dir, stdin: "done\n").status == 3)
        #expect(try readiness(dir).status == 1)
        result = try readiness(dir, at: ended.time)
        #expect(try result.status == 0 && (try decode(result)).items.first { $0.title == "Deploy" }?.run == id, "\(result.stdout)")
    }

    // MARK: - Journals that do not verify

    @Test func anEditedNewestJournalBlocksInsteadOfGivingWayToAnOlderRun() throws {
        let dir = try ReadinessCommandTests.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let older = try completedDeploy(dir)
        let newest = try completedDeploy(dir, rollback: false)
        #expect(try readiness(dir).status == 0)

        // One byte of the signature's data changed, its hash left alone.
        let path = journal(dir, newest)
        let original = try String(contentsOf: path, encoding: .utf8)
        var lines = original.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let line = try #require(lines.firstIndex { $0.contains("\"type\":\"signoff.signed\"") })
        lines[line] = lines[line].replacingOccurrences(of: "\"role\":\"sre\"", with: "\"role\":\"srf\"")
        try lines.joined(separator: "\n").write(to: path, atomically: true, encoding: .utf8)

        var result = try readiness(dir)
        #expect(result.status == 1, "an older completed run exists, but the newest does not verify: \(result.stdout)")
        var report = try decode(result)
        let blocker = try #require(report.blockers.first { $0.run == newest })
        #expect(blocker.location == "runs/\(newest)/journal.jsonl:\(line + 1)")
        #expect(blocker.text.hasPrefix("run \(newest) cannot be trusted: its journal does not verify: runs/\(newest)/journal.jsonl:\(line + 1): its hash does not match its content"),
                "\(blocker.text)")
        #expect(blocker.text.contains("does not fall back to an older run"))
        #expect(report.items.first { $0.title == "Deploy" }?.status == "blocked")
        let markdown = try readiness(dir, format: "md")
        #expect(markdown.status == 1 && markdown.stdout.contains("`runs/\(newest)/journal.jsonl:\(line + 1)`"), "\(markdown.stdout)")

        // Its run.started edited so it names another runbook: the folder name still claims it.
        try original.replacingOccurrences(of: "\"runbookId\":\"deploy\"", with: "\"runbookId\":\"deplox\"").write(to: path, atomically: true, encoding: .utf8)
        report = try decode(try readiness(dir))
        #expect(report.blockers.contains { $0.run == newest && $0.location == "runs/\(newest)/journal.jsonl:1" }, "\(report.blockers)")

        // An older run that does not verify blocks too: its start time is part of what may have been edited.
        try original.write(to: path, atomically: true, encoding: .utf8)
        #expect(try readiness(dir).status == 0)
        let olderPath = journal(dir, older)
        let olderText = try String(contentsOf: olderPath, encoding: .utf8)
        try olderText.replacingOccurrences(of: "\"role\":\"sre\"", with: "\"role\":\"srf\"").write(to: olderPath, atomically: true, encoding: .utf8)
        result = try readiness(dir)
        #expect(try result.status == 1 && (try decode(result)).blockers.contains { $0.run == older && $0.location.hasPrefix("runs/\(older)/journal.jsonl:") })
        try olderText.write(to: olderPath, atomically: true, encoding: .utf8)
        #expect(try readiness(dir).status == 0)
    }

    @Test func unreadableJournalsBlockTheRunbookTheirFolderNames() throws {
        let dir = try ReadinessCommandTests.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        _ = try completedDeploy(dir)
        let newest = try completedDeploy(dir, rollback: false)
        let path = journal(dir, newest)
        let original = try Data(contentsOf: path)

        // Garbage: not even the first line is an event, so the folder name says whose run it is.
        try Data("this is not a journal\n".utf8).write(to: path)
        var result = try readiness(dir)
        #expect(result.status == 1, "\(result.stdout)")
        var report = try decode(result)
        #expect(report.blockers.contains { $0.run == newest && $0.location == "runs/\(newest)/journal.jsonl:1" && $0.text.contains("not a journal event") },
                "\(report.blockers)")

        // A directory where the journal should be.
        try FileManager.default.removeItem(at: path)
        try FileManager.default.createDirectory(at: path, withIntermediateDirectories: false)
        result = try readiness(dir)
        #expect(result.status == 1)
        report = try decode(result)
        #expect(report.blockers.contains { $0.run == newest && $0.text.contains("its journal cannot be read: runs/\(newest)/journal.jsonl: not a regular file (a directory)") },
                "\(report.blockers)")

        // No journal at all in a folder named like one of its runs.
        try FileManager.default.removeItem(at: path)
        report = try decode(try readiness(dir))
        #expect(report.blockers.contains { $0.run == newest && $0.text.contains("there is no journal.jsonl") }, "\(report.blockers)")

        // Put back, the release is GO; a broken run of deploy-api is not deploy's.
        try original.write(to: path)
        let other = dir.appendingPathComponent("runs/deploy-api-20991231-235959-beef")
        try FileManager.default.createDirectory(at: other, withIntermediateDirectories: true)
        try Data("garbage\n".utf8).write(to: other.appendingPathComponent("journal.jsonl"))
        result = try readiness(dir)
        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.stderr.contains("run deploy-api-20991231-235959-beef is left out: runs/deploy-api-20991231-235959-beef/journal.jsonl:1: not a journal event"),
                "\(result.stderr)")
        try FileManager.default.moveItem(at: other, to: dir.appendingPathComponent("runs/deploy-20991231-235959-beef"))
        result = try readiness(dir)
        #expect(try result.status == 1 && (try decode(result)).blockers.contains { $0.run == "deploy-20991231-235959-beef" })
    }

    // MARK: - What the report names

    /// The audited runbook run to its end: bob signs the first gate, the smoke test fails and is
    /// forced done, carol (release-manager, who did not drive the run) waives the second gate.
    func auditedRun(_ dir: URL) throws -> String {
        try Self.audited.write(to: dir.appendingPathComponent("runbooks/deploy.md"), atomically: true, encoding: .utf8)
        #expect(try runsheet(["run", "runbooks/rollback.md", "--as", "alice"], in: dir, stdin: "done\n").status == 0)
        #expect(try runsheet(["run", "runbooks/deploy.md", "--as", "alice"], in: dir, stdin: "done\n").status == 3)
        let id = try #require(runs(dir, "deploy").first)
        #expect(try runsheet(["sign", id, "approve", "--as", "bob"], in: dir).status == 0)
        let forced = try runsheet(["resume", id, "--as", "alice"], in: dir, stdin: "done\nrun\nback\ndone the smoke test is flaky\nquit\n")
        #expect(forced.stdout.contains("command exited 3"), "\(forced.stdout)")
        let waived = try runsheet(["sign", id, "approve-the-switch", "--waive", "--reason", "CAB by phone <b>CHG-1182</b>", "--as", "carol"], in: dir)
        #expect(waived.status == 0, "\(waived.stderr)")
        #expect(try runsheet(["resume", id, "--as", "alice"], in: dir, stdin: "done\ndone\n").status == 0)
        return id
    }

    @Test func theReportNamesApproversHeadsClassesOverridesAndTheVersion() throws {
        let dir = try ReadinessCommandTests.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try auditedRun(dir)
        let verified = try runsheet(["verify", id], in: dir)
        let head = try #require(verified.stdout.split(separator: "\n").first?.split(separator: " ").last.map(String.init), "\(verified.stdout)")
        #expect(head.count == 64 && verified.stdout.contains("intact"), "\(verified.stdout)")
        let version = try Fixtures.runsheet(["--version"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!version.isEmpty)

        let json = try readiness(dir)
        #expect(json.status == 4, "forced and waived are exceptions: \(json.stdout)")
        let report = try decode(json)
        #expect(report.runsheetVersion == version)
        let deploy = try #require(report.items.first { $0.title == "Deploy" })
        #expect(deploy.headHash == head && deploy.runClass == "normal" && deploy.classCheck == "meets")
        #expect(deploy.approvers.map { "\($0.gate) \($0.by) \($0.role) \($0.waived)" } == ["approve bob sre false", "approve-the-switch carol release-manager true"])
        let forcedText = "step smoke-test was forced done although its command did not pass (overrode exit 3): the smoke test is flaky"
        let waivedText = "gate approve-the-switch was waived without its sign-offs: CAB by phone <b>CHG-1182</b>; it still needed 1 more of sre"
        #expect(report.exceptions.map(\.text) == [forcedText, waivedText])
        #expect(report.exceptions.map { "\($0.by ?? "") \($0.role ?? "")" } == ["alice ", "carol release-manager"])

        let markdown = try readiness(dir, format: "md")
        let html = try readiness(dir, format: "html")
        #expect(markdown.status == 4 && html.status == 4)
        for (format, text) in [("md", markdown.stdout), ("html", html.stdout)] {
            #expect(text.contains("runsheet \(version)"), "\(format)")
            #expect(text.contains(head), "\(format): the head hash")
            #expect(text.contains(forcedText), "\(format): \(text)")
            #expect(text.contains("it still needed 1 more of sre") && text.contains("(by carol as release-manager)"), "\(format)")
            #expect(text.contains("(by alice)"), "\(format): who forced the step")
            #expect(!text.contains("<b>CHG-1182</b>") && text.contains("&lt;b&gt;CHG-1182&lt;/b&gt;"), "\(format): a reason is text, never markup")
            #expect(!text.contains("nothing was waived") && !text.contains("No gate was waived"), "\(format)")
            #expect(text.contains("WAIVED"), "\(format)")
        }
        #expect(markdown.stdout.contains("| Deploy | `\(id)` | `approve` | bob | sre | signed |"), "\(markdown.stdout)")
        #expect(markdown.stdout.contains("| Deploy | `\(id)` | `approve-the-switch` | carol | release-manager | **WAIVED** |"), "\(markdown.stdout)")
        #expect(markdown.stdout.contains("| ! | [Deploy](runbooks/deploy.md) | required | `\(id)` | normal | completed |"), "\(markdown.stdout)")
        #expect(html.stdout.contains("<td><code>approve</code></td><td>bob</td><td>sre</td><td>signed</td>"), "\(html.stdout)")

        // A major release: the normal run is below its class.
        try ReadinessCommandTests.release().replacingOccurrences(of: "class: normal", with: "class: major")
            .write(to: dir.appendingPathComponent("release.md"), atomically: true, encoding: .utf8)
        let major = try readiness(dir)
        #expect(major.status == 1)
        #expect(try decode(major).blockers.contains {
            $0.text.hasPrefix("run \(id) ran as a normal change, below the release's class major") && $0.by == "alice"
        })
        for format in ["md", "html"] {
            let text = try readiness(dir, format: format).stdout
            #expect(text.contains("normal (below major)") && text.contains("ran as a normal change, below the release"), "\(format): \(text)")
        }
    }

    /// `run --class standard` to dodge a normal release's rules blocks; an emergency run is the
    /// break-glass path, an exception that names its follow-up review.
    @Test func aRunBelowTheReleaseClassBlocksAndAnEmergencyRunIsAnException() throws {
        let dir = try ReadinessCommandTests.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let standard = try completedDeploy(dir, options: ["--class", "standard"])
        var result = try readiness(dir)
        #expect(result.status == 1)
        var report = try decode(result)
        #expect(report.items.first { $0.title == "Deploy" }?.classCheck == "below")
        #expect(report.blockers.map(\.text) == [
            "run \(standard) ran as a standard change, below the release's class normal, so its gates and approvals were those of a standard change; "
                + "run it again with: runsheet run runbooks/deploy.md --class normal",
        ])

        let emergency = try completedDeploy(dir, rollback: false, options: ["--class", "emergency"])
        result = try readiness(dir)
        #expect(result.status == 4, "\(result.stdout)")
        report = try decode(result)
        #expect(report.items.first { $0.title == "Deploy" }?.classCheck == "break-glass")
        let exception = try #require(report.exceptions.first)
        #expect(report.exceptions.count == 1 && exception.by == "alice", "\(report.exceptions)")
        #expect(exception.text.hasPrefix("run \(emergency) ran as an emergency change (the break-glass path) for a normal release; its follow-up review is due by "))
        #expect(try runsheet(["sign", emergency, "--follow-up", "--comment", "reviewed in the CAB", "--as", "bob"], in: dir).status == 0)
        report = try decode(try readiness(dir))
        #expect(report.exceptions.first?.text.contains("its follow-up review was recorded by bob at ") == true, "\(report.exceptions)")
        let markdown = try readiness(dir, format: "md")
        #expect(markdown.status == 4 && markdown.stdout.contains("| emergency (break-glass) |"), "\(markdown.stdout)")
    }

    // MARK: - Same input, same bytes

    @Test func theSameAtGivesTheSameBytesInEveryFormat() throws {
        let dir = try ReadinessCommandTests.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try auditedRun(dir)
        let at = try #require(try events(dir, id).last?.time)
        for format in ["md", "html", "json"] {
            let first = try readiness(dir, format: format, at: at)
            Thread.sleep(forTimeInterval: 1.1)
            let second = try readiness(dir, format: format, at: at)
            #expect(first.status == 4 && first.stdout == second.stdout, "\(format)")
            let shown = format == "json" ? "\"asOf\" : \"\(at)\"" : String(at.prefix(19)).replacingOccurrences(of: "T", with: " ") + " UTC (given"
            #expect(first.stdout.contains(shown), "\(format): as of the time given")
        }
    }
}
