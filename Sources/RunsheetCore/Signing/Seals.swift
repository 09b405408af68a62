import Foundation

extension RunState {
    /// What `run.started` and `run.resumed` write in `signatures` when signatures are required.
    public static let signaturesRequiredValue = "required"

    /// The acts that count only when signed in a run that requires signatures: sign-offs,
    /// rejections, calendar exceptions, waivers and follow-up reviews.
    static let countedOnlySigned: Set<EventType> = [.signOff, .signOffRejected, .exceptionGranted, .gateWaived, .reviewSigned]

    /// An act of `RunState.countedOnlySigned` left out of the fold because it carries no signature.
    public struct UnsignedAct: Sendable, Equatable {
        public var seq: Int
        public var type: EventType
        public var actor: String
        public var step: String?
        public var time: String
    }

    /// A `journal.sealed` event: who sealed which head, and when.
    public struct Seal: Sendable, Equatable {
        /// The seal's own seq.
        public var seq: Int
        public var actor: String
        public var time: String
        /// The hash and seq of the event it sealed.
        public var head: String
        public var sealedSeq: Int
        public var signed: Bool

        /// "sealed at event 12 by carol at 2026-…Z (head 3f2a…)".
        public var phrase: String {
            "sealed at event \(sealedSeq) by \(actor.shown) at \(time.shown) (head \(head.shown))"
        }
    }

    /// The seal readiness asks for when signatures are required: signed, made after the run ended
    /// (it seals `run.ended` or a later event), by someone other than the run's starter.
    public var sealAfterEnd: Seal? {
        guard let ended = endedSeq else { return nil }
        return seals.last { $0.signed && $0.sealedSeq >= ended && !PersonName.same($0.actor, startedBy) }
    }
}

/// Checks, event by event, what the hash chain alone cannot: in a run that requires signatures,
/// every event of `RunEvent.signedTypes` carries a signature, and every seal is signed and names, for the
/// event it sealed, the hash that event has now. A chain rewritten with every hash recomputed
/// still breaks the second: the seal's data (which its signature covers) names the old hash.
/// Whether the signatures themselves verify is the signature check's (docs/JOURNAL.md, "Required signatures and seals").
public struct SignedRecordCheck {
    /// Every event's hash so far, which a seal is checked against (compact: one per line read).
    private var hashes = EventHashes()
    private var required = false
    private var runID = ""

    public init() {}

    /// The problem `event` (on `line`) shows, or nil; events are given in journal order, each once.
    public mutating func problem(with event: RunEvent, line: Int) -> JournalProblem? {
        if event.type == .runStarted, case .runStarted(let started)? = try? event.payload() {
            runID = started.runId
            if started.signatures != nil { required = true }
        } else if event.type == .runResumed, case .runResumed(let resumed)? = try? event.payload(), resumed.signatures != nil {
            required = true
        }
        defer { hashes.append(event.hash) }
        // Only an event that fails needs its words: this runs for every line a command reads.
        let unsigned = required && event.signature == nil && RunEvent.signedTypes.contains(event.type)
        guard unsigned || event.type == .journalSealed else { return nil }
        let what = "event \(event.seq) (\(event.type.rawValue)\(event.step.map { " \($0.shown)" } ?? "") by \(event.actor.shown))"
        if unsigned {
            return JournalProblem(kind: .unsigned, line: line, seq: event.seq,
                                  message: "\(what) is not signed, and run \(runID.shown) requires signatures")
        }
        guard event.type == .journalSealed else { return nil }
        // runsheet never writes an unsigned seal: one proves nothing, so it is a forgery.
        if event.signature == nil {
            return JournalProblem(kind: .unsigned, line: line, seq: event.seq, message: "the seal \(what) is not signed, and a seal is always signed")
        }
        guard case .journalSealed(let sealed)? = try? event.payload(), sealed.seq >= 1, sealed.seq <= hashes.count else {
            return JournalProblem(kind: .sealBroken, line: line, seq: event.seq,
                                  message: "the seal \(what) does not name an event before it, so it seals nothing")
        }
        let now = hashes.hash(at: sealed.seq - 1)
        guard now == sealed.head else {
            return JournalProblem(kind: .sealBroken, line: line, seq: event.seq,
                                  message: "the seal \(what) at \(event.time.shown) sealed event \(sealed.seq) with hash \(sealed.head.shown), but event \(sealed.seq) now has hash \(now), " +
                                  "so an event up to \(sealed.seq) was changed, removed or added after it was sealed, although the hashes were recomputed")
        }
        return nil
    }

    /// The first problem in `events`, in order.
    public static func firstProblem(in events: [RunEvent]) -> JournalProblem? {
        var check = SignedRecordCheck()
        for (index, event) in events.enumerated() {
            if let problem = check.problem(with: event, line: index + 1) { return problem }
        }
        return nil
    }
}
