import Foundation
@testable import RunsheetCore
import RunsheetTestSupport
import Testing

/// A step's hash covers an explicit `StepApproval`: every field that can change what an approver
/// approved, and none that only says where the step sits in the file.
@Suite struct StepHashTests {
    /// How the hash was computed before `StepApproval`: the whole step with its positions cleared.
    static func hashBeforeStepApproval(_ step: Step) throws -> String {
        var copy = step
        copy.line = 0
        copy.column = 0
        copy.boxOffset = nil
        copy.trailLine = nil
        copy.trailColumn = nil
        copy.endLine = nil
        copy.estimateLine = nil
        copy.annotationAnchor = nil
        copy.commands = step.commands.map { var c = $0; c.line = 0; return c }
        return String(SHA256Hex.of(try RunEvent.canonicalEncoder.encode(copy)).prefix(16))
    }

    /// A step with every field set to something.
    static func fullStep() throws -> Step {
        let text = "# R\n\n## Go\n\n- [ ] Deploy {{v}}\n  - Estimate: 5m\n\n  ```bash run\n  make deploy\n  ```\n"
        var step = try #require(Fixtures.compile(text).runbook.steps.first)
        step.parent = "parent"
        step.depth = 1
        step.when = Condition(text: "v is 1", clauses: [.init(name: "v", negated: false, values: ["1"])])
        step.timeoutSeconds = 60
        step.retries = Retries(count: 2, delaySeconds: 5)
        step.poll = Poll(intervalSeconds: 10, limitSeconds: 100)
        step.expectExit = [0]
        step.expectOutput = .contains("ok")
        step.signOffs = [SignOffRule(count: 1, roles: ["sre"])]
        step.separation = [.starter]
        step.onFailure = .section("rollback")
        step.onReject = .abort
        step.next = .end
        step.role = "sre"
        step.include = "other.md"
        step.origin = "inc.md"
        step.lessons = ["drain first"]
        step.components = ["payments-db"]
        step.boxOffset = 10
        step.trailLine = 7
        step.trailColumn = 3
        step.endLine = 9
        step.estimateLine = 6
        step.annotationAnchor = AnnotationAnchor(line: 6, prefixLine: 6, column: 3, verbatim: true)
        return step
    }

    static func fields(_ value: Any) -> Set<String> { Set(Mirror(reflecting: value).children.compactMap(\.label)) }

    @Test func everyStepFieldIsCoveredOrAPosition() throws {
        let step = try Self.fullStep()
        let covered = Self.fields(StepApproval(step))
        #expect(Self.fields(step) == covered.union(StepHash.positions), "a Step field is neither in StepApproval nor in StepHash.positions")
        #expect(covered.intersection(StepHash.positions) == ["line", "column"])  // written as 0, never the step's own
        #expect(Self.fields(step.commands[0]) == Self.fields(StepApproval.ApprovedCommand(step.commands[0])))
    }

    @Test func changingACoveredFieldChangesTheHash() throws {
        let step = try Self.fullStep()
        let changes: [String: (inout Step) -> Void] = [
            "id": { $0.id += "-2" }, "title": { $0.title += "!" }, "kind": { $0.kind = .procedure }, "checked": { $0.checked.toggle() },
            "section": { $0.section = "other" }, "parent": { $0.parent = nil }, "depth": { $0.depth += 1 }, "body": { $0.body += " now" },
            "estimateSeconds": { $0.estimateSeconds = 301 }, "when": { $0.when?.clauses[0].negated = true },
            "commands": { $0.commands[0].code += " -v" }, "timeoutSeconds": { $0.timeoutSeconds = 61 },
            "commandTimeoutSeconds": { $0.commandTimeoutSeconds = 600 },
            "retries": { $0.retries?.count = 3 }, "poll": { $0.poll?.limitSeconds = 101 }, "expectExit": { $0.expectExit = [0, 1] },
            "expectOutput": { $0.expectOutput = .regex("ok") }, "signOffs": { $0.signOffs[0].count = 2 },
            "separation": { $0.separation = [.executor] }, "onFailure": { $0.onFailure = .continue }, "onReject": { $0.onReject = nil },
            "next": { $0.next = .section("go") }, "role": { $0.role = "dba" }, "production": { $0.production.toggle() },
            "include": { $0.include = nil }, "origin": { $0.origin = "other.md" }, "lessons": { $0.lessons.append("and wait") },
            "components": { $0.components?.append("ledger") },
        ]
        #expect(Set(changes.keys) == Self.fields(StepApproval(step)).subtracting(["line", "column"]))
        let hash = StepHash.of(step)
        for (field, change) in changes {
            var changed = step
            change(&changed)
            #expect(StepHash.of(changed) != hash, "changing \(field) left the hash alone")
        }
        let commandChanges: [String: (inout Command) -> Void] = [
            "language": { $0.language = "sh" }, "shell": { $0.shell = "sh" }, "code": { $0.code += "\n" }, "run": { $0.run.toggle() },
            "interactive": { $0.interactive.toggle() },
        ]
        #expect(Set(commandChanges.keys) == Self.fields(step.commands[0]).subtracting(["line"]))
        for (field, change) in commandChanges {
            var changed = step
            change(&changed.commands[0])
            #expect(StepHash.of(changed) != hash, "changing the command's \(field) left the hash alone")
        }
    }

