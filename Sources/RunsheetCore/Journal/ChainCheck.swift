import Crypto

/// Checks a journal's lines as they are read, one at a time: each is the canonical encoding of its
/// event, its hash matches, and it follows the line before (seq + 1, prev = that line's hash).
///
/// It only says whether a line checks out. Why one does not (altered, removed, reordered…) needs
/// the whole file and is `JournalVerifier`'s to explain, so reading a journal that verifies costs
/// one pass and one hash per line.
struct ChainCheck {
    private var previous: (seq: Int, hash: String)?

    /// Whether the line at `range` holding `event` checks out. `hashValue` is where the line's hash
    /// value is when the decoder found the line canonical; then the line's own bytes are hashed,
    /// else the event is encoded again and compared byte for byte.
    mutating func accepts(_ event: RunEvent, in buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>,
                          hashValue: Range<Int>?) throws -> Bool {
        let follows = previous.map { event.seq == $0.seq + 1 && event.prev == $0.hash }
            ?? (event.seq == 1 && event.prev.isEmpty && event.type == .runStarted)
        guard follows, try Self.isSealed(event, in: buffer, range, hashValue: hashValue) else { return false }
        previous = (event.seq, event.hash)
        return true
    }

    /// Whether the line is the canonical encoding of `event` and `event.hash` is its hash.
    static func isSealed(_ event: RunEvent, in buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>,
                         hashValue: Range<Int>?) throws -> Bool {
        if let hashValue {
            // The line is canonical, so without its hash value it is the encoding that was hashed;
            // the value is compared as it stands in the line (canonical: no escapes), without a String.
            guard hashValue.count == 64 else { return false }
            var hasher = SHA256()
            hasher.update(bufferPointer: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: buffer[range.lowerBound..<hashValue.lowerBound])))
            hasher.update(bufferPointer: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: buffer[hashValue.upperBound..<range.upperBound])))
            let digits = CanonicalEventWriter.hexDigits
            return hasher.finalize().withUnsafeBytes { digest in
                var at = hashValue.lowerBound
                for byte in digest {
                    guard buffer[at] == digits[Int(byte >> 4)], buffer[at + 1] == digits[Int(byte & 0x0F)] else { return false }
                    at += 2
                }
                return true
            }
        }
        var unsealed = event
        unsealed.hash = ""
        let encoding = try unsealed.canonicalBytes()
        guard SHA256Hex.of(encoding) == event.hash else { return false }
        return JournalFile.filling(hash: event.hash, into: encoding).map { buffer[range].elementsEqual($0) } ?? false
    }
}
