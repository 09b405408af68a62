import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Gates signed from a second process while the first waits, with the roles file enforced.
@Suite struct GovernanceTests {
    final class Operator: @unchecked Sendable {
        let process = Process()
        let input = Pipe()
        private let output = Pipe()
        private let lock = NSLock()
        private var data = Data()

        init(_ arguments: [String], in directory: URL) throws {
            process.executableURL = Fixtures.binary
            process.arguments = arguments
            process.currentDirectoryURL = directory
            process.environment = ProcessInfo.processInfo.environment.merging(["NO_COLOR": "1"]) { $1 }.filter { $0.key != "CI" }
            process.standardInput = input
            process.standardOutput = output
            process.standardError = output
            output.fileHandleForReading.readabilityHandler = { [weak self] handle in
                let chunk = handle.availableData
                self?.lock.withLock { self?.data.append(chunk) }
            }
            try process.run()
            ScratchRoot.started(process)
        }

        var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }

        func send(_ line: String) {
            Fixtures.ignoreBrokenPipes()
            do {
                try input.fileHandleForWriting.write(contentsOf: Data((line + "\n").utf8))
            } catch {
                Issue.record("the operator stopped reading before '\(line)': \(error)")
            }
        }

        func waitFor(_ needle: String, seconds: Double = 15) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if text.contains(needle) { return true }
                Thread.sleep(forTimeInterval: 0.05)
            }
            Issue.record("operator never printed '\(needle)'; it printed:\n\(text)")
            return false
        }

        /// Closes the operator's input and waits for the exit status; an operator still running a
        /// minute later is killed, so a hung run fails its test instead of stalling the suite.
        func finish() -> Int32 {
            try? input.fileHandleForWriting.close()
            let deadline = Date().addingTimeInterval(60)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            if process.isRunning {
                Issue.record("the operator's run did not end within a minute of its input closing; it printed:\n\(text)")
                kill(process.processIdentifier, SIGKILL)
            }
            process.waitUntilExit()
            return process.terminationStatus
        }

        deinit {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
    }

    static let runbook = """
        ---
        roles: [sre, release-manager]
        ---
        # Change

        - [ ] Prepare the release
        - [ ] Approve the change
          - Sign-off: 2 of sre
          - Sign-off: release-manager
          - Separation: starter, executor
          - On reject: [Rollback](#rollback)
        - [ ] Deploy

        # Rollback

        - [ ] Undo the change
        """

    func repository() throws -> URL {
        let dir = try Fixtures.temporaryDirectory()
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        try "roles:\n  sre: [alice, carol, dave, group:oncall]\n  release-manager: [erin]\ngroups:\n  oncall: [frank]\n"
            .write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        try Self.runbook.write(to: dir.appendingPathComponent("change.md"), atomically: true, encoding: .utf8)
        return dir
    }

    func sign(_ arguments: [String], in dir: URL) throws -> ProcessResult {
        try Fixtures.runsheet(arguments + ["--runs-dir", dir.appendingPathComponent("runs").path], directory: dir)
    }

    func runID(_ dir: URL) throws -> String {
        try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))
    }

    @Test func signOffsFromAnotherProcessMoveTheWaitingRunOn() throws {
        let dir = try repository()
        let alice = try Operator(["run", "change.md", "--as", "alice", "--runs-dir", "runs"], in: dir)
        alice.send("done")
        alice.send("done")
        #expect(alice.waitFor("this gate still needs 2 more of sre and 1 more of release-manager"))
        alice.send("wait")
        #expect(alice.waitFor("signed: nobody yet"))
        let id = try runID(dir)

        let own = try sign(["sign", id, "approve-the-change", "--as", "alice"], in: dir)
        #expect(own.status == 1)
        #expect(own.stderr.contains("alice started this run"))
        let outsider = try sign(["sign", id, "approve-the-change", "--as", "mallory"], in: dir)
        #expect(outsider.status == 1 && outsider.stderr.contains("mallory holds none of the roles this gate needs"))

        #expect(try sign(["sign", id, "approve-the-change", "--as", "carol", "--comment", "dashboards green"], in: dir).status == 0)
        #expect(alice.waitFor("signed: carol (sre); needs 1 more of sre and 1 more of release-manager"))
        let twice = try sign(["sign", id, "approve-the-change", "--as", "carol"], in: dir)
        #expect(twice.status == 1 && twice.stderr.contains("carol has already signed"))
        #expect(try sign(["sign", id, "approve-the-change", "--as", "frank"], in: dir).status == 0)
        let last = try sign(["sign", id, "approve-the-change", "--as", "erin"], in: dir)
        #expect(last.stdout.contains("the gate's rule is met"))
        #expect(alice.waitFor("✓ gate approved"))
        #expect(alice.waitFor("▶ [2/3] deploy"))
        alice.send("done")
        #expect(alice.finish() == 0)

        let events = try JournalFile.read(at: dir.appendingPathComponent("runs/\(id)/journal.jsonl").path).events
        let signatures = events.filter { $0.type == .signOff }
        #expect(signatures.map(\.actor) == ["carol", "frank", "erin"])
        #expect(signatures.map { $0.data["role"]?.string } == ["sre", "sre", "release-manager"])
        #expect(signatures[0].data["comment"]?.string == "dashboards green")
        #expect(signatures.allSatisfy { $0.data["stepHash"]?.string?.isEmpty == false && $0.data["sha256"]?.string?.count == 64 })
        #expect(try sign(["verify", id], in: dir).status == 0)
        let status = try sign(["status", id], in: dir)
        #expect(status.stdout.contains("✍ approve-the-change  carol as sre"))
        let audit = try sign(["audit", id], in: dir)
        #expect(audit.status == 0)
        #expect(audit.stdout.contains("erin@"))
        #expect(audit.stdout.contains("signoff.signed approve-the-change  role=release-manager"))
        #expect(audit.stdout.split(separator: "\n").count == events.count + 2, "one line per event after the two header lines")
    }

    @Test func executorMayNotApproveAndRejectionBranches() throws {
        let dir = try repository()
        let carol = try Operator(["run", "change.md", "--as", "carol", "--runs-dir", "runs"], in: dir)
        carol.send("done")
        carol.send("wait")
        #expect(carol.waitFor("signed: nobody yet"))
        let id = try runID(dir)
        // carol both started the run and prepared it; dave did nothing yet.
        let executor = try sign(["sign", id, "approve-the-change", "--as", "carol"], in: dir)
        #expect(executor.status == 1)
        let rejected = try sign(["reject", id, "approve-the-change", "--as", "dave", "--reason", "error budget exhausted"], in: dir)
        #expect(rejected.status == 0)
        #expect(carol.waitFor("✗ gate rejected by dave: error budget exhausted"))
        #expect(carol.waitFor("▶ [2/3] undo-the-change"))
        carol.send("done")
        #expect(carol.finish() == 1)
        let state = RunState.fold(try JournalFile.read(at: dir.appendingPathComponent("runs/\(id)/journal.jsonl").path).events)
        #expect(state.outcome == .aborted)
        #expect(state.record("approve-the-change").reason == "rejected by dave: error budget exhausted")
    }

    @Test func editingTheGateMakesSignaturesStale() throws {
        let dir = try repository()
        let alice = try Operator(["run", "change.md", "--as", "alice", "--runs-dir", "runs"], in: dir)
        alice.send("done")
        #expect(alice.waitFor("▶ [1/3] approve-the-change"))
        let id = try runID(dir)
        #expect(try sign(["sign", id, "approve-the-change", "--as", "carol"], in: dir).status == 0)
        let edited = Self.runbook.replacingOccurrences(of: "  - Separation: starter, executor\n", with: "  - Separation: starter, executor\n  - Estimate: 5m\n")
        try edited.write(to: dir.appendingPathComponent("change.md"), atomically: true, encoding: .utf8)
        // Nobody approves a file other than the one the run recorded (issue 12, item 7).
        let refused = try sign(["sign", id, "approve-the-change", "--as", "dave"], in: dir)
        #expect(refused.status == 1 && refused.stderr.contains("change.md changed since run \(id) last recorded it"), "\(refused.stdout)\(refused.stderr)")
        alice.send("quit")
        #expect(alice.finish() == 3)
        // The operator's resume records the change; carol's signature on the old step no longer counts.
        let resumed = try Fixtures.runsheet(["resume", id, "--as", "alice", "--runs-dir", "runs"], stdin: "quit\n", directory: dir)
        #expect(resumed.stdout.contains("not counted: the step changed after it was signed"), "\(resumed.stdout)")
        let after = try sign(["sign", id, "approve-the-change", "--as", "dave"], in: dir)
        #expect(after.stdout.contains("still needs 1 more of sre and 1 more of release-manager"), "\(after.stdout)\(after.stderr)")
    }

    @Test func gateTimesOutInsteadOfHanging() throws {
        let dir = try repository()
        try Self.runbook.replacingOccurrences(of: "  - Separation: starter, executor\n", with: "  - Timeout: 1s\n")
            .write(to: dir.appendingPathComponent("change.md"), atomically: true, encoding: .utf8)
        let alice = try Operator(["run", "change.md", "--as", "alice", "--runs-dir", "runs"], in: dir)
        alice.send("done")
        alice.send("wait")
        #expect(alice.waitFor("✗ gate timed out"))
        #expect(alice.finish() == 1)
        #expect(alice.text.contains("gate not approved within 1s"))
    }

    @Test func rolesFileProblemsAreReportedWithPositions() throws {
        let dir = try repository()
        try "roles:\n  sre: [group:nobody]\n".write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        let result = try Fixtures.runsheet(["check", "change.md"], directory: dir)
        #expect(result.status == 1)
        #expect(result.stdout.contains(".runsheet/roles.yaml:2:9: error: role 'sre' names group 'nobody', which is not declared under 'groups' [roles-file]"), "\(result.stdout)")
    }
}
