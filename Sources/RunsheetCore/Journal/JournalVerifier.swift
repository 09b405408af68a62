import Foundation

/// What `JournalVerifier` found in a journal file.
public struct VerificationReport: Sendable, Equatable {
    public var path: String
    /// Complete lines in the file.
    public var eventCount: Int
    /// The last event's hash when the chain is intact. Record it outside the file (a commit, a
    /// ticket, a signed checkpoint) to detect later removal of trailing events.
    public var headHash: String?
    /// The first problem in file order; nil when every line checks out.
    public var problem: JournalProblem?
    /// A partial last line left by a crash. Not tampering: the next append saves and removes it.
    public var tornLine: TornLine?
    /// The events, in order, when every line checks out (empty otherwise), so a caller that
    /// verifies and then shows the run reads the file once.
    public var events: [RunEvent] = []
    /// Events stamped earlier than the event before them, in file order (when the chain is intact).
    /// Times are recorded, not checked against a clock, so this is a warning, not a problem.
    public var timesGoingBack: [TimeGoingBack] = []

    public var isIntact: Bool { problem == nil }
}

/// An event whose time is earlier than that of the event before it, although its seq is later.
public struct TimeGoingBack: Sendable, Equatable {
    /// 1-based line number of the later event.
    public var line: Int
    public var seq: Int
    public var time: String
    public var previousTime: String
}

/// The first line where a journal stops being the hash chain runsheet wrote.
public struct JournalProblem: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The line is not a journal event.
        case unreadable
        /// The line's content does not match its hash, or it was rewritten with a recomputed hash.
        case altered
        /// Events are missing: seq jumps and the missing events are nowhere later in the file.
        case removed
        /// The line is out of place: seq goes backwards, skips ahead of an event found later, or the
        /// line chains to an event other than the one before it.
        case reordered
        /// The line repeats an earlier event.
        case duplicated
        /// The first event is not `run.started`.
        case wrongStart
        /// In a run that requires signatures, an event a person signs carries no signature.
        case unsigned
        /// A seal names, for the event it sealed, another hash than that event has now.
        case sealBroken
        /// An SSH signature that does not verify against the allowed signers (`SignatureVerification`).
        case badSignature
        /// The run is not where it belongs: its folder is named for another run, or its runbook
        /// lies outside the repository that holds its runs folder (the CLI's `RunBinding`).
        case misplaced
    }

    public var kind: Kind
    /// 1-based line number.
    public var line: Int
    /// The seq written on that line, if the line could be read.
    public var seq: Int?
    /// One sentence, without the path or line (the CLI prints `path:line: message`).
    public var message: String

    public init(kind: Kind, line: Int, seq: Int?, message: String) {
        self.kind = kind
        self.line = line
        self.seq = seq
        self.message = message
    }

    public var description: String { "line \(line): \(message)" }
}

/// Checks a journal's hash chain from its first line to its last.
///
/// This catches any change to, removal of, or reordering of events that has a later event after
/// it. It cannot catch removal of trailing events from the file alone: the shorter file is a
/// valid chain. Detecting that needs an anchor kept elsewhere, such as the `headHash` recorded in
/// a Git commit of the runs folder or in a signed checkpoint.
public enum JournalVerifier {
    /// Verifies the journal at `path`. Problems in the chain are values in the report; I/O failures,
    /// an empty file and an unknown format version are thrown as `JournalError`.
    public static func verify(path: String) throws -> VerificationReport {
        try verify(JournalSnapshot(path: path, repair: false), path: path)
    }

    /// `verify(path:)` over a journal already read; `path` names it in the report and what is thrown.
    static func verify(_ snapshot: JournalSnapshot, path: String) throws -> VerificationReport {
        guard !snapshot.lines.isEmpty else { throw JournalError.empty(path: path) }
        var report = VerificationReport(path: path, eventCount: snapshot.lines.count, headHash: nil, problem: nil,
                                        tornLine: snapshot.torn)
        // One pass that only checks; the whole file is examined again only to explain a problem.
        var events: [RunEvent] = []
        events.reserveCapacity(snapshot.lines.count)
        var check = ChainCheck()
        // Unsigned acts and broken seals, checked in the same pass (not a second walk over the events);
        // reported only when the chain itself holds, which comes first.
        var signedRecord = SignedRecordCheck()
        var signedProblem: JournalProblem?
        var previous: (time: String, hash: String)?
        let intact = try snapshot.bytes.withUnsafeBufferPointer { buffer in
            for range in snapshot.lines {
                guard let (event, hashValue) = FastEventDecoder.decodeChecked(buffer, range, after: previous)
                        ?? (try? JournalFile.slowDecode(Data(buffer[range])).get()).map({ ($0, nil) }),
                      try check.accepts(event, in: buffer, range, hashValue: hashValue)
                else { return false }
                if events.isEmpty { try JournalFile.checkStart(event, path: path) }
                previous = (event.time, event.hash)
                if signedProblem == nil { signedProblem = signedRecord.problem(with: event, line: events.count + 1) }
                events.append(event)
            }
            return true
        }
        guard intact else {
            report.problem = try firstProblem(in: snapshot, path: path)
                ?? JournalProblem(kind: .altered, line: events.count + 1, seq: nil, message: "it does not follow the line before it in the hash chain")
            return report
        }
        if let problem = signedProblem {
            report.problem = problem
            return report
        }
        report.headHash = events.last?.hash
        report.timesGoingBack = timesGoingBack(events)
        report.events = events
        return report
    }

