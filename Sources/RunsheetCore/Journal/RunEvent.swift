import Crypto
import Foundation

/// One line of a run's journal. The journal is the truth: run state is a fold over these.
public struct RunEvent: Sendable, Equatable, Codable {
    /// The format this runsheet writes (`JournalFormat.written`).
    public static let schema = JournalFormat.written

    /// 1-based position in the journal.
    public var seq: Int
    /// UTC time, ISO 8601 with milliseconds: `2026-11-22T04:55:01.123Z`.
    public var time: String
    public var type: EventType
    /// Who did it (see `Actor`), from which host, and whether a terminal, a script or CI drove it.
    public var actor: String
    public var host: String
    public var via: String
    /// 1.1: the actor's name in canonical form, and the OS user id and login name of the process
    /// that wrote the event; absent in older journals and in events made without them.
    public var canonical: String?
    public var uid: Int?
    public var login: String?
    /// The step the event is about, if any.
    public var step: String?
    /// Type-specific fields as written (docs/JOURNAL.md): the wire form of `payload()`, which is
    /// how to read them. The hash covers them all, fields a newer runsheet added included.
    public var data: [String: JSONValue]
    /// 1.4: the person's SSH signature (SSHSIG, namespace `runsheet`, armored as `ssh-keygen -Y sign`
    /// writes it) over `signedBytes()`; the event's `hash` covers it. Absent when no key signed.
    public var signature: String?
    /// `hash` of the previous event; empty for the first.
    public var prev: String
    /// SHA-256 (hex) of this event's canonical encoding without `hash`.
    public var hash: String

    public init(seq: Int, time: String, type: EventType, actor: String, host: String, via: String,
                step: String? = nil, data: [String: JSONValue] = [:], prev: String = "", hash: String = "",
                canonical: String? = nil, uid: Int? = nil, login: String? = nil, signature: String? = nil) {
        self.canonical = canonical
        self.signature = signature
        self.uid = uid
        self.login = login
        self.seq = seq
        self.time = time
        self.type = type
        self.actor = actor
        self.host = host
        self.via = via
        self.step = step
        self.data = data
        self.prev = prev
        self.hash = hash
    }

    /// Canonical encoding: JSON, keys sorted, no insignificant whitespace, slashes unescaped.
    public func canonicalJSON() throws -> Data {
        Data(try canonicalBytes())
    }

    /// The canonical encoding as bytes: `CanonicalEventWriter`, or `JSONEncoder` for what it declines.
    func canonicalBytes() throws -> [UInt8] {
        if let bytes = CanonicalEventWriter.encode(self) { return bytes }
        return Array(try RunEvent.canonicalEncoder.encode(self))
    }

    /// What a person's signature covers (docs/JOURNAL.md, "Signatures in the journal"): the
    /// canonical encoding without `seq`, `prev`, `hash` and `signature`, with the id of the run it
    /// belongs to as `run`, so an event is signed before the journal's lock is taken and its place
    /// in the journal is known, and a signature never verifies in another run; the `hash` of the
    /// event as written covers the signature, and the chain its place.
    public func signedBytes(run runID: String) throws -> [UInt8] {
        if let bytes = CanonicalEventWriter.encode(self, forSigningIn: runID) { return bytes }
        return Array(try RunEvent.canonicalEncoder.encode(SignedView(self, run: runID)))
    }

    /// The fields `signedBytes()` covers, for `JSONEncoder` where the canonical writer declines.
    private struct SignedView: Encodable {
        var actor: String, canonical: String?, data: [String: JSONValue], host: String, login: String?
        var run: String, step: String?, time: String, type: EventType, uid: Int?, via: String
        init(_ event: RunEvent, run: String) {
            self.run = run
            (actor, canonical, data, host, login) = (event.actor, event.canonical, event.data, event.host, event.login)
            (step, time, type, uid, via) = (event.step, event.time, event.type, event.uid, event.via)
        }
    }

