import Foundation

/// Checks the SSH signatures a run's events carry, natively, against the allowed signers file
/// of the run's repository at each event's time (docs/JOURNAL.md, "Signatures in the journal"):
/// what `verify` and every command that decides from a journal ask.
public enum SignatureVerification {
    /// What one signed event's signature shows.
    public struct Outcome: Sendable, Equatable {
        public var seq: Int
        /// The principal the event names (its canonical name), which its key must be allowed for.
        public var principal: String
        /// The key that made the signature, as `ssh-keygen -l` prints it, when it could be read.
        public var fingerprint: String?
        /// Why it does not verify; nil when it does.
        public var problem: String?

        public var verified: Bool { problem == nil }
    }

    /// How much earlier than the event before it a signed event may be stamped: the clocks of an
    /// approver's machine and the operator's may disagree by that much, and no more, so a key
    /// retired with `valid-before` cannot sign later under an earlier date.
    public static let clockTolerance: TimeInterval = 300

    /// Every signed event of `state`, checked against `signers` (nil when the repository has no
    /// allowed signers file, which fails every signature: nothing says whose key it is).
    /// The signatures are independent of each other, so many are checked on all cores: an
    /// Ed25519 check is about a million instructions, most of what 1,000 signatures add to `verify`.
    public static func outcomes(of state: RunState, signers: AllowedSigners?) -> [Outcome] {
        let check: @Sendable (RunEvent) -> Outcome = { event in
            let principal = event.canonical ?? PersonName.canonical(event.actor)
            let armored = event.signature ?? ""
            var outcome = Outcome(seq: event.seq, principal: principal, fingerprint: SSHSignature.signer(of: armored)?.fingerprint, problem: nil)
            outcome.problem = problem(event, armored: armored, principal: principal, state: state, signers: signers, outcome: &outcome)
            return outcome
        }
        return state.signedEvents.count >= parallelFrom ? state.signedEvents.parallelMap(check) : state.signedEvents.map(check)
    }

    /// From how many signatures `outcomes` checks them on several threads (fewer are not worth starting them).
    static let parallelFrom = 8

    private static func problem(_ event: RunEvent, armored: String, principal: String, state: RunState, signers: AllowedSigners?,
                                outcome: inout Outcome) -> String? {
        // The name shown everywhere is `actor`; the signature vouches for `canonical`: they must be one person.
        guard PersonName.canonical(event.actor) == principal else {
            return "its actor \(event.actor.shown) is not the person its canonical name \(principal.shown) says, and the signature vouches for the canonical name only"
        }
        guard let signers else {
            return "it is signed, but the repository has no \(AllowedSigners.relativePath) saying whose key is whose, so the signature cannot be checked"
        }
        guard let date = Timestamp.parseJournalFormat(event.time) else {
            return "its time \(event.time.shown) is not one the journal writes, so the allowed signers valid then cannot be known"
        }
        if let before = state.timeBeforeSigned[event.seq], let previous = Timestamp.parseJournalFormat(before),
           date < previous.addingTimeInterval(-clockTolerance) {
            return "it is stamped \(event.time), more than \(Int(clockTolerance / 60)) minutes before the event before it (\(before)), so the time its key is checked at cannot be trusted"
        }
        let message: [UInt8]
        do { message = try event.signedBytes(run: state.runID) } catch {
            return "its signed bytes cannot be encoded"
        }
        switch SSHSignature.verify(armored: armored, message: message, principal: principal, namespace: "runsheet", at: date, signers: signers) {
        case .success(let verified):
            outcome.fingerprint = verified.fingerprint
            return nil
        case .failure(let problem):
            return problem.errorDescription ?? "\(problem)"
        }
    }

    /// The first of `outcomes` (of `state`'s signed events) that does not verify, as a journal
    /// problem naming its event: each signature is checked once, whatever is asked of it.
    public static func problem(among outcomes: [Outcome], in state: RunState, signersPath: String?) -> JournalProblem? {
        guard let bad = outcomes.first(where: { !$0.verified }),
              let event = state.signedEvents.first(where: { $0.seq == bad.seq }) else { return nil }
        let against = signersPath.map { " (checked against \($0))" } ?? ""
        return JournalProblem(kind: .badSignature, line: event.seq, seq: event.seq,
                              message: "the signature of event \(event.seq) (\(event.type.rawValue)\(event.step.map { " \($0.shown)" } ?? "") by \(event.actor.shown)) does not verify\(against): \(bad.problem ?? "")")
    }
}
