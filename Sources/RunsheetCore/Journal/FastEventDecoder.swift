import Foundation

/// Decodes one journal line without Foundation's `JSONDecoder`, which is about ten times slower.
///
/// It accepts a strict subset of JSON (integers only, no duplicate keys, valid UTF-8) and returns
/// nil for anything else; the caller then decodes that line with `JSONDecoder`. So every event it
/// returns is exactly the one `JSONDecoder` would return, and every error comes from `JSONDecoder`.
///
/// It also notes whether the line is written exactly as `CanonicalEventWriter` writes the event it
/// holds, so verification can hash the line's own bytes instead of encoding the event again.
struct FastEventDecoder {
    private let base: UnsafePointer<UInt8>
    private var index: Int
    private let end: Int
    private var depth = 0
    /// False once the line has anything the canonical writer would write otherwise (or might).
    private var canonical = true
    /// Where the top-level hash value's characters are, between its quotes.
    private var hashValue: Range<Int>?
    /// Whether to read the payload straight from `data`'s members (`decodeFolded`), and what it read.
    private var readsPayload = false
    private var payload: EventPayload?

    static func decode(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> RunEvent? {
        guard let base = buffer.baseAddress, range.upperBound <= buffer.count else { return nil }
        var decoder = FastEventDecoder(base: base, index: range.lowerBound, end: range.upperBound)
        return decoder.event()
    }

    /// The event on the line and, when the line is its canonical encoding, where the line's hash
    /// value is: the line without those bytes is what the hash was computed over.
    ///
    /// `after` is the time and hash of the line before, which this line's `time` and `prev` usually
    /// repeat: where they do, those strings are shared instead of made again (two allocations a line).
    static func decodeChecked(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>,
                              after previous: (time: String, hash: String)? = nil) -> (event: RunEvent, hashValue: Range<Int>?)? {
        guard let base = buffer.baseAddress, range.upperBound <= buffer.count else { return nil }
        var decoder = FastEventDecoder(base: base, index: range.lowerBound, end: range.upperBound)
        guard let event = decoder.event(after: previous) else { return nil }
        return (event, decoder.canonical ? decoder.hashValue : nil)
    }

    /// `decodeChecked` for a fold that keeps no event: where the line is canonical and unsigned and
    /// its type one a long run is made of (`EventPayload.init(type:pairs:)`), the payload is read
    /// from `data`'s members as they are parsed, and the event comes back with an empty `data`
    /// (a third of a long journal's decoding was making those dictionaries). The line's hash is
    /// then checked over its own bytes, as for any canonical line, so nothing reads that `data`.
    static func decodeFolded(_ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, after previous: (time: String, hash: String)?)
        -> (event: RunEvent, hashValue: Range<Int>?, payload: EventPayload?)? {
        guard let base = buffer.baseAddress, range.upperBound <= buffer.count else { return nil }
        var decoder = FastEventDecoder(base: base, index: range.lowerBound, end: range.upperBound)
        decoder.readsPayload = true
        guard let event = decoder.event(after: previous) else { return nil }
        return (event, decoder.canonical ? decoder.hashValue : nil, decoder.payload)
    }

    private init(base: UnsafePointer<UInt8>, index: Int, end: Int) {
        self.base = base
        self.index = index
        self.end = end
    }

    /// The byte at the cursor, or 0 at the end (a raw 0 is never valid JSON outside a string).
    @inline(__always) private var current: UInt8 { index < end ? base[index] : 0 }

    @inline(__always) private mutating func consume(_ byte: UInt8) -> Bool {
        guard current == byte else { return false }
        index += 1
        return true
    }

    @inline(__always) private mutating func skipSpace() {
        while index < end, base[index] == 0x20 || base[index] == 0x09 || base[index] == 0x0D || base[index] == 0x0A {
            index += 1
            canonical = false
        }
    }

    private mutating func event(after previous: (time: String, hash: String)? = nil) -> RunEvent? {
        skipSpace()
        guard consume(UInt8(ascii: "{")) else { return nil }
        var seq: Int?, type: EventType?, data: [String: JSONValue]?, members: [(key: String, value: JSONValue)]?
        var time: String?, actor: String?, host: String?, via: String?, prev: String?, hash: String?
        var step: String?, stepSeen = false
        var canonical: String?, login: String?, uid: Int?, signature: String?
        var previousKey: UnsafeBufferPointer<UInt8>?
        repeat {
            skipSpace()
            guard let key = name() else { return nil }
            // The canonical writer puts the fields in byte order of their names.
            if let previousKey, !previousKey.lexicographicallyPrecedes(key) { self.canonical = false }
            previousKey = key
            skipSpace()
            guard consume(UInt8(ascii: ":")) else { return nil }
            skipSpace()
            // A repeated field is left to JSONDecoder, which keeps the first.
            switch Self.fields.value(named: key) {
            case .seq?: guard seq == nil, let value = integer() else { return nil }; seq = value
            case .time?: guard time == nil, let value = string(reusing: previous?.time) else { return nil }; time = value
            case .type?:
                guard type == nil, let value = name(), let known = Self.types.value(named: value) else { return nil }
                type = known
            case .actor?: guard actor == nil, let value = string() else { return nil }; actor = value
            case .host?: guard host == nil, let value = string() else { return nil }; host = value
            case .via?: guard via == nil, let value = string() else { return nil }; via = value
            case .prev?: guard prev == nil, let value = string(reusing: previous?.hash) else { return nil }; prev = value
            case .hash?:
                let start = index + 1
                guard hash == nil, let value = string() else { return nil }
                hash = value
                hashValue = start..<(index - 1)
            case .canonical?: guard canonical == nil, current == UInt8(ascii: "\""), let value = string() else { return nil }; canonical = value
            case .login?: guard login == nil, current == UInt8(ascii: "\""), let value = string() else { return nil }; login = value
            case .signature?: guard signature == nil, current == UInt8(ascii: "\""), let value = string() else { return nil }; signature = value
            case .uid?: guard uid == nil, let value = integer() else { return nil }; uid = value
            case .step?:
                guard !stepSeen else { return nil }
                stepSeen = true
                if current == UInt8(ascii: "n") {
                    guard literal("null") else { return nil }
                    self.canonical = false  // the writer leaves out a step that is nil
                } else {
                    guard let value = string() else { return nil }
                    step = value
                }
            case .data?:
                guard data == nil, members == nil, current == UInt8(ascii: "{") else { return nil }
                if readsPayload {
                    guard let value = self.members() else { return nil }
                    members = value
                } else {
                    guard case .object(let value)? = value() else { return nil }
                    data = value
                }
            case nil:
                // JSONDecoder ignores unknown keys but still requires valid JSON.
                guard value() != nil else { return nil }
                self.canonical = false
            }
            skipSpace()
        } while consume(UInt8(ascii: ","))
        guard consume(UInt8(ascii: "}")) else { return nil }
        skipSpace()
        if let members {
            // Canonical: its keys are strictly ascending, so none is there twice. Unsigned: a
            // signed event is kept by the fold, and its signature covers `data`.
            if self.canonical, signature == nil, let type, let payload = EventPayload(type: type, pairs: members) {
                self.payload = payload
                data = [:]
            } else {
                guard let object = Self.dictionary(members) else { return nil }
                data = object
            }
        }
        guard index == end, let seq, let time, let type, let actor, let host, let via, let data, let prev, let hash
        else { return nil }
        return RunEvent(seq: seq, time: time, type: type, actor: actor, host: host, via: via, step: step,
                        data: data, prev: prev, hash: hash, canonical: canonical, uid: uid, login: login, signature: signature)
    }

    /// The fields of an event line, by name.
    private enum Field: String, CaseIterable { case seq, time, type, actor, host, via, prev, hash, canonical, login, uid, signature, step, data }
    private static let fields = ByteNames(Field.allCases.map { ($0.rawValue, $0) })
    private static let types = ByteNames(EventType.allCases.map { ($0.rawValue, $0) })

    /// A field name or an event type, as its bytes, matched without making and comparing `String`s
    /// (4% of a replay's instructions). Runsheet writes both in ASCII without escapes, so a name
    /// with anything else is left to JSONDecoder.
    private mutating func name() -> UnsafeBufferPointer<UInt8>? {
        guard consume(UInt8(ascii: "\"")) else { return nil }
        let start = index
        while index < end, base[index] != UInt8(ascii: "\"") {
            guard base[index] >= 0x20, base[index] < 0x80, base[index] != UInt8(ascii: "\\") else { return nil }
            index += 1
        }
        guard index < end else { return nil }
        defer { index += 1 }
        return UnsafeBufferPointer(start: base + start, count: index - start)
    }

    private mutating func value() -> JSONValue? {
        switch current {
        case UInt8(ascii: "\""): return string().map(JSONValue.string)
        case UInt8(ascii: "{"): return object()
        case UInt8(ascii: "["): return array()
        case UInt8(ascii: "t"): return literal("true") ? .bool(true) : nil
        case UInt8(ascii: "f"): return literal("false") ? .bool(false) : nil
        case UInt8(ascii: "n"): return literal("null") ? .null : nil
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return integer().map(JSONValue.int)
        default: return nil
        }
    }

    private mutating func object() -> JSONValue? {
        guard let pairs = members() else { return nil }
        return Self.dictionary(pairs).map(JSONValue.object)
    }

    /// The members made into a dictionary; nil when a key is there twice (left to JSONDecoder).
    private static func dictionary(_ pairs: [(key: String, value: JSONValue)]) -> [String: JSONValue]? {
        var members = [String: JSONValue](minimumCapacity: pairs.count)
        for (key, member) in pairs {
            guard members.updateValue(member, forKey: key) == nil else { return nil }
        }
        return members
    }

    /// An object's members in the line's order. Collected first, so a dictionary is made once at
    /// its size instead of growing, and hashing every key again, as members are added.
    private mutating func members() -> [(key: String, value: JSONValue)]? {
        guard depth < 64, consume(UInt8(ascii: "{")) else { return nil }
        depth += 1
        defer { depth -= 1 }
        skipSpace()
        if consume(UInt8(ascii: "}")) { return [] }
        var pairs: [(key: String, value: JSONValue)] = []
        pairs.reserveCapacity(12)
        // Deep nesting and keys with escapes or non-ASCII bytes are left to a full encoding,
        // which knows the writer's limits and the order it sorts such keys in.
        if depth >= 48 { canonical = false }
        var previousKey: UnsafeBufferPointer<UInt8>?
        repeat {
            skipSpace()
            let keyStart = index + 1
            guard let key = string() else { return nil }
            if canonical {
                let raw = UnsafeBufferPointer(start: base + keyStart, count: index - 1 - keyStart)
                if raw.contains(where: { $0 >= 0x80 || $0 == UInt8(ascii: "\\") })
                    || previousKey.map({ !$0.lexicographicallyPrecedes(raw) }) ?? false {
                    canonical = false
                }
                previousKey = raw
            }
            skipSpace()
            guard consume(UInt8(ascii: ":")) else { return nil }
            skipSpace()
            guard let member = value() else { return nil }
            pairs.append((key, member))
            skipSpace()
        } while consume(UInt8(ascii: ","))
        guard consume(UInt8(ascii: "}")) else { return nil }
        return pairs
    }

    private mutating func array() -> JSONValue? {
        guard depth < 64, consume(UInt8(ascii: "[")) else { return nil }
        depth += 1
        defer { depth -= 1 }
        if depth >= 48 { canonical = false }
        var elements: [JSONValue] = []
        skipSpace()
        if consume(UInt8(ascii: "]")) { return .array(elements) }
        repeat {
            skipSpace()
            guard let element = value() else { return nil }
            elements.append(element)
            skipSpace()
        } while consume(UInt8(ascii: ","))
        return consume(UInt8(ascii: "]")) ? .array(elements) : nil
    }

    private mutating func literal(_ word: StaticString) -> Bool {
        let count = word.utf8CodeUnitCount
        guard end - index >= count else { return false }
        for offset in 0..<count where base[index + offset] != word.utf8Start[offset] { return false }
        index += count
        return true
    }

    /// An integer without fraction or exponent that fits `Int`; "-0" and leading zeros are left to JSONDecoder.
    private mutating func integer() -> Int? {
        let negative = consume(UInt8(ascii: "-"))
        let start = index
        var value = 0  // accumulated negatively so Int.min fits
        while index < end, base[index] >= UInt8(ascii: "0"), base[index] <= UInt8(ascii: "9") {
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) = times10.subtractingReportingOverflow(Int(base[index] &- UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            value = next
            index += 1
        }
        let digits = index - start
        guard digits > 0, base[start] != UInt8(ascii: "0") || (digits == 1 && !negative) else { return nil }
        switch current {
        case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): return nil
        default: break
        }
        if negative { return value }
        return value == Int.min ? nil : -value
    }

    /// A string value; `reusing`, when its bytes are the same, is returned instead of a new string.
    private mutating func string(reusing known: String? = nil) -> String? {
        guard consume(UInt8(ascii: "\"")) else { return nil }
        let start = index
        var ascii = true
        while index < end {
            // Eight bytes at a time while none is a quote, a backslash, a control character or
            // past ASCII (hashes, times, commands: most of a journal's bytes are in strings).
            if end - index >= 8, JSONWord.plainASCII(UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)) {
                index += 8
                continue
            }
            let byte = base[index]
            if byte == UInt8(ascii: "\"") {
                let bytes = UnsafeBufferPointer(start: base + start, count: index - start)
                index += 1
                if ascii, !bytes.isEmpty, var known, known.utf8.count == bytes.count,
                   known.withUTF8({ memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0 }) {
                    return known
                }
                return ascii ? String(decoding: bytes, as: UTF8.self) : Self.validUTF8(bytes)
            }
            if byte == UInt8(ascii: "\\") { return escapedString(from: start) }
            if byte < 0x20 { return nil }
            if byte >= 0x80 { ascii = false }
            index += 1
        }
        return nil
    }

