import Foundation
@testable import RunsheetCore
import RunsheetTestSupport
import Testing

/// Every event type has a typed payload, written as the same `data` the journal always held.
@Suite struct EventPayloadTests {
    /// Each payload with the `data` object runsheet wrote for it before payloads were types (the
    /// dictionaries the engine, the gates and the command runner used to build by hand).
    static let written: [(EventPayload, [String: JSONValue])] = [
        (.runStarted(RunStarted(runId: "r1", runbook: "runbooks/deploy.md", runbookId: "deploy", title: "Deploy", sha256: "ab",
                                gitCommit: "c0ffee", params: ["version": "1.2", "token": "••••"], releaseClass: .emergency,
                                stepHashes: ["one": "0123456789abcdef"], runsheetVersion: "0.9.0", start: "one",
                                followUp: .init(roles: ["sre", "dba"], within: 432_000), service: "checkout", environment: "production",
                                production: ["one"])),
         ["schema": "runsheet.journal/1.2", "runId": "r1", "runbook": "runbooks/deploy.md", "runbookId": "deploy", "title": "Deploy",
          "sha256": "ab", "gitCommit": "c0ffee", "params": .object(["version": "1.2", "token": "••••"]), "class": "emergency",
          "stepHashes": .object(["one": "0123456789abcdef"]), "runsheetVersion": "0.9.0", "start": "one",
          "followUp": .object(["roles": .array(["sre", "dba"]), "within": 432_000]), "service": "checkout",
          "environment": "production", "production": .array(["one"])]),
        (.runStarted(RunStarted(runId: "r2", runbook: "r.md", runbookId: "r", title: "R", sha256: "cd", runsheetVersion: "0.9.0")),
         ["schema": "runsheet.journal/1.2", "runId": "r2", "runbook": "r.md", "runbookId": "r", "title": "R", "sha256": "cd",
          "params": .object([:]), "class": "normal", "stepHashes": .object([:]), "runsheetVersion": "0.9.0"]),
        // A run under a less strict class than its runbook declares, as the repository policy permits.
        (.runStarted(RunStarted(runId: "r3", runbook: "r.md", runbookId: "r", title: "R", sha256: "cd", releaseClass: .standard,
                                runsheetVersion: "0.9.0", declaredClass: .normal,
                                downgrade: .init(to: ["standard"], roles: ["release-manager"], role: "release-manager"))),
         ["schema": "runsheet.journal/1.2", "runId": "r3", "runbook": "r.md", "runbookId": "r", "title": "R", "sha256": "cd",
          "params": .object([:]), "class": "standard", "stepHashes": .object([:]), "runsheetVersion": "0.9.0", "declaredClass": "normal",
          "downgrade": .object(["to": .array(["standard"]), "roles": .array(["release-manager"]), "role": "release-manager"])]),
        (.runResumed(RunResumed(sha256: "ab")), ["sha256": "ab"]),
        (.runResumed(RunResumed(sha256: "ef", changes: RunbookChanges(added: ["new"], removed: ["old"], changed: []),
                                stepHashes: ["new": "1111111111111111"], cursor: .end)),
         ["sha256": "ef", "changes": .object(["added": .array(["new"]), "removed": .array(["old"]), "changed": .array([])]),
          "stepHashes": .object(["new": "1111111111111111"]), "cursor": .null]),
        (.runResumed(RunResumed(sha256: "ef", cursor: .step("two"))), ["sha256": "ef", "cursor": "two"]),
        (.runPaused(RunPaused(at: "two")), ["at": "two"]),
        (.runPaused(RunPaused(at: nil)), ["at": .null]),
        (.runEnded(RunEnded(outcome: .completed)), ["outcome": "completed"]),
        (.runEnded(RunEnded(outcome: .failed, reason: "step 'two' failed: boom")), ["outcome": "failed", "reason": "step 'two' failed: boom"]),
        (.stepStarted(StepStarted()), [:]),
        (.stepCompleted(StepCompleted(next: "two")), ["next": "two"]),
        (.stepCompleted(StepCompleted(next: nil)), [:]),
        (.stepSkipped(StepSkipped(reason: "done earlier", next: "three")), ["reason": "done earlier", "next": "three"]),
        (.stepSkipped(StepSkipped(reason: "condition not met: env is prod", automatic: true, next: nil)),
         ["reason": "condition not met: env is prod", "automatic": true]),
        (.stepFailed(StepFailed(reason: "boom", next: "rollback")), ["reason": "boom", "next": "rollback"]),
        (.stepFailed(StepFailed(reason: "boom", next: nil)), ["reason": "boom"]),
        (.commandFinished(CommandFinished(index: 1, attempt: 2, command: "make deploy TOKEN=••••", exit: 0, timedOut: false,
                                          interrupted: false, durationMs: 1234, outputBytes: 56, outputSha256: "ff",
                                          outputFile: "output/one-1-2.log", passed: true)),
         ["index": 1, "attempt": 2, "command": "make deploy TOKEN=••••", "exit": 0, "timedOut": false, "interrupted": false,
          "durationMs": 1234, "outputBytes": 56, "outputSha256": "ff", "outputFile": "output/one-1-2.log", "passed": true]),
        (.commandFinished(CommandFinished(index: 2, attempt: 1, command: "sleep 100", exit: nil, signal: 9, timedOut: true,
                                          interrupted: false, durationMs: 5000, outputBytes: 0, outputSha256: "e3",
                                          outputFile: "output/one-2-1.log", passed: false)),
         ["index": 2, "attempt": 1, "command": "sleep 100", "signal": 9, "timedOut": true, "interrupted": false,
          "durationMs": 5000, "outputBytes": 0, "outputSha256": "e3", "outputFile": "output/one-2-1.log", "passed": false]),
        (.note(NoteTaken(text: "drained node-7")), ["text": "drained node-7"]),
        (.note(NoteTaken(text: "drain first", lesson: true)), ["text": "drain first", "lesson": true]),
        (.branchTaken(BranchTaken(from: "two", to: "rollback", kind: "failure")), ["from": "two", "to": "rollback", "kind": "failure"]),
        (.cursorMoved(CursorMoved(to: "one", reason: "back")), ["to": "one", "reason": "back"]),
        (.stepAdded(StepAdded(title: "Flush caches", before: "two", after: "one")), ["title": "Flush caches", "before": "two", "after": "one"]),
        (.stepAdded(StepAdded(title: "Tidy up", before: nil, after: "three")), ["title": "Tidy up", "after": "three"]),
        (.signOff(SignOffSigned(role: "sre", stepHash: "0123456789abcdef", sha256: "ab", comment: "ok")),
         ["role": "sre", "stepHash": "0123456789abcdef", "sha256": "ab", "comment": "ok"]),
        (.signOff(SignOffSigned(role: "sre", stepHash: "0123456789abcdef", sha256: "ab")),
         ["role": "sre", "stepHash": "0123456789abcdef", "sha256": "ab"]),
        (.signOffRejected(SignOffRejected(reason: "not now", role: "dba")), ["reason": "not now", "role": "dba"]),
        (.exceptionGranted(ExceptionGranted(role: "cab", reason: "outage", conflict: "freeze 'year end'")),
         ["role": "cab", "reason": "outage", "conflict": "freeze 'year end'"]),
        (.reviewSigned(ReviewSigned(role: "sre", comment: "see INC-7")), ["role": "sre", "comment": "see INC-7"]),
        (.stepForced(StepForced(reason: "flaky check", overrode: [3, nil], next: "two")),
         ["reason": "flaky check", "overrode": .array([.int(3), .null]), "next": "two"]),
        (.stepForced(StepForced(reason: "failed by hand", overrode: [], next: nil)), ["reason": "failed by hand", "overrode": .array([])]),
        (.gateWaived(GateWaived(role: "release-manager", reason: "CAB by phone", unmet: "2 more of sre", stepHash: "0123456789abcdef")),
         ["role": "release-manager", "reason": "CAB by phone", "unmet": "2 more of sre", "stepHash": "0123456789abcdef"]),
        (.signOff(SignOffSigned(role: "sre", stepHash: "0123456789abcdef", sha256: "ab", plan: "5eed")),
         ["role": "sre", "stepHash": "0123456789abcdef", "sha256": "ab", "plan": "5eed"]),
        (.runChanged(RunChanged(plan: "5eed", reasons: ["parameter version: 1.0 → 6.6.6"], sha256: "ab", params: ["version": "6.6.6"],
                                includes: ["smoke.md": "cd"], secrets: ["token": "scrypt$16384$8$1$00$11"], steps: ["deploy"])),
         ["plan": "5eed", "reasons": .array(["parameter version: 1.0 → 6.6.6"]), "sha256": "ab", "params": .object(["version": "6.6.6"]),
          "includes": .object(["smoke.md": "cd"]), "secrets": .object(["token": "scrypt$16384$8$1$00$11"]), "steps": .array(["deploy"])]),
        (.commandStarted(CommandStarted(index: 1, attempt: 2, command: "./migrate --to 42", outputFile: "output/migrate-1-2.log")),
         ["index": 1, "attempt": 2, "command": "./migrate --to 42", "outputFile": "output/migrate-1-2.log"]),
        (.commandResolved(CommandResolved(index: 1, attempt: 2, decision: "run again")), ["index": 1, "attempt": 2, "decision": "run again"]),
        (.lockTaken(LockTaken(lock: LockClaim(service: "checkout", environment: "prod", mode: .exclusive))),
         ["lock": .object(["service": "checkout", "environment": "prod", "mode": "exclusive"])]),
        (.lockReleased(LockReleased(lock: LockClaim(service: "checkout", environment: "prod", mode: .shared), role: "release-manager", reason: "INC-881")),
         ["lock": .object(["service": "checkout", "environment": "prod", "mode": "shared"]), "role": "release-manager", "reason": "INC-881"]),
        (.journalSealed(JournalSealed(head: String(repeating: "ab", count: 32), seq: 41)), ["head": .string(String(repeating: "ab", count: 32)), "seq": 41]),
        (.notifyFailed(NotifyFailed(target: "chat", kind: "gate.waiting", attempts: 3, reason: "timed out after 5s", seq: 7)),
         ["target": "chat", "kind": "gate.waiting", "attempts": 3, "reason": "timed out after 5s", "seq": 7]),
    ]

