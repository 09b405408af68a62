import Foundation
@testable import RunsheetCore
import RunsheetTestSupport
import Testing

private let eventTime = "2026-11-22T04:55:01.123Z"

private struct TestFailure: Error { var text: String }

private func started(_ data: [String: JSONValue] = [:]) -> RunEvent {
    RunEvent(seq: 0, time: eventTime, type: .runStarted, actor: "alice", host: "ops-1", via: "terminal",
             data: ["schema": .string(RunEvent.schema), "runId": "r1"].merging(data) { $1 })
}

private func note(_ text: String, actor: String = "alice") -> RunEvent {
    RunEvent(seq: 0, time: eventTime, type: .note, actor: actor, host: "ops-1", via: "terminal", data: ["text": .string(text)])
}

/// A fresh journal path in its own temporary run folder.
private func journalPath() throws -> String {
    try Fixtures.temporaryDirectory("journal").appendingPathComponent("journal.jsonl").path
}

/// A journal with run.started followed by `notes` note events (11 lines for 10 notes).
private func journal(notes: Int) throws -> String {
    let path = try journalPath()
    try JournalFile.create(at: path, first: started())
    let file = try JournalFile(path: path)
    for index in 1...notes { try file.append(note("note \(index)")) }
    return path
}

private func lines(of path: String) throws -> [String] {
    try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
}

private func write(lines: [String], to path: String) throws {
    try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: false, encoding: .utf8)
}

private func appendRaw(_ text: String, to path: String) throws {
    let handle = try #require(FileHandle(forWritingAtPath: path))
    try handle.seekToEnd()
    try handle.write(contentsOf: Data(text.utf8))
    try handle.close()
}

private final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [String] = []
    func add(_ error: String) { lock.withLock { errors.append(error) } }
    var all: [String] { lock.withLock { errors } }
}

/// Runs each body on its own `Thread` and waits for all of them.
private func onThreads(_ bodies: [@Sendable () throws -> Void]) -> [String] {
    let failures = Failures()
    let done = DispatchSemaphore(value: 0)
    for body in bodies {
        Thread {
            do { try body() } catch { failures.add("\(error)") }
            done.signal()
        }.start()
    }
    for _ in bodies { done.wait() }
    return failures.all
}

