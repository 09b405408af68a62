import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Issue 16: `.runsheet/config.yaml` sends run events to a command (JSON on standard input) or an
/// HTTP receiver (a signed POST), each within a bound; a delivery that fails is recorded as
/// `notify.failed`, shown, and never holds the run. Played through the real binary against a
/// Python receiver on 127.0.0.1 and against shell commands.
@Suite(.serialized, .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")))
struct NotificationTests {
    struct NotNotifyFailed: Error {}
    static let key = "k3y-for-the-hmac"
    static let secret = "hunter2-secret-value"

    /// An HTTP receiver: logs each POST (headers, body, and whether its HMAC verifies with `key`,
    /// checked with Python's own hmac) and answers 200, or never answers (`hang`).
    static let receiver = #"""
        import hashlib, hmac, http.server, json, os, sys, time
        mode, portfile, logfile, key = sys.argv[1:5]
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                expected = "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
                given = self.headers.get("X-Runsheet-Signature", "")
                entry = {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                         "body": body.decode(), "valid": hmac.compare_digest(expected, given)}
                with open(logfile, "a") as log:
                    log.write(json.dumps(entry) + "\n")
                if mode == "hang":
                    time.sleep(3600)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
            def log_message(self, *args):
                pass
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        with open(portfile + ".tmp", "w") as f:
            f.write(str(server.server_address[1]))
        os.rename(portfile + ".tmp", portfile)
        server.serve_forever()
        """#

    /// A running receiver; `stop()` ends it.
    final class Receiver {
        let process = Process()
        let port: Int
        let log: URL

        init(mode: String, in dir: URL) throws {
            let script = dir.appendingPathComponent("receiver.py"), portFile = dir.appendingPathComponent("receiver.port")
            log = dir.appendingPathComponent("received.jsonl")
            try NotificationTests.receiver.write(to: script, atomically: true, encoding: .utf8)
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = [script.path, mode, portFile.path, log.path, NotificationTests.key]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let deadline = Date().addingTimeInterval(20)
            while !FileManager.default.fileExists(atPath: portFile.path), Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            port = Int((try? String(contentsOf: portFile, encoding: .utf8)) ?? "") ?? 0
        }

        /// SIGKILL: a child of the test process may start with SIGTERM blocked, and a hanging handler sleeps.
        func stop() {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }

        /// Each request logged, as its JSON object.
        func requests() throws -> [[String: Any]] {
            guard let text = try? String(contentsOf: log, encoding: .utf8) else { return [] }
            return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }
    }

    /// A repository with roles, a calendar frozen now, `config` as its config file, and two
    /// runbooks: `change.md` (a gate whose failure rolls back) and `frozen.md` (a production step).
    func repository(config: String) throws -> URL {
        let dir = try Fixtures.temporaryDirectory()
        let manager = FileManager.default
        try manager.createDirectory(at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try "ref: refs/heads/main\n".write(to: dir.appendingPathComponent(".git/HEAD"), atomically: true, encoding: .utf8)
        try manager.createDirectory(at: dir.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        try "roles:\n  sre: [sue]\n  operator: [olly]\n  release-manager: [rita]\n"
            .write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        try "freezes:\n  - {name: always, from: 2000-01-01, to: 2999-12-31}\n"
            .write(to: dir.appendingPathComponent(".runsheet/calendar.yaml"), atomically: true, encoding: .utf8)
        try config.write(to: dir.appendingPathComponent(".runsheet/config.yaml"), atomically: true, encoding: .utf8)
        try """
            ---
            id: change
            roles: [sre]
            params:
              token:
                secret: true
            ---
            # Change

            ## Approve

            * On failure: [Rollback](#rollback)

            - [ ] Approve the change
              - Sign-off: sre
            - [ ] Switch traffic with {{token}}

            ## Rollback

            - [ ] Restore the old version
            """.write(to: dir.appendingPathComponent("change.md"), atomically: true, encoding: .utf8)
        try """
            ---
            id: frozen
            ---
            # Frozen change

            - [ ] Switch traffic
              - Production: yes
            """.write(to: dir.appendingPathComponent("frozen.md"), atomically: true, encoding: .utf8)
        try "---\nid: plain\n---\n# Plain\n\n- [ ] Do it\n".write(to: dir.appendingPathComponent("plain.md"), atomically: true, encoding: .utf8)
        return dir
    }

    func runsheet(_ arguments: [String], in dir: URL, stdin: String? = nil) throws -> ProcessResult {
        try Fixtures.runsheet(arguments + ["--runs-dir", "runs"], stdin: stdin,
                              environment: ["NO_COLOR": "1", "HOOK_KEY": Self.key], directory: dir)
    }

    func runIDs(_ dir: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("runs").path)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
    }

    func events(_ dir: URL, run id: String) throws -> [RunEvent] {
        let events = try JournalFile.read(at: dir.appendingPathComponent("runs/\(id)/journal.jsonl").path).events
        try PayloadReading.expectAlike(events)
        return events
    }

    @Test func eachKindReachesAnHTTPReceiverAndACommandSignedAndMasked() throws {
        let scratch = try Fixtures.temporaryDirectory()
        let receiver = try Receiver(mode: "ok", in: scratch)
        defer { receiver.stop() }
        try #require(receiver.port > 0)
        let all = "[gate.waiting, step.failed, rollback.started, run.ended, calendar.blocked]"
        let dir = try repository(config: """
            notify:
              - name: hook
                events: \(all)
                url: http://127.0.0.1:\(receiver.port)/hook?token=not-shown
                secret-env: HOOK_KEY
                timeout: 5s
              - events: \(all)
                command: mkdir -p notified && cat > "notified/$$.json"
            store: folder
            """)
        let change = try runsheet(["run", "change.md", "--as", "olly", "--param", "token=\(Self.secret)"], in: dir,
                                  stdin: "fail not approved by \(Self.secret)\ndone\n")
        #expect(change.status == 1 && change.stdout.contains("rolled-back"), "\(change.stdout)\n\(change.stderr)")
        let frozen = try runsheet(["run", "frozen.md", "--as", "olly"], in: dir, stdin: "abort frozen\n")
        #expect(frozen.status == 1 && frozen.stdout.contains("production change blocked"), "\(frozen.stdout)\n\(frozen.stderr)")
        #expect(!change.stdout.contains("notification") && !frozen.stdout.contains("notification"))

        let runs = runIDs(dir)
        try #require(runs.count == 2)
        var journal: [String: RunEvent] = [:]  // "<run>/<seq>" to the event
        for run in runs {
            let events = try events(dir, run: run)
            if case .runStarted(let started)? = try events.first?.payload() { #expect(started.schema == "runsheet.journal/1.5") }
            #expect(!events.contains { $0.type == .notifyFailed })
            for event in events { journal["\(run)/\(event.seq)"] = event }
        }

        // The HTTP receiver: every kind, each signed with HMAC-SHA256 over the exact body.
        let requests = try receiver.requests()
        let bodies = try requests.map { request -> [String: Any] in
            let body = try #require(request["body"] as? String)
            #expect(!body.contains(Self.secret))
            let headers = try #require(request["headers"] as? [String: String])
            #expect(request["valid"] as? Bool == true, "\(headers)")
            #expect(request["path"] as? String == "/hook?token=not-shown")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
            #expect(headers["x-runsheet-event"] == object["kind"] as? String && headers["x-runsheet-delivery"] == object["id"] as? String)
            #expect(headers["content-type"] == "application/json" && headers["x-runsheet-timestamp"] == object["time"] as? String)
            return object
        }
        let kinds = Set(NotificationKind.allCases.map(\.rawValue))
        #expect(Set(bodies.compactMap { $0["kind"] as? String }) == kinds)
        #expect(bodies.count == 6, "\(bodies.map { $0["kind"] ?? "" })")  // run.ended twice, the others once

        // The command got the same notifications on its standard input.
        let folder = dir.appendingPathComponent("notified")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        let piped = try files.map { name -> [String: Any] in
            let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
            #expect(!text.contains(Self.secret))
            return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        }
        #expect(Set(piped.compactMap { $0["kind"] as? String }) == kinds && piped.count == 6)
        #expect(Set(piped.compactMap { $0["id"] as? String }) == Set(bodies.compactMap { $0["id"] as? String }))

        // What each says: the run, the step, the reason (the secret masked), and the journal event by seq and hash.
        func body(_ kind: String, run: String) throws -> [String: Any] {
            try #require(bodies.first { $0["kind"] as? String == kind && $0["run"] as? String == run })
        }
        let (changeRun, frozenRun) = (runs.first { $0.hasPrefix("change") }!, runs.first { $0.hasPrefix("frozen") }!)
        let failed = try body("step.failed", run: changeRun)
        #expect(failed["step"] as? String == "approve-the-change" && failed["stepTitle"] as? String == "Approve the change")
        #expect(failed["reason"] as? String == "not approved by \(ShellQuoting.mask)")
        #expect(failed["runbook"] as? String == "change.md" && failed["title"] as? String == "Change" && failed["actor"] as? String == "olly")
        for object in bodies {
            let seq = try #require(object["seq"] as? Int)
            let event = try #require(journal["\(object["run"] as? String ?? "")/\(seq)"])
            #expect(object["hash"] as? String == event.hash, "\(object)")
            #expect(object["id"] as? String == "\(object["run"] as? String ?? "")/\(seq)/\(object["kind"] as? String ?? "")")
        }
        let failedEvent = try #require(journal["\(changeRun)/\(failed["seq"] as? Int ?? 0)"])
        #expect(failedEvent.type == .stepFailed)
        let waiting = try body("gate.waiting", run: changeRun)
        #expect(waiting["step"] as? String == "approve-the-change" && (waiting["reason"] as? String ?? "").contains("sre"))
        let rollback = try body("rollback.started", run: changeRun)
        #expect(rollback["step"] as? String == "restore-the-old-version")
        let ended = try body("run.ended", run: changeRun)
        #expect(ended["outcome"] as? String == "rolled-back")
        let blocked = try body("calendar.blocked", run: frozenRun)
        #expect(blocked["step"] as? String == "switch-traffic" && (blocked["reason"] as? String ?? "").contains("always"))
        #expect(try body("run.ended", run: frozenRun)["outcome"] as? String == "aborted")
    }

    @Test func aReceiverThatNeverAnswersHoldsTheRunNoLongerThanItsBound() throws {
        let scratch = try Fixtures.temporaryDirectory()
        let receiver = try Receiver(mode: "hang", in: scratch)
        defer { receiver.stop() }
        try #require(receiver.port > 0)
        let dir = try repository(config: """
            notify:
              - name: hanging-hook
                events: [run.ended]
                url: http://127.0.0.1:\(receiver.port)/hook
                secret-env: HOOK_KEY
                timeout: 1s
                retries: 1
              - name: hanging-command
                events: [run.ended]
                command: sleep 30 & echo $! > hung.pid; wait
                timeout: 1s
                retries: 0
              - events: [run.ended]
                url: http://127.0.0.1:\(receiver.port)/other
                secret-env: NOT_SET_ANYWHERE
            """)
        let started = Date()
        let result = try runsheet(["run", "plain.md", "--as", "olly"], in: dir, stdin: "done\n")
        let took = Date().timeIntervalSince(started)
        #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
        // The bound: two attempts of 1 s and the pause between them; the command's 30 s never count.
        #expect(took < 10, "the run took \(took) s")
        #expect(result.stdout.contains("⚠ notification run.ended to hanging-hook failed after 2 attempts: no answer within 1s"), "\(result.stdout)")
        #expect(result.stdout.contains("⚠ notification run.ended to hanging-command failed after 1 attempt: the command did not finish within 1s and was killed"), "\(result.stdout)")
        #expect(result.stdout.contains("⚠ notification run.ended to http://127.0.0.1:\(receiver.port)/other failed after 1 attempt: the environment variable NOT_SET_ANYWHERE that holds its signing key is not set, so nothing was sent"), "\(result.stdout)")
        #expect(try receiver.requests().count == 2)  // reached, twice, and never answered

        let id = try #require(runIDs(dir).first)
        let events = try events(dir, run: id)
        let end = try #require(events.firstIndex { $0.type == .runEnded })
        let failures = try events.filter { $0.type == .notifyFailed }.map { event -> NotifyFailed in
            guard case .notifyFailed(let failed) = try event.payload() else { throw NotNotifyFailed() }
            #expect(event.seq > events[end].seq && event.actor == "olly")
            return failed
        }
        #expect(Set(failures.map(\.target)) == ["hanging-hook", "hanging-command", "http://127.0.0.1:\(receiver.port)/other"])
        #expect(failures.allSatisfy { $0.kind == "run.ended" && $0.seq == events[end].seq })
        #expect(failures.first { $0.target == "hanging-hook" }?.attempts == 2)

        // The command's whole process group was killed: its background sleep is gone.
        let pid = Int32((try? String(contentsOf: dir.appendingPathComponent("hung.pid"), encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
        #expect(pid > 0)
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        #expect(kill(pid, 0) != 0 || stat.contains(") Z "), "sleep \(pid) still runs: \(stat)")

        // status, the reports and verify see them.
        let status = try runsheet(["status", id], in: dir)
        #expect(status.stdout.contains("⚠ notification run.ended to hanging-hook failed after 2 attempts: no answer within 1s (at "), "\(status.stdout)")
        let report = try runsheet(["report", id, "--format", "md"], in: dir)
        #expect(report.stdout.contains("| Notification failed | run.ended to hanging-hook at "), "\(report.stdout)\n\(report.stderr)")
        let audit = try runsheet(["audit", id], in: dir)
        #expect(audit.stdout.contains("notify.failed") && audit.stdout.contains("target=hanging-hook"), "\(audit.stdout)")
        #expect(try runsheet(["verify", id], in: dir).status == 0)
    }

    @Test func unattendedRunsAndResumesNotifyToo() throws {
        let dir = try repository(config: """
            notify:
              - events: [gate.waiting, step.failed, rollback.started, run.ended, calendar.blocked]
                command: mkdir -p notified && cat > "notified/$$.json"
            """)
        try """
            ---
            id: auto
            roles: [sre]
            ---
            # Auto

            - [ ] Build

              ```bash run
              true
              ```
            - [ ] Approve
              - Sign-off: sre
            - [ ] Ship

              ```bash run
              true
              ```
            """.write(to: dir.appendingPathComponent("auto.md"), atomically: true, encoding: .utf8)
        func kinds() throws -> [String] {
            let folder = dir.appendingPathComponent("notified")
            return try (FileManager.default.contentsOfDirectory(atPath: folder.path)).compactMap { name in
                let text = try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
                return (try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])?["kind"] as? String
            }.sorted()
        }
        let first = try runsheet(["run", "auto.md", "--as", "olly", "--auto"], in: dir)
        #expect(first.status == 3, "\(first.stdout)\n\(first.stderr)")
        #expect(try kinds() == ["gate.waiting"])
        let id = try #require(runIDs(dir).first)
        #expect(try runsheet(["sign", id, "approve", "--as", "sue"], in: dir).status == 0)
        // --auto stops at a gate even when it is approved: a person marks it done.
        let resumed = try runsheet(["resume", id, "--as", "olly"], in: dir, stdin: "done\nrun\ndone\n")
        #expect(resumed.status == 0, "\(resumed.stdout)\n\(resumed.stderr)")
        #expect(try kinds() == ["gate.waiting", "run.ended"])
    }

    /// The full-screen walk-through shows a failure while it waits at a gate, and the journal has it before the pause.
    @Test func theRunScreenShowsAFailureWhileItWaits() throws {
        let dir = try repository(config: """
            notify:
              - name: pager
                events: [gate.waiting]
                command: echo receiver down >&2; exit 3
                retries: 0
            """)
        let terminal = ScriptedTerminal(width: 120, [.act { Thread.sleep(forTimeInterval: 1) }, .idle, .press("q")])
        let result = try InProcess.walk(["run", dir.appendingPathComponent("change.md").path, "--runs-dir", dir.appendingPathComponent("runs").path,
                                         "--as", "olly", "--param", "token=\(Self.secret)"], on: terminal)
        #expect(result.status == 3, "\(result.stdout)\n\(result.stderr)")
        let line = "⚠ notification gate.waiting to pager failed after 1 attempt: the command exited 3: receiver down"
        #expect(terminal.frames.count >= 2 && !terminal.frames[0].contains(line) && terminal.frames[1].contains(line), "\(terminal.frames)")
        let id = try #require(runIDs(dir).first)
        let types = try events(dir, run: id).map(\.type)
        #expect(types.suffix(2) == [.notifyFailed, .runPaused], "\(types)")
    }

    @Test(arguments: [
        ("notfiy:\n  - events: [run.ended]\n", 1, 1, "unknown key 'notfiy' in the config file; the keys are 'notify' and 'store'"),
        ("store: [a, b]\n", 1, 8, "'store' must be the URL of a run store, as a string"),
        ("notify:\n  - events: [run.ended, gate.wait]\n    command: true\n", 2, 25,
         "notify target 1 names an unknown event kind 'gate.wait'; the kinds are gate.waiting, step.failed, rollback.started, run.ended, calendar.blocked"),
        ("notify:\n  - events: [run.ended]\n    command: true\n    url: http://127.0.0.1:9/\n", 4, 10,
         "notify target 1 has both 'command' and 'url'; a target is one or the other"),
        ("notify:\n  - events: [run.ended]\n    command: true\n  - events: [run.ended]\n    name: nowhere\n", 4, 5,
         "notify target 2 has neither 'command' nor 'url'; a target says where notifications go"),
        ("notify:\n  - events: [run.ended]\n    command: true\n    timeout: 10m\n", 4, 14,
         "'timeout' of notify target 1 is 10m, more than the maximum of 30s"),
        ("notify:\n  - events: [run.ended]\n    command: true\n    retries: many\n", 4, 14,
         "'retries' of notify target 1 must be a whole number of at least 0"),
        ("notify:\n  - events: run.ended\n    command: true\n", 2, 13,
         "'events' of notify target 1 must be a list of event kinds (gate.waiting, step.failed, rollback.started, run.ended, calendar.blocked)"),
        ("notify:\n  - events: [run.ended]\n    command: true\n    secret: X\n", 4, 5,
         "unknown key 'secret' in notify target 1; the keys are 'name', 'events', 'command', 'url', 'secret-env', 'timeout', 'retries'"),
    ])
    func aBadConfigFileIsAnErrorAtItsPosition(config: String, line: Int, column: Int, message: String) throws {
        let dir = try repository(config: config)
        let check = try Fixtures.runsheet(["check", "plain.md"], environment: ["NO_COLOR": "1"], directory: dir)
        #expect(check.status == 1 && check.stdout.contains(".runsheet/config.yaml:\(line):\(column): error: \(message) [config-file]"), "\(check.stdout)\n\(check.stderr)")
        let run = try runsheet(["run", "plain.md", "--as", "olly"], in: dir, stdin: "done\n")
        #expect(run.status == 2 && run.stderr.contains(".runsheet/config.yaml:\(line):\(column): \(message) (runsheet does not act on rules it cannot read"), "\(run.stderr)")
        #expect(runIDs(dir).isEmpty)
    }
}
