import Foundation

/// Checks the SSH signatures a run's events carry, natively, against the allowed signers file
/// of the run's repository at each event's time (docs/JOURNAL.md, "What verify checks about
/// signatures"): what `verify` and every command that decides from a journal ask.
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

    /// Every signed event of `events`, checked: against `signers` (nil when the repository has
    /// no allowed signers file, which fails every signature: nothing says whose key it is).
    public static func outcomes(of events: some Sequence<RunEvent>, signers: AllowedSigners?) -> [Outcome] {
        events.compactMap { event in
            guard let armored = event.signature else { return nil }
            let principal = event.canonical ?? PersonName.canonical(event.actor)
            var outcome = Outcome(seq: event.seq, principal: principal, fingerprint: SSHSignature.signer(of: armored)?.fingerprint, problem: nil)
            guard let signers else {
                outcome.problem = "it is signed, but the repository has no .runsheet/allowed_signers saying whose key is whose, so the signature cannot be checked"
                return outcome
            }
            guard let date = Timestamp.parseJournalFormat(event.time) else {
                outcome.problem = "its time \(event.time.shown) is not one the journal writes, so the allowed signers valid then cannot be known"
                return outcome
            }
            let message: [UInt8]
            do { message = try event.signedBytes() } catch {
                outcome.problem = "its signed bytes cannot be encoded"
                return outcome
            }
            switch SSHSignature.verify(armored: armored, message: message, principal: principal, namespace: "runsheet", at: date, signers: signers) {
            case .success(let verified): outcome.fingerprint = verified.fingerprint
            case .failure(let problem): outcome.problem = problem.errorDescription ?? "\(problem)"
            }
            return outcome
        }
    }

    /// The first signed event whose signature does not verify, as a journal problem naming it;
    /// `lineOf` gives an event's line in the journal (its seq when no line was repaired).
    public static func firstProblem(in events: some Sequence<RunEvent>, signers: AllowedSigners?, signersPath: String?) -> JournalProblem? {
        let signed = Array(events.lazy.filter { $0.signature != nil })
        guard let bad = outcomes(of: signed, signers: signers).first(where: { !$0.verified }),
              let event = signed.first(where: { $0.seq == bad.seq }) else { return nil }
        let against = signersPath.map { " (checked against \($0))" } ?? ""
        return JournalProblem(kind: .badSignature, line: event.seq, seq: event.seq,
                              message: "the signature of event \(event.seq) (\(event.type.rawValue)\(event.step.map { " \($0.shown)" } ?? "") by \(event.actor.shown)) does not verify\(against): \(bad.problem ?? "")")
    }
}