@Suite struct JournalFileTests {
    @Test func createAppendAndReadRoundTrip() throws {
        let path = try journalPath()
        var written = [try JournalFile.create(at: path, first: started(["title": "Deploy"]))]
        let file = try JournalFile(path: path)
        written.append(try file.append(RunEvent(seq: 0, time: eventTime, type: .stepStarted, actor: "alice", host: "ops-1", via: "terminal", step: "drain")))
        written.append(try file.append(RunEvent(
            seq: 99, time: eventTime, type: .commandFinished, actor: "alice", host: "ops-1", via: "terminal", step: "drain",
            data: ["index": 0, "attempt": 1, "command": "kubectl drain node-7 --ignore-daemonsets", "exit": 0, "timedOut": false,
                   "interrupted": false, "durationMs": 1234, "outputBytes": 0, "outputFile": "output/drain-1.log",
                   "nested": .array([.object(["x": .null]), -7, "é \"q\" \n 😀"])])))
        file.close()
        written.append(try file.append(note("reopened after close")))

        #expect(written.map(\.seq) == [1, 2, 3, 4])
        let contents = try JournalFile.read(at: path, repair: false)
        #expect(contents.events == written)
        #expect(contents.tornLine == nil)
        let expectedBytes = try written.map { try $0.canonicalJSON() + Data("\n".utf8) }.reduce(Data(), +)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == expectedBytes)
        #expect(file.repairedTornLines.isEmpty)
    }

    /// The state folded while reading (status, resume, the run catalog) is the fold of the events read.
    @Test func streamedStateIsTheFoldOfTheEvents() throws {
        let folders = ["Tests/Fixtures/metrics/runs", "Tests/Fixtures/reports/runs"].map { Fixtures.packageRoot.appendingPathComponent($0) }
        var compared = 0, withRecords = 0
        for folder in folders {
            for id in try FileManager.default.contentsOfDirectory(atPath: folder.path) where !id.hasPrefix(".") {
                let path = folder.appendingPathComponent(id + "/journal.jsonl").path
                let folded = RunState.fold(try JournalFile.read(at: path).events)
                let (streamed, torn) = try JournalFile.state(at: path)
                #expect(torn == nil)
                #expect(streamed == folded && streamed.notes == folded.notes && streamed.signatures == folded.signatures
                        && streamed.actors == folded.actors && streamed.params == folded.params, "\(id)")
                withRecords += streamed.steps.values.contains { !$0.commands.isEmpty } && streamed.steps.values.contains { !$0.notes.isEmpty } ? 1 : 0
                compared += 1
            }
        }
        #expect(compared >= 25 && withRecords >= 1, "\(compared) runs, \(withRecords) with step commands and step notes")
    }

    @Test func hashChainValuesAreTheDocumentedOnes() throws {
        let path = try journalPath()
        let first = try JournalFile.create(at: path, first: RunEvent(
            seq: 7, time: eventTime, type: .runStarted, actor: "alice", host: "ops-1", via: "terminal",
            data: ["runId": "r1", "schema": "runsheet.journal/1"], prev: "ignored", hash: "ignored"))
        let second = try JournalFile(path: path).append(RunEvent(
            seq: 0, time: "2026-11-22T04:56:10.450Z", type: .note, actor: "alice", host: "ops-1", via: "terminal",
            step: "drain", data: ["text": "drained node-7"]))
        // The worked example in docs/JOURNAL.md.
        let firstUnsealed = #"{"actor":"alice","data":{"runId":"r1","schema":"runsheet.journal/1"},"hash":"","host":"ops-1","prev":"","seq":1,"time":"2026-11-22T04:55:01.123Z","type":"run.started","via":"terminal"}"#
        #expect(SHA256Hex.of(firstUnsealed) == "6cce07f225bf98dcd6cadb8c49fcb9e276483891721612dcc7346997301355ad")
        #expect(first.hash == "6cce07f225bf98dcd6cadb8c49fcb9e276483891721612dcc7346997301355ad")
        #expect(first.prev == "" && first.seq == 1)
        #expect(second.prev == first.hash && second.seq == 2)
        #expect(second.hash == "b121d3c7c2778abb0a616e1993af78d7f6b58fef15827b64d0c265fd308c0024")
        #expect(try lines(of: path) == [
            #"{"actor":"alice","data":{"runId":"r1","schema":"runsheet.journal/1"},"hash":"6cce07f225bf98dcd6cadb8c49fcb9e276483891721612dcc7346997301355ad","host":"ops-1","prev":"","seq":1,"time":"2026-11-22T04:55:01.123Z","type":"run.started","via":"terminal"}"#,
            #"{"actor":"alice","data":{"text":"drained node-7"},"hash":"b121d3c7c2778abb0a616e1993af78d7f6b58fef15827b64d0c265fd308c0024","host":"ops-1","prev":"6cce07f225bf98dcd6cadb8c49fcb9e276483891721612dcc7346997301355ad","seq":2,"step":"drain","time":"2026-11-22T04:56:10.450Z","type":"note","via":"terminal"}"#,
        ])
        for event in try JournalFile.read(at: path, repair: false).events { #expect(try event.computedHash() == event.hash) }
    }

    @Test func linesLongerThanTheReadChunkAreFoundFromTheEnd() throws {
        let path = try journalPath()
        try JournalFile.create(at: path, first: started())
        let file = try JournalFile(path: path)
        for size in [10, 5_000, 20_000, 3, 70_000, 1] { try file.append(note(String(repeating: "x", count: size))) }
        let report = try JournalVerifier.verify(path: path)
        #expect(report.isIntact && report.eventCount == 7)
    }

    @Test func refusesWhatIsNotAJournal() throws {
        let path = try journal(notes: 1)
        #expect(throws: JournalError.alreadyExists(path: path)) { try JournalFile.create(at: path, first: started()) }
        let folder = (path as NSString).deletingLastPathComponent
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["journal.jsonl"])  // no staging file left
        let orphan = folder + "/missing/journal.jsonl"
        let error = try #require(throws: JournalError.self) { try JournalFile.create(at: orphan, first: started()) }
        #expect(error == .system(path: orphan, operation: "create", errno: ENOENT))
        #expect(error.localizedDescription == "\(orphan): create failed: No such file or directory.")
        let other = try journalPath()
        #expect(throws: JournalError.notRunStarted(path: other, type: "note")) { try JournalFile.create(at: other, first: note("x")) }
        #expect(throws: JournalError.unsupportedSchema(path: other, schema: "runsheet.journal/2")) {
            try JournalFile.create(at: other, first: started(["schema": "runsheet.journal/2"]))
        }
        #expect(throws: JournalError.notFound(path: other)) { try JournalFile(path: other) }
        #expect(throws: JournalError.notFound(path: other)) { try JournalFile.read(at: other, repair: false) }
        #expect(JournalFile.supports(schema: "runsheet.journal/1") && JournalFile.supports(schema: "runsheet.journal/1.0"))
        // A minor version is the lowest reader that understands the journal: 1.5 needs a newer runsheet (JournalFormatTests).
        #expect(!JournalFile.supports(schema: "runsheet.journal/1.6"))
        #expect(!JournalFile.supports(schema: "runsheet.journal/10") && !JournalFile.supports(schema: "runsheet.journal/1.")
            && !JournalFile.supports(schema: "other/1"))
    }

    @Test func badLinesAreNamedByPathAndLine() throws {
        let path = try journal(notes: 4)
        var text = try lines(of: path)
        text[2] = "{\"actor\":"
        try write(lines: text, to: path)
        let error = try #require(throws: JournalError.self) { try JournalFile.read(at: path, repair: false) }
        #expect(error == .notAnEvent(path: path, line: 3, reason: "invalid JSON"))
        #expect(error.localizedDescription == "\(path):3: not a journal event (invalid JSON).")

        text[2] = text[3].replacingOccurrences(of: "\"type\":\"note\"", with: "\"type\":\"coffee.break\"")
        try write(lines: text, to: path)
        #expect(throws: JournalError.notAnEvent(path: path, line: 3, reason: "unknown event type \"coffee.break\"")) {
            try JournalFile.read(at: path, repair: false)
        }
        // append reads only the last line, but still names it.
        text[2] = text[3]
        text[4] = "[]"
        try write(lines: text, to: path)
        #expect(throws: JournalError.notAnEvent(path: path, line: 5, reason: "not a JSON object")) {
            try JournalFile(path: path).append(note("x"))
        }
        text[4] = text[3].replacingOccurrences(of: "\"seq\":4,", with: "\"seq\":\(Int.max),")
        try write(lines: text, to: path)
        #expect(throws: JournalError.notAnEvent(path: path, line: 5, reason: "seq \(Int.max) is out of range")) {
            try JournalFile(path: path).append(note("x"))
        }
    }

    @Test func tornLineIsDetectedAndRepairedKeepingEarlierEvents() throws {
        let path = try journal(notes: 5)
        let before = try JournalFile.read(at: path, repair: false).events
        let size = try Data(contentsOf: URL(fileURLWithPath: path)).count
        let torn = #"{"actor":"alice","data":{"te"#
        try appendRaw(torn, to: path)

        let detected = try JournalFile.read(at: path, repair: false)
        #expect(detected.events == before)
        #expect(detected.tornLine == TornLine(offset: size, bytes: torn.utf8.count, savedAs: nil))
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)).count == size + torn.utf8.count)  // detection changes nothing
        let report = try JournalVerifier.verify(path: path)
        #expect(report.isIntact && report.eventCount == 6 && report.tornLine?.offset == size)

        let repaired = try JournalFile.read(at: path, repair: true)
        #expect(repaired.events == before)
        #expect(repaired.tornLine == TornLine(offset: size, bytes: torn.utf8.count, savedAs: "\(path).torn-\(size)"))
        #expect(try String(contentsOfFile: "\(path).torn-\(size)", encoding: .utf8) == torn)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)).count == size)
        #expect(try JournalFile.read(at: path, repair: false).tornLine == nil)
    }

    @Test func appendRepairsATornLineFirst() throws {
        let path = try journal(notes: 2)
        let size = try Data(contentsOf: URL(fileURLWithPath: path)).count
        try appendRaw("{\"act", to: path)
        try "{\"actor\":\"b".write(toFile: "\(path).torn-\(size)", atomically: false, encoding: .utf8)  // an earlier crash at the same offset
        let file = try JournalFile(path: path)
        let appended = try file.append(note("after the crash"))
        #expect(appended.seq == 4)
        #expect(file.repairedTornLines == [TornLine(offset: size, bytes: 5, savedAs: "\(path).torn-\(size)-2")])
        #expect(try String(contentsOfFile: "\(path).torn-\(size)-2", encoding: .utf8) == "{\"act")
        let report = try JournalVerifier.verify(path: path)
        #expect(report.isIntact && report.eventCount == 4 && report.headHash == appended.hash)
    }

    /// An instance remembers where its last append ended; anything written since makes it read the end again.
    @Test func appendReadsTheEndAgainAfterAnotherWriter() throws {
        let path = try journal(notes: 1)
        let first = try JournalFile(path: path), second = try JournalFile(path: path)
        var seqs = [try first.append(note("first")).seq, try second.append(note("second")).seq, try first.append(note("first again")).seq]
        let size = try Data(contentsOf: URL(fileURLWithPath: path)).count
        try appendRaw("{\"act", to: path)  // a crash in the middle of someone else's write
        seqs.append(try first.append(note("after the crash")).seq)
        seqs.append(try second.append(note("second again")).seq)
        #expect(seqs == [3, 4, 5, 6, 7])
        #expect(first.repairedTornLines == [TornLine(offset: size, bytes: 5, savedAs: "\(path).torn-\(size)")])
        let report = try JournalVerifier.verify(path: path)
        #expect(report.isIntact && report.eventCount == 7 && report.tornLine == nil)
    }

    /// A rewrite in place that keeps the size (`cp` over the journal) is seen by its modification time.
    @Test func appendReadsTheEndAgainAfterASameSizeRewrite() throws {
        let path = try journal(notes: 1)
        let file = try JournalFile(path: path)
        let last = try file.append(note("X"))
        var text = try lines(of: path)
        let replacement = try note("Y").sealed(seq: last.seq, after: last.prev)
        text[text.count - 1] = String(decoding: try replacement.canonicalJSON(), as: UTF8.self)
        #expect(text.last!.utf8.count == (try last.canonicalJSON()).count)
        Thread.sleep(forTimeInterval: 0.05)  // past the filesystem's timestamp granularity
        try write(lines: text, to: path)
        #expect(try file.append(note("after the rewrite")).prev == replacement.hash)
        #expect(try JournalVerifier.verify(path: path).isIntact)
    }

    /// An instance that wrote seq Int.max reports the next append as out of range, as a new one would.
    @Test func lastSeqOutOfRangeAfterOwnAppend() throws {
        let path = try journalPath()
        try JournalFile.create(at: path, first: started())
        var text = try lines(of: path)
        let before = try note("almost").sealed(seq: Int.max - 1, after: try JournalFile.read(at: path).events[0].hash)
        text.append(String(decoding: try before.canonicalJSON(), as: UTF8.self))
        try write(lines: text, to: path)
        let file = try JournalFile(path: path)
        #expect(try file.append(note("last")).seq == Int.max)
        #expect(throws: JournalError.notAnEvent(path: path, line: 3, reason: "seq \(Int.max) is out of range")) {
            try file.append(note("one too many"))
        }
    }

    @Test func twoThreadsWithTheirOwnDescriptorsNeverInterleave() throws {
        let path = try journalPath()
        try JournalFile.create(at: path, first: started())
        let failures = onThreads((0..<2).map { worker in
            { let file = try JournalFile(path: path); for index in 1...1_000 { try file.append(note("thread \(worker) #\(index)")) } }
        })
        #expect(failures.isEmpty)
        try expectIntact(path, events: 2_001, writers: ["thread 0": 1_000, "thread 1": 1_000])
    }

    @Test func threadsSharingOneInstanceNeverInterleave() throws {
        let path = try journalPath()
        try JournalFile.create(at: path, first: started())
        let file = try JournalFile(path: path)
        let failures = onThreads((0..<2).map { worker in
            { for index in 1...300 { try file.append(note("shared \(worker) #\(index)")) } }
        })
        #expect(failures.isEmpty)
        try expectIntact(path, events: 601, writers: ["shared 0": 300, "shared 1": 300])
    }

    /// A Python process appends chained events under `fcntl.flock` while this process appends too.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")))
    func anotherProcessHonoursTheLock() throws {
        let path = try journalPath()
        try JournalFile.create(at: path, first: started())
        let script = try journalPath().replacingOccurrences(of: "journal.jsonl", with: "append.py")
        try pythonAppender.write(toFile: script, atomically: true, encoding: .utf8)
        let pythonDone = Failures()
        var bodies: [@Sendable () throws -> Void] = [
            {
                // Started once Swift's writer is appending, so the two overlap even when this
                // thread is scheduled first on a busy machine.
                let deadline = Date().addingTimeInterval(30)
                while Date() < deadline, !((try? String(contentsOfFile: path, encoding: .utf8))?.contains("\"swift\"") ?? false) { usleep(1000) }
                let result = try Fixtures.run("/usr/bin/python3", [script, path, "400", "python"])
                if result.status != 0 { throw TestFailure(text: "python3: \(result.stderr)") }
                pythonDone.add("done")
            },
            {
                // Keep appending until Python has finished, so the two really overlap.
                let file = try JournalFile(path: path)
                var index = 0
                while index < 200 || pythonDone.all.isEmpty {
                    index += 1
                    try file.append(note("swift #\(index)", actor: "swift"))
                }
            },
        ]
        let bench = Fixtures.binary.deletingLastPathComponent().appendingPathComponent("runsheet-bench").path
        let benchWriters = FileManager.default.isExecutableFile(atPath: bench) ? ["bench-a", "bench-b"] : []
        for name in benchWriters {
            bodies.append {
                let result = try Fixtures.run(bench, ["notes", path, "300", name])
                if result.status != 0 { throw TestFailure(text: "runsheet-bench: \(result.stderr)") }
            }
        }
        let failures = onThreads(bodies)
        #expect(failures.isEmpty)

        let events = try JournalFile.read(at: path, repair: false).events
        let swiftCount = events.filter { $0.actor == "swift" }.count
        try expectIntact(path, events: 1 + 400 + swiftCount + 300 * benchWriters.count,
                         writers: ["python": 400].merging(benchWriters.map { ($0, 300) }) { $1 })
        // Python's events are spread among Swift's, not in one block: the processes took turns.
        let pythonLines = events.indices.filter { events[$0].actor == "python" }
        #expect(pythonLines.last! - pythonLines.first! + 1 > pythonLines.count)
    }

    private func expectIntact(_ path: String, events count: Int, writers: [String: Int],
                              sourceLocation: SourceLocation = #_sourceLocation) throws {
        let events = try JournalFile.read(at: path, repair: false).events
        #expect(events.count == count, sourceLocation: sourceLocation)
        #expect(events.map(\.seq) == Array(1...events.count), sourceLocation: sourceLocation)
        for (writer, expected) in writers {
            let written = events.filter { $0.data["text"]?.string?.hasPrefix(writer + " ") ?? false || $0.actor == writer }
            #expect(written.count == expected, "\(writer)", sourceLocation: sourceLocation)
        }
        let report = try JournalVerifier.verify(path: path)
        #expect(report.problem == nil, sourceLocation: sourceLocation)
        #expect(report.eventCount == count && report.headHash == events.last?.hash, sourceLocation: sourceLocation)
    }
}

