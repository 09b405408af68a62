import Foundation
@testable import RunsheetCore
import Testing

/// The fold that keeps no event (`status`, resume, the run catalog) reads the payloads of a long
/// run's events straight from the line, without making each event's `data` dictionary
/// (docs/BENCHMARKS.md, "Journal", 2026-12-04 evening). What it reads, and what it checks, must be
/// what reading `data` gives.
@Suite struct FoldedPayloadTests {
    let alice = Actor(name: "alice", host: "h", via: "terminal")
    static let time = "2026-12-04T10:00:00.000Z"

    /// The payloads read from the line (`decodeFolded`).
    static let readFromTheLine: Set<EventType> = [.stepStarted, .stepCompleted, .stepSkipped, .stepFailed, .commandFinished, .note, .branchTaken, .runEnded]

    static let payloads: [EventPayload] = [
        .stepStarted(StepStarted()), .stepCompleted(StepCompleted(next: "b")), .stepCompleted(StepCompleted(next: nil)),
        .stepSkipped(StepSkipped(reason: "not needed", automatic: true, next: "c")), .stepFailed(StepFailed(reason: "broke", next: nil)),
        .commandFinished(CommandFinished(index: 1, attempt: 2, command: "kubectl get pods", exit: 0, timedOut: false, interrupted: false,
                                         durationMs: 5, outputBytes: 3, outputSha256: String(repeating: "a", count: 64), outputFile: "output/a-1.log", passed: true)),
        .commandFinished(CommandFinished(index: 2, attempt: 1, command: "false", exit: nil, signal: 9, timedOut: true, interrupted: true,
                                         durationMs: 1, outputBytes: nil, outputSha256: nil, outputFile: nil, passed: false)),
        .note(NoteTaken(text: "é \"quoted\" \\ line\nbreak")), .note(NoteTaken(text: "lesson", lesson: true)),
        .branchTaken(BranchTaken(from: "a", to: "rollback", kind: "failure")), .runEnded(RunEnded(outcome: .completed, reason: nil)),
        .runEnded(RunEnded(outcome: .aborted, reason: "stop")), .cursorMoved(CursorMoved(to: "a", reason: "back")),
    ]

    /// Every line a fold reads from the line gives the event and payload that reading its `data`
    /// gives, and the same place of its hash; where it does not (not canonical, signed, another
    /// type), the event comes back whole, `data` included.
    @Test func aPayloadReadFromTheLineIsThePayloadOfItsData() throws {
        var generator = SystemRandomNumberGenerator()
        var fromTheLine = 0, declined = 0
        let odd: [(String, JSONValue)] = [("exit", "0"), ("passed", 1), ("next", 3), ("text", .null), ("index", .array([])),
                                          ("outcome", "exploded"), ("lesson", "yes"), ("zz", .object(["a": 1])), ("ké", 1), ("reason", .bool(true))]
        for seq in 1...600 {
            let payload = Self.payloads.randomElement(using: &generator)!
            var event = try RunEvent(time: Self.time, by: alice, step: Bool.random(using: &generator) ? "s\(seq)" : nil, payload)
            // Fields of the wrong kind, missing or unknown: read leniently, as from `data`.
            if Int.random(in: 0..<3, using: &generator) == 0, let (key, value) = odd.randomElement(using: &generator) { event.data[key] = value }
            if Int.random(in: 0..<4, using: &generator) == 0, let key = event.data.keys.randomElement(using: &generator) { event.data[key] = nil }
            if Int.random(in: 0..<8, using: &generator) == 0 { event.signature = "-----BEGIN SSH SIGNATURE-----\n-----END SSH SIGNATURE-----" }
            var line = Array(try JournalFile.seal(event, seq: seq, after: "p").line.dropLast())
            if Int.random(in: 0..<6, using: &generator) == 0 {
                var text = String(decoding: line, as: UTF8.self)
                text = text.replacingOccurrences(of: ",\"", with: ", \"")  // not canonical any more
                line = Array(text.utf8)
            }
            let checked = try #require(line.withUnsafeBufferPointer { FastEventDecoder.decodeChecked($0, 0..<$0.count) })
            let folded = try #require(line.withUnsafeBufferPointer { FastEventDecoder.decodeFolded($0, 0..<$0.count, after: nil) })
            #expect(folded.hashValue == checked.hashValue)
            guard let read = folded.payload else {
                #expect(folded.event == checked.event)
                declined += 1
                continue
            }
            fromTheLine += 1
            #expect(Self.readFromTheLine.contains(checked.event.type) && checked.hashValue != nil && checked.event.signature == nil)
            #expect(folded.event.data.isEmpty)
            #expect(read == (try checked.event.payload()), "\(String(decoding: line, as: UTF8.self))")
            var whole = folded.event
            whole.data = checked.event.data
            #expect(whole == checked.event)
        }
        #expect(fromTheLine > 200 && declined > 100, "\(fromTheLine) read from the line, \(declined) declined")
    }

    /// A journal of such events folds, verifying, into the run that folding its events gives; a
    /// `data` field changed without its hash is still found, on its line.
    @Test func theVerifyingFoldIsTheFoldOfTheEventsAndStillFindsAnEditedField() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("folded-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = folder + "/journal.jsonl"
        let started = RunStarted(schema: JournalFormat.written, runId: "r1", runbook: "r.md", runbookId: "r", title: "R",
                                 sha256: "ab", stepHashes: [:], runsheetVersion: "0")
        var events = [try RunEvent(time: Self.time, by: alice, .runStarted(started))]
        for round in 0..<3 {
            for payload in Self.payloads where payload.type != .runEnded {
                events.append(try RunEvent(time: Self.time, by: alice, step: "s\(round)", payload))
            }
        }
        events.append(try RunEvent(time: Self.time, by: alice, .note(NoteTaken(text: "about the run"))))
        events.append(try RunEvent(time: Self.time, by: alice, .runEnded(RunEnded(outcome: .failed, reason: "broke"))))
        // Sealed and written as they are: the append rules would refuse some of them, and the fold must not care.
        var bytes: [UInt8] = [], previous = ""
        for (index, event) in events.enumerated() {
            let (sealed, line) = try JournalFile.seal(event, seq: index + 1, after: previous)
            bytes += line
            previous = sealed.hash
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))

        let fold = try JournalFile.verifiedState(at: path)
        let folded = RunState.fold(try JournalFile.read(at: path).events)
        #expect(fold.problem == nil)
        #expect(fold.state == folded && fold.state.notes == folded.notes && fold.state.steps["s1"]?.commands.count == 2)
        #expect(try JournalFile.state(at: path).state == folded)

        // exit 0 made 1 on the first command.finished, its hash left as it was.
        var lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        let edited = try #require(lines.firstIndex { $0.contains("\"type\":\"command.finished\"") && $0.contains("\"exit\":0") })
        lines[edited] = lines[edited].replacingOccurrences(of: "\"exit\":0", with: "\"exit\":1")
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: false, encoding: .utf8)
        let problem = try #require(try JournalFile.verifiedState(at: path).problem)
        #expect(problem.line == edited + 1)
        #expect(try JournalVerifier.verify(path: path).problem?.line == edited + 1)
    }
}
