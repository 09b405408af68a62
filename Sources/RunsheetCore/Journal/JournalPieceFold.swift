/// A journal folded as it arrives, a piece of whole lines at a time (a run read from the
/// PostgreSQL store, folded while its next piece is fetched), with every check
/// `JournalBytes.verifiedState` makes on each line (`JournalLineCheck`), in two stages that may
/// run on two threads, each taking the pieces in order: `JournalPieceReader` reads and checks a
/// piece's lines, `JournalPieceFold` folds their events into the run's state. Only a journal that
/// verifies gives a fold: at the first line that is not an event, does not follow the line before,
/// or shows an unsigned act or a broken seal, the reader stops, and the caller reads the whole
/// journal as before, which says why in the same words.
public struct JournalPieceReader {
    private var lines: JournalLineCheck
    private var stopped = false

    /// `name` stands where a file's path would (`<store> run <id>`).
    public init(name: String) {
        lines = JournalLineCheck(path: name, verify: true, readsPayloads: true)
    }

    /// Whether every line read so far verified (and there was one).
    public var verified: Bool { !stopped && lines.count > 0 }

    /// The events of `piece`, the journal's next lines each with its newline, every line checked;
    /// nil from the first piece with a line that does not verify on.
    public mutating func read(_ piece: [UInt8]) -> JournalPiece? {
        // Pieces of whole lines split as the journal they make up does (`JournalSnapshot.lines`).
        guard !stopped, !piece.isEmpty, piece.last == 0x0A else {
            stopped = true
            return nil
        }
        let (ranges, _) = JournalSnapshot.lines(of: piece)
        var events: [(RunEvent, EventPayload?)] = []
        events.reserveCapacity(ranges.count)
        do {
            try piece.withUnsafeBufferPointer { buffer in
                for range in ranges {
                    let (event, payload, finding) = try lines.next(buffer, range)
                    if finding != nil { return stopped = true }
                    events.append((event, payload))
                }
            }
        } catch {
            stopped = true
        }
        return stopped ? nil : JournalPiece(events: events)
    }
}

/// The events of one piece of a journal, read and checked (`JournalPieceReader`), for `JournalPieceFold`.
public struct JournalPiece: Sendable {
    fileprivate var events: [(RunEvent, EventPayload?)]
}

/// The run's state folded from the pieces `JournalPieceReader` read, in order.
public struct JournalPieceFold {
    private var state = RunState()

    public init() {}

    public mutating func apply(_ piece: JournalPiece) {
        for (event, payload) in piece.events { state.apply(event, payload: payload) }
    }

    /// The fold, when the reader found every line verified (`JournalPieceReader.verified`).
    public func result(verified: Bool) -> JournalFold? {
        verified ? JournalFold(state: state, tornLine: nil, problem: nil) : nil
    }
}
