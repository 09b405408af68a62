/// Encodes an `Encodable` value into a `JSONValue`, so typed event payloads become an event's
/// `data` object and reach the disk through `CanonicalEventWriter` like any other.
///
/// Optionals left out by `encodeIfPresent` are absent, as with `JSONEncoder`; floating point is
/// refused, because the journal holds integers only (docs/JOURNAL.md).
public enum JSONValueEncoder {
    public static func encode(_ value: some Encodable) throws -> JSONValue {
        let root = Node()
        try value.encode(to: NodeEncoder(node: root, codingPath: []))
        return root.json
    }
}

/// What an encoder has written so far: a value, an object or an array of further nodes.
private final class Node {
    var scalar: JSONValue = .null
    var members: [String: Node]?
    var elements: [Node]?

    var json: JSONValue {
        if let members { return .object(members.mapValues(\.json)) }
        if let elements { return .array(elements.map(\.json)) }
        return scalar
    }
}

private struct NodeEncoder: Encoder {
    let node: Node
    var codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if node.members == nil { node.members = [:] }
        return KeyedEncodingContainer(KeyedNodeContainer<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if node.elements == nil { node.elements = [] }
        return UnkeyedNodeContainer(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleNodeContainer(node: node, codingPath: codingPath)
    }
}

/// The one place a value becomes JSON: integers must fit `Int`, floating point is refused.
private func scalar(_ value: some Encodable, in node: Node, codingPath: [any CodingKey]) throws {
    switch value {
    case let text as String: node.scalar = .string(text)
    case let flag as Bool: node.scalar = .bool(flag)
    case let number as any BinaryInteger:
        guard let fitting = Int(exactly: number) else {
            throw EncodingError.invalidValue(value, .init(codingPath: codingPath, debugDescription: "\(number) does not fit a journal integer"))
        }
        node.scalar = .int(fitting)
    case is any BinaryFloatingPoint:
        throw EncodingError.invalidValue(value, .init(codingPath: codingPath, debugDescription: "the journal holds no floating-point numbers"))
    default:
        try value.encode(to: NodeEncoder(node: node, codingPath: codingPath))
    }
}

private struct KeyedNodeContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: Node
    var codingPath: [any CodingKey]

    private func child(_ key: Key) -> Node {
        let child = Node()
        node.members?[key.stringValue] = child
        return child
    }

    mutating func encodeNil(forKey key: Key) throws { child(key).scalar = .null }
    mutating func encode(_ value: some Encodable, forKey key: Key) throws {
        try scalar(value, in: child(key), codingPath: codingPath + [key])
    }
    // The protocol's concrete requirements all take the generic path above.
    mutating func encode(_ value: Bool, forKey key: Key) throws { child(key).scalar = .bool(value) }
    mutating func encode(_ value: String, forKey key: Key) throws { child(key).scalar = .string(value) }
    mutating func encode(_ value: Int, forKey key: Key) throws { child(key).scalar = .int(value) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        NodeEncoder(node: child(key), codingPath: codingPath + [key]).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        NodeEncoder(node: child(key), codingPath: codingPath + [key]).unkeyedContainer()
    }
    mutating func superEncoder() -> any Encoder { NodeEncoder(node: node, codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { NodeEncoder(node: child(key), codingPath: codingPath + [key]) }
}

private struct UnkeyedNodeContainer: UnkeyedEncodingContainer {
    let node: Node
    var codingPath: [any CodingKey]
    var count: Int { node.elements?.count ?? 0 }

    private func next() -> Node {
        let child = Node()
        node.elements?.append(child)
        return child
    }

    mutating func encodeNil() throws { next().scalar = .null }
    mutating func encode(_ value: some Encodable) throws { try scalar(value, in: next(), codingPath: codingPath) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        NodeEncoder(node: next(), codingPath: codingPath).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        NodeEncoder(node: next(), codingPath: codingPath).unkeyedContainer()
    }
    mutating func superEncoder() -> any Encoder { NodeEncoder(node: next(), codingPath: codingPath) }
}

private struct SingleNodeContainer: SingleValueEncodingContainer {
    let node: Node
    var codingPath: [any CodingKey]

    mutating func encodeNil() throws { node.scalar = .null }
    mutating func encode(_ value: some Encodable) throws { try scalar(value, in: node, codingPath: codingPath) }
}
