/// Every hash of a journal so far, by position, for the seal check: the 64 bytes of each hash as
/// runsheet writes them, one after another. Kept as strings, a long journal's hashes were one
/// allocation of about 100 bytes each, 13 MB of a 100,000-event `status` (docs/BENCHMARKS.md).
/// A hash of another length (an edited journal's) is kept as it is; `hash(at:)` gives back
/// exactly what was added either way.
struct EventHashes {
    private static let width = 64
    private var bytes: [UInt8] = []
    private var others: [Int: String] = [:]

    private(set) var count = 0

    mutating func append(_ hash: String) {
        var hash = hash
        let kept = hash.withUTF8 { utf8 -> Bool in
            guard utf8.count == Self.width else { return false }
            bytes.append(contentsOf: utf8)
            return true
        }
        if !kept {
            bytes.append(contentsOf: repeatElement(0, count: Self.width))
            others[count] = hash
        }
        count += 1
    }

    /// The hash added at `index` (0-based), as it was added.
    func hash(at index: Int) -> String {
        if let other = others[index] { return other }
        return String(decoding: bytes[(index * Self.width)..<((index + 1) * Self.width)], as: UTF8.self)
    }
}