/// Appends argv[2] chained note events written by actor argv[3], each under flock like runsheet.
private let pythonAppender = #"""
import fcntl, hashlib, json, os, sys

path, count, actor = sys.argv[1], int(sys.argv[2]), sys.argv[3]

def canonical(event):
    return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

fd = os.open(path, os.O_RDWR | os.O_APPEND)
for index in range(1, count + 1):
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        size = os.fstat(fd).st_size
        tail = os.pread(fd, min(size, 65536), max(0, size - 65536))
        assert tail.endswith(b"\n"), "torn line"
        last = json.loads(tail[:-1].rsplit(b"\n", 1)[-1])
        event = {"actor": actor, "data": {"text": f"{actor} #{index}"}, "hash": "", "host": "ops-2",
                 "prev": last["hash"], "seq": last["seq"] + 1, "time": "2026-11-22T04:55:01.123Z",
                 "type": "note", "via": "script"}
        event["hash"] = hashlib.sha256(canonical(event)).hexdigest()
        os.write(fd, canonical(event) + b"\n")
        os.fsync(fd)
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
"""#

@Suite struct JournalVerifierTests {
    /// A journal of run.started and 9 notes (10 lines) with one change applied to its lines.
    private func tampered(_ change: (inout [String]) throws -> Void) throws -> VerificationReport {
        let path = try journal(notes: 9)
        var text = try lines(of: path)
        try change(&text)
        try write(lines: text, to: path)
        let report = try JournalVerifier.verify(path: path)
        // The fold every command reads with finds the same first problem (or stops at a line that
        // is not an event, or a first line that is not run.started, with a JournalError).
        if let fold = try? JournalFile.verifiedState(at: path) {
            #expect(fold.problem == report.problem)
            #expect(try JournalFile.verifiedRead(at: path).problem == report.problem)
        }
        return report
    }

    @Test func intactJournalReportsCountAndHead() throws {
        let path = try journal(notes: 9)
        let report = try JournalVerifier.verify(path: path)
        let events = try JournalFile.read(at: path, repair: false).events
        #expect(report.isIntact && report.eventCount == 10)
        #expect(report.headHash == events.last?.hash)
    }

    @Test func flippedByteInAMiddleLineIsAltered() throws {
        let report = try tampered { text in
            var bytes = Array(text[4].utf8)
            let at = try #require(text[4].range(of: "note 4")).lowerBound.utf16Offset(in: text[4])
            bytes[at] ^= 0x01  // "note 4" becomes "oote 4"
            text[4] = String(decoding: bytes, as: UTF8.self)
        }
        #expect(report.problem?.kind == .altered && report.problem?.line == 5 && report.problem?.seq == 5)
        #expect(report.headHash == nil)
    }

    @Test func flippedStructuralByteIsUnreadable() throws {
        let report = try tampered { text in text[6] = text[6].replacingOccurrences(of: "\"seq\":", with: "\"seq\";") }
        #expect(report.problem == JournalProblem(kind: .unreadable, line: 7, seq: nil, message: "not a journal event (invalid JSON)"))
    }

    @Test func deletedMiddleLineIsRemoved() throws {
        let report = try tampered { text in text.remove(at: 4) }
        #expect(report.problem == JournalProblem(kind: .removed, line: 5, seq: 6,
                                                 message: "the event with seq 5 is missing before this line, so it was removed"))
        #expect(report.eventCount == 9)
    }

    @Test func swappedLinesAreReordered() throws {
        let report = try tampered { text in text.swapAt(3, 4) }
        #expect(report.problem?.kind == .reordered && report.problem?.line == 4 && report.problem?.seq == 5)
        #expect(report.problem?.message == "seq 5 comes before seq 4 on line 5, so lines are out of order")
    }

    @Test func editedLastLineIsAltered() throws {
        let report = try tampered { text in text[9] = text[9].replacingOccurrences(of: "note 9", with: "note X") }
        #expect(report.problem?.kind == .altered && report.problem?.line == 10)
    }

    @Test func rewrittenAndRehashedLineIsCaughtByTheNextOne() throws {
        let report = try tampered { text in
            var event = try JSONDecoder().decode(RunEvent.self, from: Data(text[3].utf8))
            event.data["text"] = "nothing happened"
            event = try event.sealed(seq: event.seq, after: event.prev)
            text[3] = String(decoding: try event.canonicalJSON(), as: UTF8.self)
        }
        #expect(report.problem?.kind == .altered && report.problem?.line == 4 && report.problem?.seq == 4)
    }

    @Test func reformattedLineIsAlteredEvenIfItsHashStillMatches() throws {
        let report = try tampered { text in text[2] = text[2].replacingOccurrences(of: "\"seq\":3,", with: "\"seq\": 3,\"extra\":1,") }
        #expect(report.problem?.kind == .altered && report.problem?.line == 3)
        #expect(report.problem?.message.contains("canonical") == true)
    }

    @Test func duplicatedAndMissingStartAreNamed() throws {
        #expect(try tampered { text in text.insert(text[5], at: 6) }.problem?.kind == .duplicated)
        let headless = try tampered { text in text.removeFirst() }
        #expect(headless.problem?.kind == .removed && headless.problem?.line == 1)
    }

    @Test func removingTrailingLinesCannotBeSeenFromTheFileAlone() throws {
        let report = try tampered { text in text.removeLast(3) }
        #expect(report.isIntact && report.eventCount == 7)  // documented limit: needs an outside anchor
    }
}

@Suite struct FastEventDecoderTests {
    private func decodeFast(_ line: [UInt8]) -> RunEvent? {
        line.withUnsafeBufferPointer { FastEventDecoder.decode($0, 0..<$0.count) }
    }

    private func randomValue(depth: Int, using generator: inout some RandomNumberGenerator) -> JSONValue {
        let texts = ["", "plain", "é😀", "q\"b\\s/", "\u{0}\u{1}\u{1f}\u{7f}", "\n\r\t\u{8}\u{c}", "\u{2028}\u{FFFF}", "ａ"]
        switch Int.random(in: 0..<(depth > 2 ? 4 : 6), using: &generator) {
        case 0: return .string(texts.randomElement(using: &generator)! + String(Int.random(in: 0...99, using: &generator)))
        case 1: return .int([Int.min, Int.max, 0, -1, Int.random(in: -1_000_000...1_000_000, using: &generator)].randomElement(using: &generator)!)
        case 2: return .bool(Bool.random(using: &generator))
        case 3: return .null
        case 4: return .array((0..<Int.random(in: 0...3, using: &generator)).map { _ in randomValue(depth: depth + 1, using: &generator) })
        default:
            return .object(Dictionary((0..<Int.random(in: 0...3, using: &generator)).map { index in
                ("k\(index)\(texts.randomElement(using: &generator)!)", randomValue(depth: depth + 1, using: &generator))
            }) { first, _ in first })
        }
    }

    /// The fast decoder returns exactly what JSONDecoder returns, or declines.
    @Test func agreesWithJSONDecoder() throws {
        var generator = SystemRandomNumberGenerator()
        let decoder = JSONDecoder()
        var samples: [[UInt8]] = []
        for seq in 1...300 {
            let data = Dictionary((0..<Int.random(in: 0...4, using: &generator)).map { ("f\($0)", randomValue(depth: 0, using: &generator)) }) { a, _ in a }
            let event = RunEvent(seq: seq, time: eventTime, type: EventType.allCases.randomElement(using: &generator)!, actor: "a\u{e9}\"",
                                 host: "h/1", via: "v", step: Bool.random(using: &generator) ? nil : "s\\\(seq)", data: data, prev: "p", hash: "h")
            let line = Array(try event.canonicalJSON())
            #expect(decodeFast(line) == event)
            samples.append(line)
        }
        samples.append(Array(#"{"actor":"a\u00e9\ud83d\ude00\n\/","data":{"x":[1,-2,{"y":null}]},"hash":"","host":"h","prev":"","seq":1,"step":null,"time":"t","type":"note","via":"v","extra":[true,{"z":1}]}"#.utf8))
        #expect(decodeFast(samples.last!) == (try decoder.decode(RunEvent.self, from: Data(samples.last!))))
        let alphabet = Array(#"{}[]",:\u0123456789abcdefnulltrue-.eE "#.utf8) + [0, 0x80, 0xC3, 0xA9, 0xFF, 0x0A, 0xED]
        var accepted = 0
        for _ in 0..<20_000 {
            var line = samples.randomElement(using: &generator)!
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                let at = Int.random(in: 0..<line.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: line[at] = alphabet.randomElement(using: &generator)!
                case 1: line.insert(alphabet.randomElement(using: &generator)!, at: at)
                default: if line.count > 1 { line.remove(at: at) }
                }
            }
            guard let fast = decodeFast(line) else { continue }
            accepted += 1
            let reference = try? decoder.decode(RunEvent.self, from: Data(line))
            #expect(fast == reference, "\(String(decoding: line, as: UTF8.self))")
        }
        #expect(accepted > 1_000)
    }

    /// Strings are scanned eight bytes at a time while no byte is special: a quote, a backslash, a
    /// control character or a byte past ASCII at any place of a long string, in any field, gives
    /// what JSONDecoder gives (the same event, or a refusal).
    @Test func aSpecialByteAnywhereInALongStringIsSeen() throws {
        let decoder = JSONDecoder()
        let specials: [[UInt8]] = [Array(#"\""#.utf8), Array(#"\\"#.utf8), Array(#"\n"#.utf8), Array(#"\u0041"#.utf8), [0x22], [0x01], [0x1F], [0x7F],
                                   [0x80], [0xC3, 0xA9], [0xE2, 0x80, 0xA8], [0xF0, 0x9F, 0x98, 0x80], [0xFF], [0xC3], [0x5C]]
        var compared = 0
        for field in ["actor", "time", "hash", "text"] {
            for length in [7, 8, 9, 15, 16, 17, 31] {
                for at in 0...length {
                    for special in specials {
                        var value = Array(repeating: UInt8(ascii: "x"), count: length)
                        value.insert(contentsOf: special, at: at)
                        func text(_ name: String) -> [UInt8] { name == field ? value : Array("plain-\(name)".utf8) }
                        let line = Array(#"{"actor":""#.utf8) + text("actor") + Array(#"","data":{"text":""#.utf8) + text("text")
                            + Array(#""},"hash":""#.utf8) + text("hash") + Array(#"","host":"h","prev":"","seq":1,"time":""#.utf8) + text("time")
                            + Array(#"","type":"note","via":"v"}"#.utf8)
                        let reference = try? decoder.decode(RunEvent.self, from: Data(line))
                        let fast = decodeFast(line)
                        #expect(fast == nil || fast == reference, "\(field) \(length) \(at) \(special)")
                        if special.count == 1 && special[0] == 0x7F || special == [0xC3, 0xA9] || special == Array(#"\""#.utf8) {
                            #expect(fast != nil && fast == reference, "\(field) \(length) \(at) \(special)")
                        }
                        if [[0x22], [0x01], [0x1F], [0xFF], [0xC3], [0x5C]].contains(special) && !(special == [0x5C] && at == length) {
                            #expect(fast == nil, "\(field) \(length) \(at) \(special)")
                        }
                        compared += 1
                    }
                }
            }
        }
        #expect(compared > 4_000)
    }

    /// A line the decoder calls canonical is byte for byte the canonical encoding of its event, so
    /// hashing the line's own bytes (as verification does) is hashing that encoding. Every other
    /// spelling of the same event (spaces, `\/`, `\u00e9`, upper-case hex, `"step":null`, an extra
    /// or a moved field) is left to encoding the event again.
    @Test func aLineCalledCanonicalIsTheCanonicalEncoding() throws {
        var generator = SystemRandomNumberGenerator()
        var samples: [[UInt8]] = []
        for seq in 1...300 {
            var data = Dictionary((0..<Int.random(in: 0...4, using: &generator)).map { ("f\($0)", randomValue(depth: 0, using: &generator)) }) { a, _ in a }
            if seq.isMultiple(of: 10) { data["ké"] = .int(seq) }  // a non-ASCII key: its order is JSONEncoder's to decide
            let event = RunEvent(seq: seq, time: eventTime, type: EventType.allCases.randomElement(using: &generator)!, actor: "a\u{e9}\"/\u{1f}",
                                 host: "h/1", via: "v", step: Bool.random(using: &generator) ? nil : "s\\\(seq)", data: data, prev: "p")
            let (_, line) = try JournalFile.seal(event, seq: seq, after: "p")
            let bytes = Array(line.dropLast())
            let checked = try #require(bytes.withUnsafeBufferPointer { FastEventDecoder.decodeChecked($0, 0..<$0.count) })
            // Keys outside ASCII or with escapes (the random values have some) are left to encoding again.
            if seq.isMultiple(of: 10) { #expect(checked.hashValue == nil) }
            if checked.hashValue != nil { #expect(try checked.event.canonicalBytes() == bytes) }
            samples.append(bytes)
        }
        #expect(samples.filter { line in line.withUnsafeBufferPointer { FastEventDecoder.decodeChecked($0, 0..<$0.count)?.hashValue != nil } }.count > 50)
        let rewrites: [(String, String)] = [(",", ", "), (":", " : "), ("/", "\\/"), ("é", "\\u00e9"), ("\\u001f", "\\u001F"),
                                            ("\\\"", "\\u0022"), (#","time""#, #","step":null,"time""#), (#","via""#, #","extra":1,"via""#),
                                            (#"{"actor""#, #"{"zzz":0,"actor""#), ("{", "{ ")]
        var canonical = 0, declined = 0
        let alphabet = Array(#"{}[]",:\u0123456789abcdefABCDEFnulltrue-/ "#.utf8)
        for round in 0..<6_000 {
            var line = samples.randomElement(using: &generator)!
            if round.isMultiple(of: 2) {
                let (from, to) = rewrites.randomElement(using: &generator)!
                var text = String(decoding: line, as: UTF8.self)
                guard let range = text.range(of: from) else { continue }
                text.replaceSubrange(range, with: to)
                line = Array(text.utf8)
            } else {
                let at = Int.random(in: 0..<line.count, using: &generator)
                line[at] = alphabet.randomElement(using: &generator)!
            }
            guard let checked = line.withUnsafeBufferPointer({ FastEventDecoder.decodeChecked($0, 0..<$0.count) }) else { continue }
            guard let hashValue = checked.hashValue else {
                declined += 1
                continue
            }
            canonical += 1
            var unsealed = checked.event
            unsealed.hash = ""
            #expect(try checked.event.canonicalBytes() == line, "\(String(decoding: line, as: UTF8.self))")
            #expect(Array(line[..<hashValue.lowerBound] + line[hashValue.upperBound...]) == (try unsealed.canonicalBytes()))
        }
        #expect(canonical > 200 && declined > 1_000, "\(canonical) called canonical, \(declined) declined")
    }

    /// Names and types are matched on their bytes: one written with an escape, or a top-level name
    /// outside ASCII, is declined and read by JSONDecoder, as is a repeated name inside `data`; a
    /// `data` object with more members than the decoder first makes room for reads whole.
    @Test func namesWithEscapesAndRepeatedMembersAreLeftToJSONDecoder() throws {
        let rest = #""actor":"a","data":{},"hash":"","host":"h","prev":"","step":null,"time":"t","via":"v""#
        let declined = [
            #"{"s\u0065q":1,"type":"note","#, #"{"seq":1,"type":"not\u0065","#, #"{"seq":1,"type":"note","\u00e9":0,"#,
            #"{"seq":1,"type":"note","é":0,"#,
        ].map { Array(($0 + rest + "}").utf8) }
        for line in declined {
            #expect(decodeFast(line) == nil, "\(String(decoding: line, as: UTF8.self))")
            let event = try JSONDecoder().decode(RunEvent.self, from: Data(line))
            #expect(try line.withUnsafeBufferPointer { try JournalFile.decodeLine($0, 0..<$0.count, path: "p") { 1 } } == event)
            #expect(event.seq == 1 && event.type == .note)
        }
        let repeated = Array(#"{"seq":1,"type":"note","actor":"a","data":{"text":"x","text":"y"},"hash":"","host":"h","prev":"","time":"t","via":"v"}"#.utf8)
        #expect(decodeFast(repeated) == nil)
        let wide = RunEvent(seq: 2, time: eventTime, type: .commandFinished, actor: "a", host: "h", via: "v", step: "s",
                            data: Dictionary(uniqueKeysWithValues: (0..<40).map { ("k\($0)", JSONValue.int($0)) }), prev: "p", hash: "h")
        #expect(decodeFast(Array(try wide.canonicalJSON())) == wide)
    }

    /// Appending encodes each event once and fills in the hash; the bytes must be those of `sealed`.
    @Test func sealingMatchesRunEventSealed() throws {
        var generator = SystemRandomNumberGenerator()
        for seq in 1...200 {
            let data = Dictionary((0..<Int.random(in: 0...5, using: &generator)).map { ("hash\($0)", randomValue(depth: 0, using: &generator)) }) { a, _ in a }
            let event = RunEvent(seq: 0, time: eventTime, type: .note, actor: #"a "hash":"" b"#, host: "h", via: "v",
                                 step: seq.isMultiple(of: 2) ? nil : #""hash":"""#, data: data)
            let (sealed, line) = try JournalFile.seal(event, seq: seq, after: "p\(seq)")
            let reference = try event.sealed(seq: seq, after: "p\(seq)")
            #expect(sealed == reference)
            #expect(Data(line) == (try reference.canonicalJSON()) + Data("\n".utf8))
        }
    }

    /// The hand-written canonical encoding is byte for byte JSONEncoder's, the documented reference.
    @Test func canonicalWriterWritesWhatJSONEncoderWrites() throws {
        var generator = SystemRandomNumberGenerator()
        let keyParts = ["a", "A", "a9", "a10", "Z", "_", "-", "z.", " ", "~", "\"", "\\", "/", "\n", "\u{7f}", "0", "runId", "runbook"]
        let controls = String(String.UnicodeScalarView((0..<0x20).map { Unicode.Scalar(UInt8($0)) }))
        var written = 0, declined = 0
        for seq in 1...500 {
            var data: [String: JSONValue] = [:]
            for _ in 0..<Int.random(in: 0...6, using: &generator) {
                let key = (0..<Int.random(in: 0...3, using: &generator)).map { _ in keyParts.randomElement(using: &generator)! }.joined()
                data[key] = randomValue(depth: 0, using: &generator)
            }
            if seq.isMultiple(of: 5) { data["ké\(seq % 3)"] = .string(controls) }  // a non-ASCII key: JSONEncoder decides
            if seq.isMultiple(of: 7) { data["deep"] = (0..<70).reduce(JSONValue.int(seq)) { inner, _ in .array([inner]) } }
            let event = RunEvent(seq: seq, time: eventTime, type: EventType.allCases.randomElement(using: &generator)!,
                                 actor: controls + "\u{7f}é😀\"\\/", host: "h/\(seq)", via: "v\u{2028}",
                                 step: seq.isMultiple(of: 3) ? nil : "s\\\(seq)", data: data, prev: "p\(seq)", hash: seq.isMultiple(of: 2) ? "" : "h")
            let reference = Array(try RunEvent.canonicalEncoder.encode(event))
            /// Whether a key anywhere in `value` is not ASCII.
            func nonASCIIKey(_ value: JSONValue) -> Bool {
                switch value {
                case .object(let members): members.contains { !$0.key.allSatisfy(\.isASCII) || nonASCIIKey($0.value) }
                case .array(let elements): elements.contains(where: nonASCIIKey)
                default: false
                }
            }
            if let fast = CanonicalEventWriter.encode(event) {
                #expect(fast == reference, "\(String(decoding: reference, as: UTF8.self))")
                written += 1
            } else {
                declined += 1
            }
            #expect((CanonicalEventWriter.encode(event) == nil) == (nonASCIIKey(.object(data)) || data["deep"] != nil))
            #expect(Array(try event.canonicalJSON()) == reference)
        }
        #expect(written > 200 && declined > 100, "\(written) written, \(declined) declined")
    }
}