    @Test func everyEventTypeHasAPayloadInTheTable() {
        #expect(Set(Self.written.map(\.0.type)) == Set(EventType.allCases))
    }

    /// Written as the same `data`, so the same bytes; read back as the same payload.
    @Test func payloadsWriteTheDataTheJournalAlwaysHeld() throws {
        for (payload, data) in Self.written {
            #expect(try payload.data() == data, "\(payload.type.rawValue)")
            #expect(try EventPayload(type: payload.type, data: data) == payload, "\(payload.type.rawValue)")
            let event = try RunEvent(time: "2026-11-22T04:55:01.123Z", by: Actor(name: "alice", host: "ops-1", via: "terminal"),
                                     step: "one", payload)
            let old = RunEvent(seq: 0, time: event.time, type: payload.type, actor: "alice", host: "ops-1", via: "terminal",
                               step: "one", data: data)
            #expect(try event.canonicalJSON() == old.canonicalJSON())
        }
    }

    /// Every line of every recorded journal in Tests/Fixtures, read as a typed payload and written
    /// again, gives the same bytes.
    @Test func recordedJournalsRoundTripByteForByte() throws {
        let root = Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures")
        let journals = try #require(FileManager.default.enumerator(atPath: root.path)).compactMap { $0 as? String }
            .filter { $0.hasSuffix("journal.jsonl") }
        #expect(journals.count >= 25)
        var types = Set<EventType>()
        var lines = 0
        for journal in journals {
            let path = root.appendingPathComponent(journal).path
            let recorded = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { Array($0.utf8) }
            let events = try JournalFile.read(at: path).events
            #expect(events.count == recorded.count)
            for (event, line) in zip(events, recorded) {
                let payload = try event.payload()
                let rewritten = RunEvent(seq: event.seq, time: event.time, type: payload.type, actor: event.actor, host: event.host,
                                         via: event.via, step: event.step, data: try payload.data(), prev: event.prev, hash: event.hash)
                #expect(Array(try rewritten.canonicalJSON()) == line, "\(journal): \(String(decoding: line, as: UTF8.self))")
                types.insert(payload.type)
                lines += 1
            }
        }
        #expect(types.count >= 10 && lines >= 350, "\(types.count) types in \(lines) lines")
    }

