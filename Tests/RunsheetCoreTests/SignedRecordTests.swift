import Foundation
import RunsheetCore
import Testing

/// The fold and the signed-record check of a run that requires signatures (issue 14).
@Suite struct SignedRecordTests {
    let alice = Actor(name: "alice", host: "h", via: "terminal")
    let bob = Actor(name: "bob", host: "h", via: "terminal")

    func journal(required: Bool, signOffSignature: String?) throws -> [RunEvent] {
        var started = RunStarted(schema: JournalFormat.writtenSigned, runId: "r1", runbook: "r.md", runbookId: "r", title: "R",
                                 sha256: "ab", stepHashes: ["approve": "h1"], runsheetVersion: "0")
        if required { started.signatures = RunState.signaturesRequiredValue }
        var first = try RunEvent(time: "2026-11-22T04:55:01.123Z", by: alice, .runStarted(started))
        first.signature = "-----BEGIN SSH SIGNATURE-----\n-----END SSH SIGNATURE-----"
        let one = try first.sealed(seq: 1, after: "")
        var signOff = try RunEvent(time: one.time, by: bob, step: "approve", .signOff(SignOffSigned(role: "sre", stepHash: "h1", sha256: "ab")))
        signOff.signature = signOffSignature
        let two = try signOff.sealed(seq: 2, after: one.hash)
        return [one, two]
    }

    @Test func anUnsignedSignOffDoesNotCountWhereSignaturesAreRequired() throws {
        let unsigned = RunState.fold(try journal(required: true, signOffSignature: nil))
        #expect(unsigned.signaturesRequired && unsigned.signatures["approve"] == nil)
        #expect(unsigned.unsignedActs.map(\.seq) == [2])
        let problem = SignedRecordCheck.firstProblem(in: try journal(required: true, signOffSignature: nil))
        #expect(problem?.kind == .unsigned && problem?.line == 2)
        #expect(problem?.message == "event 2 (signoff.signed approve by bob) is not signed, and run r1 requires signatures")

        let signed = RunState.fold(try journal(required: true, signOffSignature: "-----BEGIN SSH SIGNATURE-----\n-----END SSH SIGNATURE-----"))
        #expect(signed.signatures["approve"]?.count == 1 && signed.unsignedActs.isEmpty)
        // Where the run did not record the requirement, an unsigned sign-off counts as before.
        let plain = try journal(required: false, signOffSignature: nil)
        #expect(RunState.fold(plain).signatures["approve"]?.count == 1 && SignedRecordCheck.firstProblem(in: plain) == nil)
    }
}