@Suite struct TimestampTests {
    @Test func journalTimesReadTheSameWithAndWithoutAFormatter() throws {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var seconds = -2_000_000_000.0
        while seconds < 4_000_000_000 {
            let date = Date(timeIntervalSince1970: seconds)
            let text = Timestamp.format(date)
            #expect(Timestamp.parse(text) == formatter.date(from: text), "\(text)")
            seconds += 12_345_678.901
        }
        #expect(Timestamp.parse("2024-02-29T23:59:59.999Z") == formatter.date(from: "2024-02-29T23:59:59.999Z"))
        #expect(Timestamp.parse("2026-13-01T00:00:00.000Z") == nil)
        #expect(Timestamp.parse("2026-11-22T04:55:01Z") != nil, "other ISO 8601 forms still go through the formatter")
    }

    /// Timestamps are written digit by digit; the bytes are what `%04d-%02d-…` makes of gmtime's fields.
    @Test func journalTimesAreWrittenAsPrintfWouldWriteThem() {
        var seconds = -70_000_000_000.0  // year -248: a minus sign inside the padding
        while seconds < 300_000_000_000 {  // year 11476: five digits
            let date = Date(timeIntervalSince1970: seconds)
            var t = time_t(seconds.rounded(.down))
            var parts = tm()
            gmtime_r(&t, &parts)
            let reference = String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                                   Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec),
                                   Int(((seconds - Double(t)) * 1_000_000).rounded()) / 1000 % 1000)
            #expect(Timestamp.format(date) == reference)
            seconds += 123_456_789.987
        }
        #expect(Timestamp.format(Date(timeIntervalSince1970: 1_795_323_301.123_9)) == "2026-11-22T04:55:01.123Z")
    }

    /// A time read back from its own text writes the same text: `readiness --at` shows the time it was given.
    @Test func aJournalTimeReadBackIsWrittenTheSame() throws {
        for millis in 0..<1000 {
            for text in ["2026-11-22T04:55:01", "1999-12-31T23:59:59", "2099-06-30T12:00:00"].map({ $0 + "." + String(1000 + millis).dropFirst() + "Z" }) {
                #expect(Timestamp.format(try #require(Timestamp.parse(text))) == text)
            }
        }
    }
}