    /// Journals written by hand or by a runsheet that wrote fewer fields still fold: whatever the
    /// `data`, reading a payload never fails, and missing fields read as the fold always read them.
    @Test func anyDataReadsAsAPayload() throws {
        for data in Self.randomData(2_000) {
            for type in EventType.allCases {
                #expect(throws: Never.self) { try EventPayload(type: type, data: data) }
            }
        }
        let empty: [String: JSONValue] = [:]
        guard case .commandFinished(let finished) = try EventPayload(type: .commandFinished, data: empty),
              case .runEnded(let ended) = try EventPayload(type: .runEnded, data: ["outcome": "vanished"]),
              case .branchTaken(let branch) = try EventPayload(type: .branchTaken, data: empty),
              case .runStarted(let started) = try EventPayload(type: .runStarted, data: ["class": "unheard-of", "runId": 3]),
              case .runResumed(let resumed) = try EventPayload(type: .runResumed, data: ["cursor": 5])
        else { Issue.record("a payload of the wrong type"); return }
        #expect(finished.attempt == 1 && finished.index == 0 && finished.exit == nil && !finished.passed)
        #expect(ended.outcome == .aborted && branch.kind == "failure" && branch.to == nil)
        #expect(started.releaseClass == .normal && started.runId == "" && started.params.isEmpty && started.followUp == nil)
        // An unknown declared class is left out rather than failing the payload.
        guard case .runStarted(let unknown) = try EventPayload(type: .runStarted, data: ["declaredClass": "unheard-of", "downgrade": 4]) else { return }
        #expect(unknown.declaredClass == nil && unknown.downgrade == nil)
        #expect(resumed.cursor == .end)
    }

