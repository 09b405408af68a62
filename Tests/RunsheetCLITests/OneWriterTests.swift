import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Issue 13, items 1 and 2: one session drives a run (the lease), and every append is checked
/// against the journal's head under its lock (check-and-append). Real processes, real kills.
@Suite struct OneWriterTests {
    static let runbook = """
        ---
        runsheet: 1
        id: deploy
        title: Deploy
        roles: [sre]
        ---

        # Deploy

        - [ ] Prepare
        - [ ] Approve the deploy
          - Sign-off: SIGNOFFS of sre
        - [ ] Deploy once
        """

    /// A repository whose gate needs `signOffs` sre signatures; alice operates, the rest are sre.
    func repository(signOffs: Int = 1) throws -> URL {
        let dir = try Fixtures.temporaryDirectory()
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".runsheet"), withIntermediateDirectories: true)
        try "roles:\n  operator: [alice]\n  sre: [bob, carol, dave, erin, fay, gus, hal, ivy]\n"
            .write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        try Self.runbook.replacingOccurrences(of: "SIGNOFFS", with: "\(signOffs)")
            .write(to: dir.appendingPathComponent("deploy.md"), atomically: true, encoding: .utf8)
        return dir
    }

    func runsheet(_ arguments: [String], in dir: URL, stdin: String? = nil) throws -> ProcessResult {
        try RepositoryRuns.runsheet(arguments, in: dir, stdin: stdin)
    }

    func journal(_ dir: URL, _ id: String) throws -> Data {
        try Data(contentsOf: dir.appendingPathComponent("runs/\(id)/journal.jsonl"))
    }

    func count(_ events: [[String: Any]], _ type: String) -> Int {
        events.filter { $0["type"] as? String == type }.count
    }

    /// A run started and left at the gate; its id.
    func runAtTheGate(_ dir: URL) throws -> String {
        let start = try runsheet(["run", "deploy.md", "--as", "alice"], in: dir, stdin: "done\nquit\n")
        #expect(start.status == 3, "\(start.stdout)\(start.stderr)")
        return try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))
    }

    /// Runs `runsheet` once per argument list, all started before any is waited for.
    func simultaneously(_ calls: [[String]], in dir: URL) throws -> [ProcessResult] {
        let results = Results(count: calls.count)
        let done = DispatchSemaphore(value: 0)
        for (index, arguments) in calls.enumerated() {
            Thread {
                results.set(index, Result { try RepositoryRuns.runsheet(arguments, in: dir) })
                done.signal()
            }.start()
        }
        for _ in calls { done.wait() }
        return try results.all.map { try $0!.get() }
    }

    /// Item 1: while `run` drives a run (a scripted session blocked reading its input), `resume`
    /// from a second process is refused, exit 5, with who holds the run, where, since when and
    /// how to look; it writes nothing, not even a repair or run.resumed.
    @Test func aSecondSessionIsRefusedWhileRunDrivesTheRun() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try RunningRunsheet(["run", "deploy.md", "--runs-dir", "runs", "--as", "Alice"], directory: dir)
        defer { _ = first.kill() }
        #expect(first.waitFor("▶ [0/3] prepare"), "\(first.printed)\(first.errors)")
        let id = try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))
        let before = try journal(dir, id)

        let second = try runsheet(["resume", id, "--as", "bob"], in: dir, stdin: "done\ndone\ndone\n")
        #expect(second.status == 5, "\(second.stdout)\(second.stderr)")
        let line = second.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!line.contains("\n"), "one sentence: \(line)")
        #expect(line.contains("run \(id) is being driven by another session (Alice (alice) on \(ProcessInfo.processInfo.hostName)") ||
                line.contains("run \(id) is being driven by another session (Alice (alice) on "), "\(line)")
        #expect(line.contains("pid \(first.process.processIdentifier), since 20"), "\(line)")
        #expect(line.contains("nothing was written") && line.contains("'runsheet status \(id)'"), "\(line)")
        #expect(second.stdout.isEmpty, "\(second.stdout)")
        #expect(try journal(dir, id) == before, "the refused session wrote to the journal")

        // The first session goes on as if nothing happened.
        #expect(first.send("done"))
        #expect(first.waitFor("approve-the-deploy"), "\(first.printed)")
        #expect(first.finish() == 3)
        let events = try RepositoryRuns.events(dir, id: id)
        #expect(!events.contains { $0["actor"] as? String == "bob" })
        #expect(count(events, "run.resumed") == 0)
    }

    /// Found by the adversary: deleting the lease file, or renaming a fresh file over it, while a
    /// session holds it gave the next session a lock of its own, and two sessions drove the run.
    /// The run folder itself is locked too, so neither lets a second session in.
    @Test(arguments: ["delete", "replace"])
    func aDeletedOrReplacedLeaseFileStillKeepsASecondSessionOut(how: String) throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try runAtTheGate(dir)
        let first = try RunningRunsheet(["resume", id, "--runs-dir", "runs", "--as", "alice"], directory: dir)
        defer { _ = first.kill() }
        #expect(first.waitFor("▶"), "\(first.printed)\(first.errors)")
        let lease = dir.appendingPathComponent("runs/\(id)/lease")
        if how == "delete" {
            try FileManager.default.removeItem(at: lease)
        } else {
            let fresh = dir.appendingPathComponent("runs/\(id)/fresh")
            try Data().write(to: fresh)
            #expect(rename(fresh.path, lease.path) == 0)
        }
        let before = try journal(dir, id)
        let second = try runsheet(["resume", id, "--as", "bob"], in: dir, stdin: "note bob was here\nquit\n")
        #expect(second.status == 5, "\(how): \(second.stdout)\(second.stderr)")
        #expect(second.stderr.contains("is being driven by another session"), "\(second.stderr)")
        #expect(try journal(dir, id) == before, "\(how): the second session wrote to the journal")
        #expect(try runsheet(["status", id], in: dir).stdout.contains("driven by"))
    }

    /// Item 1: a session killed with SIGKILL leaves no stale lease: the next `resume` drives the run.
    @Test func aKilledSessionLeavesNoStaleLease() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try runAtTheGate(dir)
        let first = try RunningRunsheet(["resume", id, "--runs-dir", "runs", "--as", "alice"], directory: dir)
        #expect(first.waitFor("▶"), "\(first.printed)\(first.errors)")
        let before = try journal(dir, id)
        let refused = try runsheet(["resume", id, "--as", "alice"], in: dir, stdin: "quit\n")
        #expect(refused.status == 5 && refused.stderr.contains("is being driven by another session (alice on "), "\(refused.stderr)")
        #expect(try journal(dir, id) == before)
        let status = try runsheet(["status", id], in: dir)
        #expect(status.stdout.contains("driven by alice on "), "\(status.stdout)")

        _ = first.kill()
        let after = try runsheet(["resume", id, "--as", "alice"], in: dir, stdin: "note after the crash\nquit\n")
        #expect(after.status == 3, "\(after.stdout)\(after.stderr)")
        let events = try RepositoryRuns.events(dir, id: id)
        #expect(count(events, "run.resumed") == 2)
        #expect(events.contains { $0["type"] as? String == "note" && ($0["data"] as? [String: Any])?["text"] as? String == "after the crash" })
        #expect(try runsheet(["verify", id], in: dir).status == 0)
        #expect(!(try runsheet(["status", id], in: dir)).stdout.contains("driven by"))
    }

    /// Item 1: the lease file is opened without following a link and must be a regular file: a
    /// link to another file or a FIFO in its place stops `resume` with a sentence, at once, and
    /// neither the link's target nor the journal is written.
    @Test func aLeaseThatIsNotARegularFileIsRefused() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try runAtTheGate(dir)
        let lease = dir.appendingPathComponent("runs/\(id)/lease").path
        let before = try journal(dir, id)
        let target = dir.appendingPathComponent("precious.txt").path
        try "keep me\n".write(toFile: target, atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: lease)
        try FileManager.default.createSymbolicLink(atPath: lease, withDestinationPath: target)
        let linked = try runsheet(["resume", id, "--as", "alice"], in: dir, stdin: "done\nquit\n")
        #expect(linked.status == 2 && linked.stderr == "runsheet: runs/\(id)/lease is a symbolic link, not a regular file; runsheet takes a run's lease only on the file it made, so nothing was written (remove it if no session drives the run)\n",
                "\(linked.stderr)")
        #expect(try String(contentsOfFile: target, encoding: .utf8) == "keep me\n")
        try FileManager.default.removeItem(atPath: lease)
        #expect(mkfifo(lease, 0o600) == 0)
        let fifo = try runsheet(["resume", id, "--as", "alice"], in: dir, stdin: "done\nquit\n")
        #expect(fifo.status == 2 && fifo.stderr.contains("runs/\(id)/lease is a FIFO, not a regular file"), "\(fifo.stderr)")
        #expect(try journal(dir, id) == before)
    }

    /// Item 2: six `sign --as bob` at once produce one signature; the other five are refused with a sentence.
    @Test func sixSimultaneousSignaturesOfOnePersonWriteOne() throws {
        let dir = try repository(signOffs: 2)
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try runAtTheGate(dir)
        let results = try simultaneously(Array(repeating: ["sign", id, "approve-the-deploy", "--as", "bob"], count: 6), in: dir)
        #expect(results.filter { $0.status == 0 }.count == 1, "\(results.map { "\($0.status) \($0.stderr)" })")
        for refused in results where refused.status != 0 {
            #expect(refused.status == 1 && refused.stderr.contains("bob has already signed"), "\(refused.stderr)")
        }
        let events = try RepositoryRuns.events(dir, id: id)
        #expect(count(events, "signoff.signed") == 1)
        #expect(try runsheet(["verify", id], in: dir).status == 0)
    }

    /// Item 2: people racing to give a gate its last needed signature: one writes, the others are
    /// refused because the rule is met.
    @Test func signersRacingForTheLastSignatureDoNotAllWrite() throws {
        let dir = try repository(signOffs: 1)
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try runAtTheGate(dir)
        let signers = ["bob", "carol", "dave", "erin"]
        let results = try simultaneously(signers.map { ["sign", id, "approve-the-deploy", "--as", $0] }, in: dir)
        #expect(results.filter { $0.status == 0 }.count == 1, "\(results.map { "\($0.status) \($0.stderr)" })")
        for refused in results where refused.status != 0 {
            #expect(refused.status == 1 && refused.stderr.contains("gate 'approve-the-deploy' already has the sign-offs its rule needs"),
                    "\(refused.stderr)")
        }
        #expect(count(try RepositoryRuns.events(dir, id: id), "signoff.signed") == 1)
    }

    /// Item 2: a sign-off after run.ended is refused and not written.
    @Test func aSignatureAfterTheRunEndedIsRefused() throws {
        let dir = try repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try runAtTheGate(dir)
        #expect(try runsheet(["resume", id, "--as", "alice"], in: dir, stdin: "abort change cancelled\n").status == 1)
        let before = try journal(dir, id)
        let signed = try runsheet(["sign", id, "approve-the-deploy", "--as", "bob"], in: dir)
        #expect(signed.status == 1 && signed.stderr.contains("the run has ended"), "\(signed.stderr)")
        #expect(try journal(dir, id) == before)
    }

    /// A session and eight signers write to one run at once: the signers do not drive it and need
    /// no lease; every line stays whole and chained and every acknowledged event is there.
    @Test func aSessionAndEightSignersWriteToOneRunAtOnce() throws {
        let dir = try repository(signOffs: 8)
        defer { try? FileManager.default.removeItem(at: dir) }
        let id = try runAtTheGate(dir)
        let walk = try RunningRunsheet(["resume", id, "--runs-dir", "runs", "--as", "alice"], directory: dir)
        #expect(walk.waitFor("▶"), "\(walk.printed)\(walk.errors)")
        let notes = 300
        #expect(walk.send((1...notes).map { "note alice #\($0)" }.joined(separator: "\n")))
        let signers = ["bob", "carol", "dave", "erin", "fay", "gus", "hal", "ivy"]
        let results = try simultaneously(signers.map { ["sign", id, "approve-the-deploy", "--as", $0] }, in: dir)
        #expect(results.allSatisfy { $0.status == 0 }, "\(results.map(\.stderr))")
        #expect(walk.finish() == 3, "\(walk.errors)")
        #expect(walk.printed.components(separatedBy: "  noted\n").count - 1 == notes)

        let path = dir.appendingPathComponent("runs/\(id)/journal.jsonl").path
        let report = try JournalVerifier.verify(path: path)
        #expect(report.problem == nil && report.tornLine == nil, "\(String(describing: report.problem))")
        let events = report.events
        #expect(events.filter { $0.type == .note }.compactMap { $0.data["text"]?.string } == (1...notes).map { "alice #\($0)" })
        #expect(Set(events.filter { $0.type == .signOff }.map(\.actor)) == Set(signers))
        #expect(events.filter { $0.type == .signOff }.count == signers.count)
    }
}

/// Results filled in from several threads.
private final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Result<ProcessResult, any Error>?]
    init(count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ index: Int, _ value: Result<ProcessResult, any Error>) { lock.withLock { values[index] = value } }
    var all: [Result<ProcessResult, any Error>?] { lock.withLock { values } }
}
