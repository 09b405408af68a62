/// A small table of names (a journal line's field names, its event types) looked up by the bytes
/// of a name as they stand in the line, without making a `String`. Each name goes in a bucket by
/// its length and first and last bytes; a lookup compares the bytes of the few names in its
/// bucket, so it answers exactly as a search of every name would (a line names one of its
/// fields about ten times: a search through all fourteen was a fifth of decoding a line).
struct ByteNames<Value: Sendable>: Sendable {
    private static var bucketCount: Int { 64 }
    private let buckets: [[([UInt8], Value)]]

    init(_ names: [(String, Value)]) {
        var buckets = [[([UInt8], Value)]](repeating: [], count: Self.bucketCount)
        for (name, value) in names {
            let bytes = Array(name.utf8)
            buckets[Self.bucket(count: bytes.count, first: bytes.first ?? 0, last: bytes.last ?? 0)].append((bytes, value))
        }
        self.buckets = buckets
    }

    /// The value of the name whose bytes are `name`, if there is one.
    @inline(__always) func value(named name: UnsafeBufferPointer<UInt8>) -> Value? {
        guard let first = name.first, let last = name.last else { return nil }
        for (bytes, value) in buckets[Self.bucket(count: name.count, first: first, last: last)] where bytes.elementsEqual(name) {
            return value
        }
        return nil
    }

    @inline(__always) private static func bucket(count: Int, first: UInt8, last: UInt8) -> Int {
        (count &* 7 &+ Int(first) &* 3 &+ Int(last)) & (bucketCount - 1)
    }
}