    @Test func movingAStepLeavesItsHashAlone() throws {
        let step = try Self.fullStep()
        var moved = step
        moved.line += 40
        moved.column += 2
        moved.boxOffset = 400
        moved.trailLine = 47
        moved.trailColumn = 5
        moved.endLine = 49
        moved.estimateLine = 46
        moved.annotationAnchor = nil
        moved.commands[0].line += 40
        #expect(StepHash.of(moved) == StepHash.of(step))
    }

    /// The hashes the recorded report fixture's run.started holds for its runbook.
    @Test func fixtureStepsHashAsRecorded() throws {
        let folder = Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/reports")
        let runbook = Fixtures.compile(try String(contentsOf: folder.appendingPathComponent("release.md"), encoding: .utf8),
                                       path: "release.md").runbook
        let journal = folder.appendingPathComponent("runs/release-20261122-093821-40d2/journal.jsonl").path
        guard case .runStarted(let started) = try JournalFile.read(at: journal).events[0].payload() else {
            Issue.record("the fixture does not start with run.started")
            return
        }
        #expect(started.stepHashes.count == 6)
        #expect(StepHash.all(runbook) == started.stepHashes)
    }

    /// Every step of every corpus runbook hashes as it did before `StepApproval`.
    @Test func corpusStepsHashAsBefore() throws {
        var steps = 0
        for file in try Fixtures.corpusFiles() {
            let runbook = Compiler().compile(path: file.lastPathComponent, bytes: Array(try Data(contentsOf: file))).runbook
            for step in runbook.steps {
                #expect(StepHash.of(step) == (try Self.hashBeforeStepApproval(step)), "\(file.lastPathComponent): \(step.id)")
                steps += 1
            }
        }
        #expect(steps > 1_000)
        let full = try Self.fullStep()
        #expect(StepHash.of(full) == (try Self.hashBeforeStepApproval(full)))
    }
}

/// Issue 15: the front matter's `command-timeout` is part of what the approval of a step that runs
/// a command covers, as its own `Timeout` is; a step's `Timeout` wins, and steps without a `run`
/// block (manual steps, gates) keep their hash whatever it says.
@Suite struct CommandTimeoutHashTests {
    static func runbook(_ front: String) -> Runbook {
        Fixtures.compile("""
            ---
            id: t
            \(front)
            ---
            # T
            - [ ] Deploy
              ```bash run
              make deploy
              ```
            - [ ] Own limit
              - Timeout: 30s
              ```bash run
              make check
              ```
            - [ ] Approve
              - Sign-off: 1 of sre
            """).runbook
    }

    @Test func theDefaultIsCoveredWhereItApplies() throws {
        let none = Self.runbook(""), ten = Self.runbook("command-timeout: 10m"), twenty = Self.runbook("command-timeout: 20m")
        #expect(none.step("deploy")?.commandTimeoutSeconds == nil)
        #expect(ten.step("deploy")?.commandTimeoutSeconds == 600 && ten.step("deploy")?.commandLimitSeconds == 600)
        #expect(ten.step("own-limit")?.commandTimeoutSeconds == nil && ten.step("own-limit")?.commandLimitSeconds == 30)
        #expect(ten.step("approve")?.commandTimeoutSeconds == nil)
        let hashes = [none, ten, twenty].map(StepHash.all)
        #expect(Set(hashes.map { $0["deploy"] }).count == 3, "changing command-timeout must change the hash of a step it applies to")
        #expect(Set(hashes.map { $0["own-limit"] }).count == 1)
        #expect(Set(hashes.map { $0["approve"] }).count == 1)
        #expect(RunbookChanges(recorded: hashes[1], runbook: twenty).changed == ["deploy"])
    }
}
