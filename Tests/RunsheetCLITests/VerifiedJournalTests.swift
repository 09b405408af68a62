import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Issue 13, items 4, 5, 6 and the last of 9, through the real binary: no decision from a journal
/// that does not verify, a torn line is only a line that is not a whole event, journals and output
/// files are what they claim, and `verify --head` / `--contains` take whole hashes.
@Suite struct VerifiedJournalTests {
    func runsheet(_ arguments: [String], in dir: URL, stdin: String? = nil, timeout: Double = 400) throws -> ProcessResult {
        try Fixtures.run(Fixtures.binary.path, arguments + ["--runs-dir", "runs"], stdin: stdin, environment: ["NO_COLOR": "1"],
                         directory: dir, timeout: timeout)
    }

    func journal(_ dir: URL, _ id: String) -> URL { dir.appendingPathComponent("runs/\(id)/journal.jsonl") }

    func runIDs(_ dir: URL, _ prefix: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("runs").path)) ?? [])
            .filter { $0.hasPrefix(prefix + "-2") }.sorted()
    }

    func mode(_ path: String) throws -> Int {
        try #require((try FileManager.default.attributesOfItem(atPath: path))[.posixPermissions] as? Int)
    }

    static let twoSteps = "---\nid: two\n---\n# Two\n\n- [ ] First\n- [ ] Second\n- [ ] Third\n"

    /// A repository with `two.md` and a run of it paused after its first step; the run's id.
    func pausedRun() throws -> (dir: URL, id: String) {
        let dir = try Fixtures.temporaryDirectory()
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try Self.twoSteps.write(to: dir.appendingPathComponent("two.md"), atomically: true, encoding: .utf8)
        let started = try runsheet(["run", "two.md", "--as", "alice"], in: dir, stdin: "done\n")
        #expect(started.status == 3, "\(started.stdout)\(started.stderr)")
        return (dir, try #require(runIDs(dir, "two").first))
    }

    // MARK: - Decisions only from verified journals

    /// Issue 13, item 4: bob rejects the gate; an insider replaces the rejection with a signature
    /// and leaves the hashes alone. Every command that shows the run warns first and exits 1;
    /// every command that acts refuses; readiness says NO-GO.
    @Test func aRejectionReplacedByASignatureIsNoBasisForAnything() throws {
        let dir = try ReadinessCommandTests.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try runsheet(["run", "runbooks/rollback.md", "--as", "alice"], in: dir, stdin: "done\n").status == 0)
        #expect(try runsheet(["run", "runbooks/deploy.md", "--as", "alice"], in: dir, stdin: "done\n").status == 3)
        let id = try #require(runIDs(dir, "deploy").first)
        let rejected = try runsheet(["reject", id, "approve", "--as", "bob", "--reason", "not today"], in: dir)
        #expect(rejected.status == 0, "\(rejected.stderr)")

        let path = journal(dir, id)
        var lines = try String(contentsOf: path, encoding: .utf8).split(separator: "\n").map(String.init)
        let index = try #require(lines.firstIndex { $0.contains(#""type":"signoff.rejected""#) })
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        var event = try #require(try JSONSerialization.jsonObject(with: Data(lines[index].utf8)) as? [String: Any])
        let started = try #require(first["data"] as? [String: Any])
        event["type"] = "signoff.signed"
        event["data"] = ["plan": started["plan"] ?? "", "role": "sre", "sha256": started["sha256"] ?? "",
                         "stepHash": (started["stepHashes"] as? [String: String])?["approve"] ?? ""]
        lines[index] = String(decoding: try JSONSerialization.data(withJSONObject: event, options: [.sortedKeys, .withoutEscapingSlashes]), as: UTF8.self)
        let forged = lines.joined(separator: "\n") + "\n"
        try forged.write(to: path, atomically: true, encoding: .utf8)
        let bad = "runs/\(id)/journal.jsonl:\(index + 1)"

        let verified = try runsheet(["verify", id], in: dir)
        #expect(verified.status == 1 && verified.stdout.contains("\(bad): journal does not verify"), "\(verified.stdout)")

        // Commands that show: the warning is the first line, what they show follows, exit 1.
        let warning = "runsheet: warning: \(bad): the journal does not verify (its hash does not match its content"
        let shows: [(command: [String], shown: String)] = [
            (["status", id], "run      \(id)"),
            (["status"], "(does not verify)"),
            (["audit", id], "Audit trail of run \(id)"),
            (["report", id, "--format", "md"], "# "),
            (["render", id], "- [x] Announce"),
            (["metrics", "--format", "json"], "{"),
        ]
        for (command, shown) in shows {
            let result = try runsheet(command, in: dir)
            #expect(result.status == 1, "\(command): \(result.stdout)\(result.stderr)")
            #expect(result.stderr.hasPrefix(warning), "\(command): \(result.stderr)")
            #expect(result.stdout.contains(shown), "\(command): \(result.stdout)")
        }
        // metrics leaves the run out of the figures it counts.
        let metrics = try runsheet(["metrics", "--format", "json"], in: dir)
        #expect(metrics.stderr.contains("run \(id) is left out of the metrics"), "\(metrics.stderr)")

        // Commands that act: one sentence naming the file and line, exit 1, nothing written.
        let resumed = try runsheet(["resume", id, "--as", "alice"], in: dir, stdin: "done\ndone\ndone\n")
        #expect(resumed.status == 1, "\(resumed.stdout)\(resumed.stderr)")
        #expect(resumed.stderr == "runsheet: \(bad): its hash does not match its content, so it was changed after it was written; runsheet does not act on a journal that does not verify ('runsheet verify' shows it)\n",
                "\(resumed.stderr)")
        for command in [["sign", id, "approve", "--as", "bob"], ["reject", id, "approve", "--as", "bob", "--reason", "again"]] {
            let result = try runsheet(command, in: dir)
            #expect(result.status == 1 && result.stderr.contains("\(bad): its hash does not match") && result.stderr.contains("does not act on a journal that does not verify"),
                    "\(command): \(result.stderr)")
        }
        #expect(try String(contentsOf: path, encoding: .utf8) == forged, "nothing is appended")
        let update = try runsheet(["update", "runbooks/deploy.md", "--from", id], in: dir)
        #expect(update.status == 1 && update.stderr.contains("does not act on a journal that does not verify"), "\(update.stderr)")

        let readiness = try runsheet(["readiness", "release.md", "--format", "json"], in: dir)
        #expect(readiness.status == 1, "\(readiness.stdout)")
        let report = try JSONDecoder().decode(ReadinessReport.self, from: Data(readiness.stdout.utf8))
        #expect(report.decision == .noGo && report.blockers.contains { $0.run == id && $0.location == bad }, "\(report.blockers)")
    }

    // MARK: - A torn line is only a line that is not a whole event

    /// Issue 13, item 5: `truncate -s -1` takes only the last newline. The last event is still an
    /// event: verify counts it, status shows it, resume keeps it and ends its line before appending.
    @Test func aLastEventWithoutItsNewlineIsStillAnEvent() throws {
        let (dir, id) = try pausedRun()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = journal(dir, id)
        let original = try String(contentsOf: path, encoding: .utf8)
        let count = original.split(separator: "\n").count
        let handle = try FileHandle(forUpdating: path)
        try handle.truncate(atOffset: UInt64(original.utf8.count - 1))
        try handle.close()

        let verified = try runsheet(["verify", id], in: dir)
        #expect(verified.status == 0, "\(verified.stdout)")
        #expect(verified.stdout.hasPrefix("runs/\(id)/journal.jsonl: intact, \(count) events, head ") && !verified.stdout.contains("torn"), "\(verified.stdout)")
        let status = try runsheet(["status", id], in: dir)
        #expect(status.status == 0 && status.stderr.isEmpty && status.stdout.contains("events   \(count),"), "\(status.stdout)\(status.stderr)")

        let resumed = try runsheet(["resume", id, "--as", "alice"], in: dir, stdin: "done\ndone\n")
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        #expect(!resumed.stderr.contains("cut short"), "\(resumed.stderr)")
        let after = try String(contentsOf: path, encoding: .utf8)
        #expect(after.hasPrefix(original), "every event is kept, the missing newline written back first")
        #expect(after.split(separator: "\n").count > count && after.hasSuffix("\n"))
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("runs/\(id)").path)
        #expect(!files.contains { $0.contains(".torn-") }, "\(files)")
        #expect(try runsheet(["verify", id], in: dir).status == 0)
    }

    /// A last line that is not a whole event is still a torn line: resume saves it (mode 0600) and cuts it off.
    @Test func aPartialLastLineIsStillRepaired() throws {
        let (dir, id) = try pausedRun()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = journal(dir, id)
        let original = try String(contentsOf: path, encoding: .utf8)
        try (original + #"{"actor":"alice","da"#).write(to: path, atomically: false, encoding: .utf8)
        let resumed = try runsheet(["resume", id, "--as", "alice"], in: dir, stdin: "quit\n")
        #expect(resumed.status == 3 && resumed.stderr.contains("cut short by a crash"), "\(resumed.stderr)")
        let copy = path.path + ".torn-\(original.utf8.count)"
        #expect(try String(contentsOfFile: copy, encoding: .utf8) == #"{"actor":"alice","da"#)
        #expect(try mode(copy) == 0o600)
        #expect(try String(contentsOf: path, encoding: .utf8).hasPrefix(original))
    }

    // MARK: - Files are what they claim

    /// Issue 13, item 6: journal.jsonl is a link to another file. Nothing follows it, so the other
    /// file (which ends in what looks like a torn line) is never cut short or appended to.
    @Test func aSymlinkedJournalIsRefusedAndItsTargetLeftAlone() throws {
        let (dir, id) = try pausedRun()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = journal(dir, id)
        let precious = dir.appendingPathComponent("precious.jsonl")
        let content = try String(contentsOf: path, encoding: .utf8) + "precious data without a newline"
        try content.write(to: precious, atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(at: path)
        try FileManager.default.createSymbolicLink(atPath: path.path, withDestinationPath: precious.path)

        let sentence = "runs/\(id)/journal.jsonl is a symbolic link, not a regular file; runsheet reads and writes its journals, lock and output files only as regular files, never through a link, so it left it untouched."
        for command in [["resume", id, "--as", "alice"], ["status", id], ["verify", id], ["sign", id, "second", "--as", "bob"], ["audit", id]] {
            let result = try runsheet(command, in: dir, stdin: "done\ndone\n")
            #expect(result.status == 2, "\(command): \(result.stdout)\(result.stderr)")
            #expect(result.stderr == "runsheet: \(sentence)\n", "\(command): \(result.stderr)")
        }
        #expect(try String(contentsOf: precious, encoding: .utf8) == content)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: path.path) == precious.path)
    }

    /// Issue 13, item 6: a FIFO in place of the journal. Reading it never blocks: status, status RUN
    /// and verify come back at once with a sentence (the timeout fails the test if they hang).
    @Test func aFIFOJournalNeverBlocks() throws {
        let (dir, id) = try pausedRun()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = journal(dir, id)
        try FileManager.default.removeItem(at: path)
        #expect(mkfifo(path.path, 0o600) == 0)
        let sentence = "runs/\(id)/journal.jsonl is a FIFO, not a regular file"
        for command in [["status", id], ["verify", id], ["resume", id, "--as", "alice"], ["report", id]] {
            let result = try runsheet(command, in: dir, timeout: 60)
            #expect(result.status == 2 && result.stderr.hasPrefix("runsheet: \(sentence);"), "\(command): \(result.stderr)")
        }
        let list = try runsheet(["status"], in: dir, timeout: 60)
        #expect(list.status == 0 && list.stderr.contains("run \(id) is left out: \(sentence);"), "\(list.stdout)\(list.stderr)")
        let readiness = try runsheet(["metrics"], in: dir, timeout: 60)
        #expect(readiness.stderr.contains("run \(id) is left out: \(sentence);"), "\(readiness.stderr)")
        var info = stat()
        #expect(lstat(path.path, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO, "the FIFO is still there")
    }

    /// A run folder is made 0700, its journal and output 0600; an existing run of other modes (a
    /// clone, a folder shared with the team) is used as it is.
    @Test func runFoldersAre0700AndTheirFiles0600() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try "---\nid: out\n---\n# Out\n\n- [ ] Say\n\n  ```bash run\n  echo hello\n  ```\n- [ ] Then\n"
            .write(to: dir.appendingPathComponent("out.md"), atomically: true, encoding: .utf8)
        #expect(try runsheet(["run", "out.md", "--as", "alice"], in: dir, stdin: "run\n").status == 3)
        let id = try #require(runIDs(dir, "out").first)
        let folder = dir.appendingPathComponent("runs/\(id)").path
        #expect(try mode(folder) == 0o700)
        #expect(try mode(folder + "/journal.jsonl") == 0o600)
        let logs = try FileManager.default.contentsOfDirectory(atPath: folder + "/output")
        #expect(!logs.isEmpty)
        for log in logs { #expect(try mode(folder + "/output/" + log) == 0o600, "\(log)") }
        #expect(try mode(folder + "/output") == 0o700)

        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: folder + "/journal.jsonl")
        let resumed = try runsheet(["resume", id, "--as", "alice"], in: dir, stdin: "done\n")
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        #expect(try mode(folder) == 0o755, "existing modes are left as they are")
        #expect(try mode(folder + "/journal.jsonl") == 0o644)
    }

    /// `-o` never writes through a link or into a FIFO: either is refused and left as it is.
    @Test func anOutputFileThatIsALinkIsRefused() throws {
        let (dir, id) = try pausedRun()
        defer { try? FileManager.default.removeItem(at: dir) }
        let target = dir.appendingPathComponent("target.txt")
        try "keep\n".write(to: target, atomically: true, encoding: .utf8)
        let link = dir.appendingPathComponent("report.md")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: target.path)
        let result = try runsheet(["report", id, "-o", "report.md"], in: dir)
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr == "runsheet: cannot write report.md: it is a symbolic link, not a regular file, and runsheet writes output only to regular files, so it left it untouched\n",
                "\(result.stderr)")
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: link.path) == target.path)
        #expect(try String(contentsOf: target, encoding: .utf8) == "keep\n")
        #expect(mkfifo(dir.appendingPathComponent("pipe.md").path, 0o600) == 0)
        let fifo = try runsheet(["render", id, "-o", "pipe.md"], in: dir, timeout: 60)
        #expect(fifo.status == 2 && fifo.stderr.contains("it is a FIFO, not a regular file"), "\(fifo.stderr)")
        let written = try runsheet(["report", id, "-o", "plain.md"], in: dir)
        let plain = try String(contentsOf: dir.appendingPathComponent("plain.md"), encoding: .utf8)
        #expect(written.status == 0 && plain.contains("# Run report: Two"), "\(written.stderr)")
    }

    // MARK: - verify --head, --contains, times

    /// `--head` takes a whole hash and must be the last event's; `--contains` finds an event kept
    /// as a receipt anywhere in the intact chain.
    @Test func headMustBeTheLastEventAndContainsFindsAReceipt() throws {
        let (dir, id) = try pausedRun()
        defer { try? FileManager.default.removeItem(at: dir) }
        let hashes = try RepositoryRuns.events(dir, id: id).compactMap { $0["hash"] as? String }
        let head = try #require(hashes.last)
        #expect(hashes.count >= 4)

        let prefix = try runsheet(["verify", id, "--head", String(head.prefix(16))], in: dir)
        #expect(prefix.status == 2 && prefix.stderr.contains("--head takes a whole SHA-256 hash, 64 hex digits"), "\(prefix.stderr)")
        #expect(try runsheet(["verify", id, "--head", head], in: dir).status == 0)
        #expect(try runsheet(["verify", id, "--head", head.uppercased()], in: dir).status == 0)
        let earlier = try runsheet(["verify", id, "--head", hashes[1]], in: dir)
        #expect(earlier.status == 1, "an earlier event is not the head: \(earlier.stdout)")
        #expect(earlier.stdout.contains("it ends at event \(hashes.count) with head \(head), not at the head \(hashes[1]) given; that is the hash of event 2, and \(hashes.count - 2) event(s) were appended after it"),
                "\(earlier.stdout)")

        let receipt = try runsheet(["verify", id, "--contains", hashes[1]], in: dir)
        #expect(receipt.status == 0, "\(receipt.stdout)")
        #expect(receipt.stdout.contains("contains \(hashes[1]): event 2, "), "\(receipt.stdout)")
        let short = try runsheet(["verify", id, "--contains", String(hashes[1].prefix(8))], in: dir)
        #expect(short.status == 2 && short.stderr.contains("--contains takes a whole SHA-256 hash"), "\(short.stderr)")

        // Cut the last two events: the chain still verifies, the kept head and a cut receipt do not.
        let path = journal(dir, id)
        let lines = try String(contentsOf: path, encoding: .utf8).split(separator: "\n")
        try (lines.dropLast(2).joined(separator: "\n") + "\n").write(to: path, atomically: true, encoding: .utf8)
        #expect(try runsheet(["verify", id], in: dir).status == 0)
        let cut = try runsheet(["verify", id, "--head", head], in: dir)
        #expect(cut.status == 1 && cut.stdout.contains("no event of the chain has that hash, so events were removed from its end"), "\(cut.stdout)")
        let gone = try runsheet(["verify", id, "--contains", head], in: dir)
        #expect(gone.status == 1 && gone.stdout.contains("no event of the intact chain (\(hashes.count - 2) events"), "\(gone.stdout)")
        #expect(try runsheet(["verify", id, "--contains", hashes[1]], in: dir).status == 0)
    }

    /// `sign` prints the hash of the event it wrote; `verify --contains` checks it later, after
    /// the run has gone on (when it is no longer the head).
    @Test func aSignersReceiptIsCheckedWithContains() throws {
        let dir = try ReadinessCommandTests.repository()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try runsheet(["run", "runbooks/deploy.md", "--as", "alice"], in: dir, stdin: "done\n").status == 3)
        let id = try #require(runIDs(dir, "deploy").first)
        let signed = try runsheet(["sign", id, "approve", "--as", "bob"], in: dir)
        #expect(signed.status == 0, "\(signed.stderr)")
        let events = try RepositoryRuns.events(dir, id: id)
        let signature = try #require(events.last)
        let hash = try #require(signature["hash"] as? String)
        #expect(signature["type"] as? String == "signoff.signed")
        #expect(signed.stdout.contains("receipt: event \(events.count), hash \(hash); 'runsheet verify \(id) --contains \(hash)' checks it is still in the journal"),
                "\(signed.stdout)")
        #expect(try runsheet(["resume", id, "--as", "alice"], in: dir, stdin: "done\ndone\ndone\n").status == 0)
        #expect(try runsheet(["verify", id, "--contains", hash], in: dir).status == 0)
        #expect(try runsheet(["verify", id, "--head", hash], in: dir).status == 1)
    }

    /// Times that go backwards while seq goes up are a warning from verify, not a failure.
    @Test func timesGoingBackwardsAreAWarning() throws {
        let (dir, id) = try pausedRun()
        defer { try? FileManager.default.removeItem(at: dir) }
        let events = try JournalFile.read(at: journal(dir, id).path).events
        #expect(events.count >= 3)
        // The same run written again by runsheet's own writer, the third event stamped a day earlier.
        let copy = "copy-20261203-120000-abcd"
        let folder = dir.appendingPathComponent("runs/\(copy)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var first = events[0]
        first.data["runId"] = .string(copy)  // a run folder is named for its run (RunBinding)
        try JournalFile.create(at: folder.path + "/journal.jsonl", first: first)
        let file = try JournalFile(path: folder.path + "/journal.jsonl")
        for (index, event) in events.enumerated().dropFirst() {
            var event = event
            if index == 2 { event.time = "2020-01-01T00:00:00.000Z" }
            try file.append(event)
        }
        file.close()
        let result = try runsheet(["verify", copy], in: dir)
        #expect(result.status == 0, "\(result.stdout)")
        #expect(result.stdout.contains("runs/\(copy)/journal.jsonl:3: warning: event 3 is stamped 2020-01-01T00:00:00.000Z, earlier than \(events[1].time) on the line before"),
                "\(result.stdout)")
        #expect(!(try runsheet(["verify", id], in: dir)).stdout.contains("warning"))
    }
}