    /// The events stamped earlier than the one before them. Runsheet writes UTC times of one width,
    /// which sort as text; other times are compared as dates.
    static func timesGoingBack(_ events: [RunEvent]) -> [TimeGoingBack] {
        var found: [TimeGoingBack] = []
        // By index and time alone: pairs of whole events copied every event (5% of a verify).
        for index in events.indices.dropFirst() {
            let previousTime = events[index - 1].time, time = events[index].time
            if previousTime.utf8.elementsEqual(time.utf8) { continue }  // the same bytes are never earlier, either way below
            let earlier = previousTime.utf8.count == time.utf8.count && time.hasSuffix("Z") && previousTime.hasSuffix("Z")
                ? time.utf8.lexicographicallyPrecedes(previousTime.utf8)
                : (Timestamp.parse(time).flatMap { time in Timestamp.parse(previousTime).map { time < $0 } } ?? false)
            if earlier { found.append(TimeGoingBack(line: index + 1, seq: events[index].seq, time: time, previousTime: previousTime)) }
        }
        return found
    }

    /// The first problem in the whole file, explained: the classification looks at lines after it.
    static func firstProblem(in snapshot: JournalSnapshot, path: String) throws -> JournalProblem? {
        let decoded = snapshot.bytes.withUnsafeBufferPointer { buffer in
            snapshot.lines.map { range in
                FastEventDecoder.decode(buffer, range).map { .success($0) } ?? JournalFile.slowDecode(Data(buffer[range]))
            }
        }
        let events = decoded.map { try? $0.get() }
        return try snapshot.bytes.withUnsafeBufferPointer { buffer in
            try firstProblem(in: buffer, lines: snapshot.lines, decoded: decoded, events: events, path: path)
        }
    }

    private static func firstProblem(in buffer: UnsafeBufferPointer<UInt8>, lines: [Range<Int>],
                                     decoded: [Result<RunEvent, JournalFile.LineFailure>], events: [RunEvent?],
                                     path: String) throws -> JournalProblem? {
        var previous: RunEvent?
        for (index, range) in lines.enumerated() {
            let line = index + 1
            let event: RunEvent
            switch decoded[index] {
            case .success(let value): event = value
            case .failure(let failure):
                return JournalProblem(kind: .unreadable, line: line, seq: nil, message: "not a journal event (\(failure.text))")
            }
            var unsealed = event
            unsealed.hash = ""
            let encoding = try unsealed.canonicalBytes()
            if SHA256Hex.of(encoding) != event.hash {
                return JournalProblem(kind: .altered, line: line, seq: event.seq,
                                      message: "its hash does not match its content, so it was changed after it was written")
            }
            if !(JournalFile.filling(hash: event.hash, into: encoding).map { buffer[range].elementsEqual($0) } ?? false) {
                return JournalProblem(kind: .altered, line: line, seq: event.seq,
                                      message: "its bytes are not the canonical encoding of its content (extra spacing, fields or escapes), so it was edited after it was written")
            }
            if let problem = chainProblem(at: index, events: events, previous: previous) { return problem }
            if index == 0 {
                guard event.type == .runStarted else {
                    return JournalProblem(kind: .wrongStart, line: 1, seq: event.seq,
                                          message: "the first event is \(event.type.rawValue), but a journal starts with run.started")
                }
                try JournalFile.checkStart(event, path: path)
            }
            previous = event
        }
        return nil
    }

    /// Why `events[index]` does not follow `previous` (seq + 1, prev = its hash), classified by
    /// looking at the rest of the file; nil when it does.
    private static func chainProblem(at index: Int, events: [RunEvent?], previous: RunEvent?) -> JournalProblem? {
        guard let event = events[index] else { return nil }
        let line = index + 1
        let expectedSeq = (previous?.seq ?? 0) + 1
        let expectedPrev = previous?.hash ?? ""
        if event.seq == expectedSeq && event.prev == expectedPrev { return nil }
        func problem(_ kind: JournalProblem.Kind, _ message: String, line: Int = line, seq: Int? = event.seq) -> JournalProblem {
            JournalProblem(kind: kind, line: line, seq: seq, message: message)
        }
        let missing = expectedSeq..<max(event.seq, expectedSeq)
        if event.seq > expectedSeq {
            if let later = events.indices.dropFirst(index + 1).first(where: { events[$0].map { missing.contains($0.seq) } ?? false }),
               let found = events[later] {
                return problem(.reordered, "seq \(event.seq) comes before seq \(found.seq) on line \(later + 1), so lines are out of order")
            }
            let what = missing.count == 1 ? "seq \(expectedSeq) is" : "seq \(expectedSeq) to \(event.seq - 1) are"
            return problem(.removed, "the event\(missing.count == 1 ? "" : "s") with \(what) missing before this line, so \(missing.count == 1 ? "it was" : "they were") removed")
        }
        if event.seq < expectedSeq {
            if let earlier = events[..<index].firstIndex(where: { $0?.hash == event.hash }) {
                return problem(.duplicated, "it repeats line \(earlier + 1) (seq \(event.seq))")
            }
            return problem(.reordered, "seq \(event.seq) comes after seq \(expectedSeq - 1), so lines are out of order")
        }
        if !event.prev.isEmpty, let target = events.firstIndex(where: { $0?.hash == event.prev }), let chained = events[target] {
            return problem(.reordered, "it chains to line \(target + 1) (seq \(chained.seq)) instead of the line before it, so lines are out of order")
        }
        guard let previous else {
            return problem(.altered, "the first event has a prev hash, so it was rewritten and its hash recomputed")
        }
        return problem(.altered, "its hash differs from the one line \(line) records for it, so one of the two lines was rewritten and its hash recomputed",
                       line: index, seq: previous.seq)
    }
}