    /// `data` objects of payload field names with values of every kind, right and wrong.
    static func randomData(_ count: Int) -> [[String: JSONValue]] {
        var generator = SystemRandomNumberGenerator()
        let values: [JSONValue] = ["x", 7, true, .null, .array(["a", 1]), .object(["roles": "r", "within": "w"]), .object([:])]
        let keys = ["schema", "runId", "class", "params", "followUp", "declaredClass", "downgrade", "production", "cursor", "changes", "outcome", "index",
                    "attempt", "exit", "automatic", "lesson", "kind", "to", "reason", "text", "role", "next", "at", "passed",
                    "command", "durationMs", "timedOut", "interrupted", "signal", "outputFile", "outputSha256", "from", "title"]
        return (0..<count).map { _ in
            Dictionary(uniqueKeysWithValues: keys.filter { _ in Bool.random(using: &generator) }
                .map { ($0, values.randomElement(using: &generator)!) })
        }
    }

    /// The fold reads most payloads from `JSONValueDecoder`'s keyed container directly, not
    /// through `any Decoder`; both read the same payload from the `data` of every recorded event,
    /// from the table above, and from each of those and random objects read as every event type.
    @Test func theFoldReadsPayloadsAsAnyDecoderDoes() throws {
        let root = Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures")
        let journals = try #require(FileManager.default.enumerator(atPath: root.path)).compactMap { $0 as? String }
            .filter { $0.hasSuffix("journal.jsonl") }
        let recorded = try journals.flatMap { try JournalFile.read(at: root.appendingPathComponent($0).path).events }
        try PayloadReading.expectAlike(recorded)
        let objects = Set(recorded.map(\.data) + Self.written.map(\.1) + Self.randomData(500))
        #expect(objects.count > 300)
        for data in objects {
            for type in EventType.allCases {
                #expect(try EventPayload(type: type, data: data) == PayloadReading.throughDecoder(type, data), "\(type.rawValue): \(data)")
            }
        }
    }

    /// `audit` shows the same fields it showed when it looked them up by name.
    @Test func auditDetailsKeepTheirOrder() throws {
        let details = Self.written.map { "\($0.0.type.rawValue): \($0.0.auditDetails.joined(separator: " "))" }
        #expect(details.contains("run.ended: reason=step 'two' failed: boom outcome=failed"))
        #expect(details.contains("command.finished: exit=0 command=make deploy TOKEN=••••"))
        #expect(details.contains("command.finished: command=sleep 100"))
        #expect(details.contains("cursor.moved: reason=back to=one"))
        #expect(details.contains("signoff.rejected: reason=not now role=dba"))
        #expect(details.contains("signoff.signed: role=sre comment=ok"))
        #expect(details.contains("run.started: ") && details.contains("step.added: "))
        #expect(EventPayload.note(NoteTaken(text: "first\nsecond")).auditDetails == ["text=first"])
    }
}
