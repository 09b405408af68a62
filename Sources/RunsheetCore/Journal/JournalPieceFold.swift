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

    /// Reads `piece`, the journal's next lines each with its newline, checking every line, and
    /// hands the events to `take` as they are checked, `count` lines at a time, so a fold on
    /// another thread starts on the first lines of a piece while the rest are read (and is not
    /// left with a whole piece to fold after the last is read). Nothing is handed on from a line
    /// that does not verify, nor after it, nor from any later piece; false then.
    @discardableResult
    public mutating func read(_ piece: [UInt8], by count: Int, to take: (JournalPiece) -> Void) -> Bool {
        // Pieces of whole lines split as the journal they make up does (`JournalSnapshot.lines`).
        guard !stopped, !piece.isEmpty, piece.last == 0x0A, count > 0 else {
            stopped = true
            return false
        }
        let (ranges, _) = JournalSnapshot.lines(of: piece)
        var events: [RunEvent] = [], payloads: [EventPayload?] = []
        func start() {
            (events, payloads) = ([], [])
            events.reserveCapacity(min(count, ranges.count))
            payloads.reserveCapacity(min(count, ranges.count))
        }
        start()
        do {
            try piece.withUnsafeBufferPointer { buffer in
                for range in ranges {
                    let (event, payload, finding) = try lines.next(buffer, range)
                    if finding != nil { return stopped = true }
                    events.append(event)
                    payloads.append(payload)
                    if events.count == count {
                        take(JournalPiece(events: events, payloads: payloads))
                        start()
                    }
                }
            }
        } catch {
            stopped = true
        }
        if !stopped && !events.isEmpty { take(JournalPiece(events: events, payloads: payloads)) }
        return !stopped
    }
}

/// The events of one piece of a journal, read and checked (`JournalPieceReader`), for `JournalPieceFold`.
public struct JournalPiece: Sendable {
    /// The events and their payloads, by line: two arrays, so the fold reads each in place (an
    /// element of an array of pairs was copied out whole, a retain of every field, to be read).
    fileprivate var events: [RunEvent]
    fileprivate var payloads: [EventPayload?]
}

/// The run's state folded from the pieces `JournalPieceReader` read, in order.
public struct JournalPieceFold {
    private var state = RunState()

    public init() {}

    public mutating func apply(_ piece: JournalPiece) {
        // Through the buffers: `for (event, payload) in`, or even an index into the array, copies
        // every event (a retain of each of its fields) before it is read.
        piece.events.withUnsafeBufferPointer { events in
            piece.payloads.withUnsafeBufferPointer { payloads in
                for index in events.indices { state.apply(events[index], payload: payloads[index]) }
            }
        }
    }

    /// The fold, when the reader found every line verified (`JournalPieceReader.verified`).
    public func result(verified: Bool) -> JournalFold? {
        verified ? JournalFold(state: state, tornLine: nil, problem: nil) : nil
    }
}