    /// The hash this event should carry: SHA-256 of its canonical encoding with `hash` empty.
    public func computedHash() throws -> String {
        var copy = self
        copy.hash = ""
        return SHA256Hex.of(try copy.canonicalBytes())
    }

    /// Returns a copy chained after `previous` (hash of the previous event, or "") and sealed with its own hash.
    public func sealed(seq: Int, after previous: String) throws -> RunEvent {
        var copy = self
        copy.seq = seq
        copy.prev = previous
        copy.hash = ""
        copy.hash = try copy.computedHash()
        return copy
    }

    static let canonicalEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}

/// The kinds of journal event. Each has its own payload type (`EventPayload`), grouped in
/// `Journal/Events/` by family: run, step, command, sign-off and governance.
public enum EventType: String, Sendable, Codable, CaseIterable {
    /// `RunStarted`: the first event of every journal.
    case runStarted = "run.started"
    /// `RunResumed`: a new session, with what changed in the runbook.
    case runResumed = "run.resumed"
    /// `RunPaused`: the operator left; the run stays resumable.
    case runPaused = "run.paused"
    /// `RunEnded`: completed, failed, rolled back or aborted.
    case runEnded = "run.ended"
    /// `StepStarted`.
    case stepStarted = "step.started"
    /// `StepCompleted`.
    case stepCompleted = "step.completed"
    /// `StepSkipped`.
    case stepSkipped = "step.skipped"
    /// `StepFailed`.
    case stepFailed = "step.failed"
    /// `CommandFinished`: one attempt of one command.
    case commandFinished = "command.finished"
    /// `NoteTaken`: a note or a lesson, about a step or the run.
    case note = "note"
    /// `BranchTaken`: an On failure or On reject target followed.
    case branchTaken = "branch.taken"
    /// `CursorMoved`: back or go to.
    case cursorMoved = "cursor.moved"
    /// `StepAdded`: a step the operator did that the runbook lacks, recorded done.
    case stepAdded = "step.added"
    /// `SignOffSigned`: a gate approved.
    case signOff = "signoff.signed"
    /// `SignOffRejected`: a gate rejected.
    case signOffRejected = "signoff.rejected"
    /// `ExceptionGranted`: leave to make a production change outside the change calendar.
    case exceptionGranted = "exception.granted"
    /// `ReviewSigned`: the follow-up review a class policy requires.
    case reviewSigned = "review.signed"
    /// `StepForced` (1.1): a failed or unfinished step marked done anyway, with the reason.
    case stepForced = "step.forced"
    /// `GateWaived` (1.1): a gate let through without its sign-offs by an exception role.
    case gateWaived = "gate.waived"
    /// `RunChanged` (1.1): the plan a signature approves changed; earlier signatures are stale.
    case runChanged = "run.changed"
    /// `CommandStarted` (1.2): a command about to start, recorded before it does.
    case commandStarted = "command.started"
    /// `CommandResolved` (1.2): the operator's decision about a command that may have run.
    case commandResolved = "command.resolved"
    /// `LockTaken` (1.3): a resumed run took its environment lock again after it was released.
    case lockTaken = "lock.taken"
    /// `LockReleased` (1.3): an exception role released the run's environment lock (`unlock`).
    case lockReleased = "lock.released"
    /// `JournalSealed` (1.4): a person signed the journal's head (`runsheet seal`).
    case journalSealed = "journal.sealed"
    /// `NotifyFailed` (1.5): a notification could not be delivered within its bound (`.runsheet/config.yaml`).
    case notifyFailed = "notify.failed"
}

/// Hex SHA-256.
public enum SHA256Hex {
    public static func of(_ data: Data) -> String { hex(SHA256.hash(data: data)) }
    public static func of(_ bytes: [UInt8]) -> String { hex(SHA256.hash(data: bytes)) }
    public static func of(_ text: String) -> String { of(Data(text.utf8)) }

