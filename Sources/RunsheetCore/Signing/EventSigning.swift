/// Signs the bytes of an event a person acts with (docs/JOURNAL.md, "What is signed"). The
/// command line's signer runs `ssh-keygen -Y sign`, so keys in `ssh-agent` and hardware keys work.
public protocol EventSigner: AnyObject {
    /// The armored SSHSIG text (namespace `runsheet`) over `message`; throws a one-sentence error.
    func signature(over message: [UInt8]) throws -> String
}

extension RunEvent {
    /// The events a person acts with, which carry their signature when a key is at hand: the
    /// operator's start, resumption and end of a run, and every decision about a gate, a step or
    /// the rules (sign-offs, rejections, exceptions, waivers, follow-up reviews, forced steps,
    /// releases of an environment lock).
    public static let signedTypes: Set<EventType> = [
        .runStarted, .runResumed, .runEnded,
        .signOff, .signOffRejected, .exceptionGranted, .gateWaived, .reviewSigned, .stepForced, .lockReleased,
        .journalSealed,
    ]

    /// This event of run `runID` with `signer`'s signature over `signedBytes(run:)`; unchanged
    /// when there is no signer or the type is not one a person signs.
    public func signed(by signer: EventSigner?, run runID: String) throws -> RunEvent {
        guard let signer, Self.signedTypes.contains(type) else { return self }
        var copy = self
        copy.signature = nil
        copy.signature = try signer.signature(over: copy.signedBytes(run: runID))
        return copy
    }
}

/// A journal that signs, before they are appended, the events of `RunEvent.signedTypes`: the
/// engine's writer when the operator has a key. Signing (a passphrase, a key touch) happens before
/// the journal's lock is taken, since the signature does not cover `seq`, `prev` or `hash`.
public final class SigningJournal: JournalWriter {
    let journal: JournalWriter
    let signer: EventSigner
    let runID: String

    public init(_ journal: JournalWriter, signer: EventSigner, run runID: String) {
        self.journal = journal
        self.signer = signer
        self.runID = runID
    }

    public func append(_ event: RunEvent) throws -> RunEvent {
        try journal.append(try event.signed(by: signer, run: runID))
    }

    public func append(_ event: RunEvent, onto state: inout RunState, check: (RunState) throws -> Void) throws -> RunEvent {
        try journal.append(try event.signed(by: signer, run: runID), onto: &state, check: check)
    }
}
