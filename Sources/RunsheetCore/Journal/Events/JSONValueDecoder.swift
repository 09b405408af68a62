/// Decodes a `Decodable` value from a `JSONValue`: how an event's `data` object becomes its typed
/// payload.
///
/// Reading is lenient, field by field, as the fold has always read journals: a field that is
/// missing or has another type reads as empty (`""`, `0`, `false`, an empty array or object) and an
/// optional one as nil. So a journal written by hand, or by a runsheet that wrote fewer fields,
/// folds as before instead of failing; a payload needing another default says so in its own
/// `init(fields:)` or `init(from:)`. Only an enum given a value it does not know throws.
public enum JSONValueDecoder {
    public static func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try T(from: ValueDecoder(value: value, exact: false))
    }

    /// The same as `decode(type, from: .object(members))`, read through this decoder's keyed
    /// container itself rather than through `any Decoder`.
    static func decode<T: FieldsDecodable>(_ type: T.Type, fields members: [String: JSONValue]) throws -> T {
        try T(fields: KeyedValues<T.CodingKeys>(members: members))
    }

    /// The same from the members of a canonical line's `data`, in its order, no key twice.
    static func decode<T: FieldsDecodable>(_ type: T.Type, pairs: [(key: String, value: JSONValue)]) throws -> T {
        try T(fields: KeyedValues<T.CodingKeys>(pairs: pairs))
    }
}

/// A type that reads its fields from whatever keyed container it is handed: a `Decoder`'s (its
/// `init(from:)`), or `JSONValueDecoder`'s own, straight from an event's `data`. The second skips
/// what `any Decoder` costs per value (a boxed container, generic metadata, dynamic calls), which
/// was a tenth of `runsheet status` on a long journal. The payloads the fold reads most conform,
/// and those whose reading is written by hand; the others keep the reading Swift derives.
protocol FieldsDecodable: Decodable {
    associatedtype CodingKeys: CodingKey
    init(fields: some PayloadFields<CodingKeys>) throws
}

extension FieldsDecodable {
    public init(from decoder: any Decoder) throws {
        try self.init(fields: decoder.container(keyedBy: CodingKeys.self))
    }
}

/// The keyed containers a `FieldsDecodable` reads from.
protocol PayloadFields<Key>: KeyedDecodingContainerProtocol {}
extension KeyedDecodingContainer: PayloadFields {}
extension KeyedValues: PayloadFields {}

/// `exact`: the value must be of the kind asked for (only where an optional's presence is decided).
///
/// No coding paths are kept: nothing reports them, and without them this decoder is small enough
/// to pass as `any Decoder` without an allocation, which the fold of a long journal feels.
private struct ValueDecoder: Decoder {
    let value: JSONValue?
    let exact: Bool
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func mismatch(_ expected: String) -> DecodingError {
        .typeMismatch(Any.self, .init(codingPath: codingPath, debugDescription: "expected \(expected)"))
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        if case .object(let members)? = value { return KeyedDecodingContainer(KeyedValues<Key>(members: members)) }
        if exact { throw mismatch("an object") }
        return KeyedDecodingContainer(KeyedValues<Key>(members: [:]))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        if case .array(let elements)? = value { return ArrayValues(elements: elements) }
        if exact { throw mismatch("an array") }
        return ArrayValues(elements: [])
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }
}

extension ValueDecoder: SingleValueDecodingContainer {
    func decodeNil() -> Bool { value == nil || value == .null }

    func decode(_ type: String.Type) throws -> String {
        if case .string(let text)? = value { return text }
        if exact { throw mismatch("a string") }
        return ""
    }

    func decode(_ type: Bool.Type) throws -> Bool {
        if case .bool(let flag)? = value { return flag }
        if exact { throw mismatch("true or false") }
        return false
    }

    func decode(_ type: Int.Type) throws -> Int {
        if case .int(let number)? = value { return number }
        if exact { throw mismatch("an integer") }
        return 0
    }

    /// Other integer types, when they can hold the value; floating point is never in a journal.
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if let integer = type as? any FixedWidthInteger.Type {
            guard let value = integer.init(exactly: try decode(Int.self)) else { throw mismatch("a smaller integer") }
            return value as! T
        }
        if type is any BinaryFloatingPoint.Type { throw mismatch("no floating-point number") }
        return try T(from: self)
    }
}

/// An object's members as a keyed container; `JSONValueDecoder.decode(_:fields:)` reads from one directly.
///
/// The members are a dictionary, or the pairs of an event's `data` as a canonical line lists them
/// (`FastEventDecoder`: keys ASCII, without escapes, in strictly ascending order, so no key twice);
/// the fold reads those without making the dictionary. Every reading below goes through `value(_:)`,
/// so both give the same payload.
struct KeyedValues<Key: CodingKey>: KeyedDecodingContainerProtocol {
    private let members: [String: JSONValue]
    private let pairs: [(key: String, value: JSONValue)]?
    var codingPath: [any CodingKey] { [] }

    init(members: [String: JSONValue]) {
        self.members = members
        self.pairs = nil
    }

    /// `pairs` must have no key twice.
    init(pairs: [(key: String, value: JSONValue)]) {
        self.members = [:]
        self.pairs = pairs
    }

    /// The member named `key`, as `members[key.stringValue]` finds it.
    private func value(_ key: Key) -> JSONValue? {
        guard let pairs else { return members[key.stringValue] }
        let name = key.stringValue
        let count = name.utf8.count
        // A handful of short ASCII keys: comparing lengths first spares most string comparisons.
        return pairs.withUnsafeBufferPointer { pairs in
            for index in pairs.indices where pairs[index].key.utf8.count == count && pairs[index].key == name { return pairs[index].value }
            return nil
        }
    }

    var allKeys: [Key] { (pairs?.map(\.key) ?? Array(members.keys)).compactMap { Key(stringValue: $0) } }
    func contains(_ key: Key) -> Bool { value(key) != nil }
    func decodeNil(forKey key: Key) throws -> Bool { (value(key) ?? .null) == .null }

    private func field(_ key: Key, exact: Bool = false) -> ValueDecoder {
        ValueDecoder(value: value(key), exact: exact)
    }

    func decode(_ type: String.Type, forKey key: Key) throws -> String { value(key)?.string ?? "" }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { value(key)?.int ?? 0 }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { value(key)?.bool ?? false }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try field(key).decode(type) }

    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { value(key)?.string }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { value(key)?.int }
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { value(key)?.bool }
    /// Present only when the field holds a value of the kind `T` is made of; otherwise nil.
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let value = value(key), value != .null else { return nil }
        return try? ValueDecoder(value: value, exact: true).decode(type)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try field(key).container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { try field(key).unkeyedContainer() }
    func superDecoder() throws -> any Decoder {
        let object = pairs.map { [String: JSONValue]($0.map { ($0.key, $0.value) }, uniquingKeysWith: { first, _ in first }) } ?? members
        return ValueDecoder(value: .object(object), exact: false)
    }
    func superDecoder(forKey key: Key) throws -> any Decoder { field(key) }
}

private struct ArrayValues: UnkeyedDecodingContainer {
    let elements: [JSONValue]
    var codingPath: [any CodingKey] { [] }
    var currentIndex = 0

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private mutating func next() throws -> ValueDecoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath, debugDescription: "no more elements"))
        }
        defer { currentIndex += 1 }
        return ValueDecoder(value: elements[currentIndex], exact: false)
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, elements[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next().decode(type) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }
    mutating func superDecoder() throws -> any Decoder { try next() }
}