    /// Lowercase hex, two digits a byte.
    static func hex(_ digest: SHA256.Digest) -> String {
        digest.withUnsafeBytes { digest in
            String(unsafeUninitializedCapacity: digest.count * 2) { out in
                for (index, byte) in digest.enumerated() {
                    out[2 * index] = CanonicalEventWriter.hexDigits[Int(byte >> 4)]
                    out[2 * index + 1] = CanonicalEventWriter.hexDigits[Int(byte & 0x0F)]
                }
                return digest.count * 2
            }
        }
    }
}

/// Timestamps as the journal writes them.
public enum Timestamp {
    public static func now() -> String { format(Date()) }

    /// `2026-11-22T04:55:01.123Z`: milliseconds cut, not rounded, and `format(parse(text)) == text`.
    /// Written digit by digit, because `String(format:)` costs as much as the rest of an append
    /// apart from its fsync.
    public static func format(_ date: Date) -> String {
        // The fraction to the nearest microsecond, then cut at the millisecond: a time read back
        // from its own text (…:42.123Z) is 42.1229999… in binary, which a plain cut writes as .122.
        let time = date.timeIntervalSince1970
        let whole = time.rounded(.down)
        var micros = Int(((time - whole) * 1_000_000).rounded())
        var t = time_t(whole)
        if micros == 1_000_000 { (micros, t) = (0, t + 1) }
        var parts = tm()
        gmtime_r(&t, &parts)
        let millis = micros / 1000
        var text = ""
        text.reserveCapacity(24)
        /// `value` in decimal, with zeros in front up to `width` digits (after a minus sign), like `%0*d`.
        func append(_ value: Int, width: Int, then separator: String) {
            let digits = String(value.magnitude)
            if value < 0 { text += "-" }
            text += String(repeating: "0", count: max(0, width - (value < 0 ? 1 : 0) - digits.count)) + digits + separator
        }
        append(Int(parts.tm_year) + 1900, width: 4, then: "-")
        append(Int(parts.tm_mon) + 1, width: 2, then: "-")
        append(Int(parts.tm_mday), width: 2, then: "T")
        append(Int(parts.tm_hour), width: 2, then: ":")
        append(Int(parts.tm_min), width: 2, then: ":")
        append(Int(parts.tm_sec), width: 2, then: ".")
        append(millis, width: 3, then: "Z")
        return text
    }

    /// The journal's own `2026-11-22T04:55:01.123Z`, read without a formatter: metrics parse
    /// hundreds of thousands of these, and a formatter costs more than the whole read.
    static func parseJournalFormat(_ text: String) -> Date? {
        var text = text
        return text.withUTF8 { b -> Date? in
            guard b.count == 24, b[4] == 0x2D, b[7] == 0x2D, b[10] == 0x54, b[13] == 0x3A, b[16] == 0x3A, b[19] == 0x2E, b[23] == 0x5A else { return nil }
            func number(_ from: Int, _ count: Int) -> Int? {
                var value = 0
                for i in from..<(from + count) {
                    let digit = Int(b[i]) - 0x30
                    guard (0...9).contains(digit) else { return nil }
                    value = value * 10 + digit
                }
                return value
            }
            guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), let hour = number(11, 2),
                  let minute = number(14, 2), let second = number(17, 2), let millis = number(20, 3),
                  (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61 else { return nil }
            // Days from 1970-01-01 in the proleptic Gregorian calendar (Howard Hinnant's days_from_civil).
            let y = month <= 2 ? year - 1 : year
            let era = (y >= 0 ? y : y - 399) / 400
            let yoe = y - era * 400
            let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
            let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
            let days = era * 146097 + doe - 719468
            let seconds = Double(days * 86400 + hour * 3600 + minute * 60 + second) + Double(millis) / 1000
            return Date(timeIntervalSince1970: seconds)
        }
    }

    /// `2026-11-22 05:14:03`, in UTC, for reports and charts.
    public static func plain(_ date: Date) -> String {
        String(format(date).prefix(19)).replacingOccurrences(of: "T", with: " ")
    }

    public static func parse(_ text: String) -> Date? {
        if let date = parseJournalFormat(text) { return date }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}