    private mutating func escapedString(from start: Int) -> String? {
        var bytes = Array(UnsafeBufferPointer(start: base + start, count: index - start))
        while index < end {
            let byte = base[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""): return bytes.withUnsafeBufferPointer(Self.validUTF8)
            case 0..<0x20: return nil
            case UInt8(ascii: "\\"):
                let escape = current
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(escape)
                case UInt8(ascii: "/"):
                    bytes.append(escape)
                    canonical = false  // the writer does not escape slashes
                case UInt8(ascii: "b"): bytes.append(0x08)
                case UInt8(ascii: "f"): bytes.append(0x0C)
                case UInt8(ascii: "n"): bytes.append(0x0A)
                case UInt8(ascii: "r"): bytes.append(0x0D)
                case UInt8(ascii: "t"): bytes.append(0x09)
                case UInt8(ascii: "u"):
                    guard var scalar = hex4() else { return nil }
                    // The writer uses \u00xx, in lowercase, only for controls without a short escape.
                    if scalar >= 0x20 || [0x08, 0x09, 0x0A, 0x0C, 0x0D].contains(scalar)
                        || UnsafeBufferPointer(start: base + index - 2, count: 2).contains(where: { (0x41...0x46).contains($0) }) {
                        canonical = false
                    }
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard consume(UInt8(ascii: "\\")), consume(UInt8(ascii: "u")), let low = hex4(),
                              (0xDC00..<0xE000).contains(low) else { return nil }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { return nil }
                    UTF8.encode(unicode) { bytes.append($0) }
                default: return nil
                }
            default: bytes.append(byte)
            }
        }
        return nil
    }

    private mutating func hex4() -> UInt32? {
        guard end - index >= 4 else { return nil }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = base[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// The string if the bytes are valid UTF-8; `String(decoding:)` repairs, so a repaired string differs.
    private static func validUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        let text = String(decoding: bytes, as: UTF8.self)
        return text.utf8.elementsEqual(bytes) ? text : nil
    }
}
