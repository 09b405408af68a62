/// Reads the SSH wire encoding of RFC 4251 §5 (`uint32`, `string`, `mpint`), as public keys,
/// signatures and SSHSIG blobs use it. Every read checks its length, so a truncated blob is a
/// thrown `Truncated`, never a crash.
struct SSHWireReader {
    struct Truncated: Error {}

    let bytes: [UInt8]
    private(set) var offset: Int

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        offset = 0
    }

    var isAtEnd: Bool { offset == bytes.count }

    mutating func byte() throws(Truncated) -> UInt8 {
        guard offset < bytes.count else { throw Truncated() }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func uint32() throws(Truncated) -> UInt32 {
        guard bytes.count - offset >= 4 else { throw Truncated() }
        var value: UInt32 = 0
        for index in offset..<offset + 4 { value = value << 8 | UInt32(bytes[index]) }
        offset += 4
        return value
    }

    mutating func fixed(_ count: Int) throws(Truncated) -> ArraySlice<UInt8> {
        guard count >= 0, bytes.count - offset >= count else { throw Truncated() }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    mutating func string() throws(Truncated) -> ArraySlice<UInt8> {
        try fixed(Int(try uint32()))
    }

    /// A `string` read as text; nil when it is not UTF-8.
    mutating func text() throws(Truncated) -> String? {
        String(validating: try string(), as: UTF8.self)
    }

    /// An `mpint` as its magnitude without leading zero bytes (SSH writes a leading zero to keep
    /// a positive number's top bit clear); nil for a negative number.
    mutating func positiveMPInt() throws(Truncated) -> ArraySlice<UInt8>? {
        let raw = try string()
        if let first = raw.first, first & 0x80 != 0 { return nil }
        return raw.drop { $0 == 0 }
    }
}

/// Writes the SSH wire encoding: what a signature's signed data is built from.
struct SSHWireWriter {
    private(set) var bytes: [UInt8] = []

    mutating func uint32(_ value: UInt32) {
        bytes += [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    mutating func string(_ value: some Collection<UInt8>) {
        uint32(UInt32(value.count))
        bytes += value
    }

    mutating func string(_ value: String) { string(Array(value.utf8)) }

    mutating func raw(_ value: some Collection<UInt8>) { bytes += value }
}

/// Base64 as OpenSSH reads it in keys and armored signatures: whitespace between the characters
/// is skipped, padding is optional only where OpenSSH leaves it out (fingerprints).
enum SSHBase64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, character) in alphabet.enumerated() { table[Int(character)] = UInt8(index) }
        return table
    }()

    /// Decodes `text`, skipping spaces, tabs and line ends; nil when it is not base64 (a wrong
    /// character, a wrong length or misplaced padding).
    static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        var output: [UInt8] = []
        output.reserveCapacity(text.count * 3 / 4)
        var accumulator: UInt32 = 0
        var count = 0
        var padding = 0
        for character in text {
            switch character {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                continue
            case UInt8(ascii: "="):
                padding += 1
                accumulator <<= 6
                count += 1
            default:
                let value = values[Int(character)]
                guard value != 0xFF, padding == 0 else { return nil }
                accumulator = accumulator << 6 | UInt32(value)
                count += 1
            }
            if count == 4 {
                output.append(UInt8(accumulator >> 16 & 0xFF))
                if padding < 2 { output.append(UInt8(accumulator >> 8 & 0xFF)) }
                if padding < 1 { output.append(UInt8(accumulator & 0xFF)) }
                accumulator = 0
                count = 0
            }
        }
        guard count == 0, padding <= 2 else { return nil }
        return output
    }

    /// Encodes `bytes`, with `=` padding unless `padded` is false.
    static func encode(_ bytes: some Collection<UInt8>, padded: Bool = true) -> String {
        var output: [UInt8] = []
        output.reserveCapacity((bytes.count + 2) / 3 * 4)
        var iterator = bytes.makeIterator()
        while let first = iterator.next() {
            let second = iterator.next()
            let third = iterator.next()
            let value = UInt32(first) << 16 | UInt32(second ?? 0) << 8 | UInt32(third ?? 0)
            output.append(alphabet[Int(value >> 18 & 0x3F)])
            output.append(alphabet[Int(value >> 12 & 0x3F)])
            if second != nil { output.append(alphabet[Int(value >> 6 & 0x3F)]) } else if padded { output.append(UInt8(ascii: "=")) }
            if third != nil { output.append(alphabet[Int(value & 0x3F)]) } else if padded { output.append(UInt8(ascii: "=")) }
        }
        return String(decoding: output, as: UTF8.self)
    }
}
