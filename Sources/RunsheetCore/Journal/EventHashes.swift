/// Every hash of a journal so far, by position, for the seal check: the 64 bytes of each hash as
/// runsheet writes them, one after another. Kept as strings, a long journal's hashes were one
/// allocation of about 100 bytes each, 13 MB of a 100,000-event `status` (docs/BENCHMARKS.md).
/// A hash of another length (an edited journal's) is kept as it is; `hash(at:)` gives back
/// exactly what was added either way.
///
/// The bytes are kept in chunks of `chunk` hashes, each made at its full size: one growing
/// array was copied whole each time it doubled (13 MB moved, and as many fresh pages touched,
/// for 100,000 events).
struct EventHashes {
    private static let width = 64
    private static let chunk = 4_096
    private var chunks: [[UInt8]] = []
    private var others: [Int: String] = [:]

    private(set) var count = 0

    mutating func append(_ hash: String) {
        if count % Self.chunk == 0 {
            chunks.append([])
            chunks[chunks.count - 1].reserveCapacity(Self.chunk * Self.width)
        }
        var hash = hash
        let kept = hash.withUTF8 { utf8 -> Bool in
            guard utf8.count == Self.width else { return false }
            chunks[chunks.count - 1].append(contentsOf: utf8)
            return true
        }
        if !kept {
            chunks[chunks.count - 1].append(contentsOf: repeatElement(0, count: Self.width))
            others[count] = hash
        }
        count += 1
    }

    /// The hash added at `index` (0-based), as it was added.
    func hash(at index: Int) -> String {
        if let other = others[index] { return other }
        let start = (index % Self.chunk) * Self.width
        return String(decoding: chunks[index / Self.chunk][start..<(start + Self.width)], as: UTF8.self)
    }
}
