import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Found by the adversary of issue 14 (F5): under `signatures: required` the run's starter alone
/// appends an unsigned `step.completed` of a gate nobody signed, the steps after it and a
/// `run.ended` signed with their own key, recomputing the chain. `resume` stays at the gate;
/// `verify` and `readiness` must not call the run whole or GO (docs/JOURNAL.md, "Gates done
/// without their sign-offs").
@Suite struct ForgedGateCompletionTests {
    typealias Repository = SignatureBindingAttackTests.Repository

    /// op's run at the gate, then a script's completion of the gate, the step after it, and the end.
    static func forgedRun(_ repo: Repository) throws -> String {
        let id = try repo.startedRun()
        var events = try SignatureBindingAttackTests.events(repo, id)
        let last = try #require(events.last)
        func event(_ type: EventType, _ step: String?, _ data: [String: JSONValue] = [:]) -> RunEvent {
            RunEvent(seq: 0, time: last.time, type: type, actor: last.actor, host: last.host, via: last.via, step: step, data: data,
                     canonical: last.canonical, uid: last.uid, login: last.login)
        }
        events.append(event(.stepCompleted, "approve", ["next": .string("do-it")]))
        events.append(event(.stepStarted, "do-it"))
        events.append(event(.stepCompleted, "do-it"))
        var ended = event(.runEnded, nil, ["outcome": .string("completed")])
        try SignatureBindingAttackTests.sign(&ended, in: repo, run: id, key: repo.key("op"), name: "ended")
        events.append(ended)
        try RepositoryRuns.rewrite(repo.dir, id: id, events)
        return id
    }

    /// op's run through its gate as it should go: alice and bob sign with their keys, op resumes to the end.
    static func passedRun(_ repo: Repository) throws -> String {
        let id = try repo.startedRun()
        #expect(try repo.runsheet(["sign", id, "approve", "--key", repo.key("alice")]).status == 0)
        #expect(try repo.runsheet(["sign", id, "approve", "--key", repo.key("bob")]).status == 0)
        let finished = try repo.runsheet(["resume", id, "--key", repo.key("op")], stdin: "done\ndone\n")
        #expect(finished.stdout.contains("completed"), "\(finished.stdout)\(finished.stderr)")
        return id
    }

    @Test func aGateCompletedWithoutItsSignOffsDoesNotVerifyAndBlocksReadiness() throws {
        let repo = try Repository()
        defer { repo.remove() }
        let id = try Self.forgedRun(repo)
        let status = try repo.runsheet(["status", id])
        #expect(status.stdout.contains("completed"), "the forged run reads as completed: \(status.stdout)\(status.stderr)")
        let verified = try repo.runsheet(["verify", id])
        #expect(verified.status == 1, "\(verified.stdout)\(verified.stderr)")
        #expect(verified.stdout.contains("journal does not verify: gate 'approve' is recorded done (event ")
                && verified.stdout.contains("by op@example.com) without the sign-offs its rule needs: it still needed 2 more of approver"),
                "\(verified.stdout)")
        #expect(!verified.stdout.contains("intact"), "\(verified.stdout)")
        // Someone else is refused a seal of it; readiness says NO-GO, naming the gate.
        let sealed = try repo.runsheet(["seal", id, "--key", repo.key("rita")])
        #expect(sealed.status == 1 && sealed.stderr.contains("gate 'approve' is recorded done (event ")
                && sealed.stderr.contains("so it is not sealed"), "\(sealed.stdout)\(sealed.stderr)")
        let readiness = try repo.runsheet(["readiness", "releases/r.md"])
        #expect(readiness.status == 1, "\(readiness.stdout)\(readiness.stderr)")
        #expect(readiness.stdout.contains("gate approve is recorded done (event ")
                && readiness.stdout.contains("without the sign-offs its rule needs: it still needed 2 more of approver"), "\(readiness.stdout)")
    }

    /// The normal path stays whole: two signed sign-offs, the gate done by resume, sealed by rita.
    @Test func aGateCompletedAfterItsSignOffsVerifiesAndIsGo() throws {
        let repo = try Repository()
        defer { repo.remove() }
        let id = try Self.passedRun(repo)
        let verified = try repo.runsheet(["verify", id])
        #expect(verified.status == 0 && verified.stdout.contains("intact"), "\(verified.stdout)\(verified.stderr)")
        #expect(try repo.runsheet(["seal", id, "--key", repo.key("rita")]).status == 0)
        let readiness = try repo.runsheet(["readiness", "releases/r.md"])
        #expect(readiness.status == 0, "\(readiness.stdout)\(readiness.stderr)")
    }

    /// Rules change after a run: an approver leaves the role and the policy asks more approvers.
    /// The run as it passed its gate then still verifies (the rule files at its commit allowed
    /// it); readiness, which judges by the rules as they are now, is where the change shows.
    @Test func rulesTightenedAfterARunDoNotMakeItsGateUnapproved() throws {
        let repo = try Repository()
        defer { repo.remove() }
        let id = try Self.passedRun(repo)
        let forged = try Self.forgedRun(repo)
        try "roles:\n  approver: [bob@example.com, carl@example.com]\n  operator: [op@example.com, rita@example.com]\n"
            .write(to: repo.dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        try "signatures: required\nnormal: {approvers: 3}\n".write(to: repo.policy, atomically: true, encoding: .utf8)
        try repo.commit()
        let verified = try repo.runsheet(["verify", id])
        #expect(verified.status == 0 && verified.stdout.contains("intact"), "\(verified.stdout)\(verified.stderr)")
        let stillForged = try repo.runsheet(["verify", forged])
        #expect(stillForged.status == 1 && stillForged.stdout.contains("gate 'approve' is recorded done"), "\(stillForged.stdout)\(stillForged.stderr)")
    }
}
