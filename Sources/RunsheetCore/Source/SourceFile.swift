/// The bytes of one runbook file with a line index, validated as UTF-8.
public struct SourceFile: Sendable {
    /// The path as the user gave it; used in diagnostics.
    public let path: String
    /// The file's bytes without a leading UTF-8 byte-order mark.
    public let bytes: [UInt8]
    /// Byte offset of each line's first byte in `bytes`.
    let lineStarts: [Int]

    public init(path: String, bytes: [UInt8]) {
        self.path = path
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            self.bytes = Array(bytes.dropFirst(3))
        } else {
            self.bytes = bytes
        }
        var starts = [0]
        starts.reserveCapacity(self.bytes.count / 32 + 1)
        self.bytes.withUnsafeBufferPointer { buffer in
            for i in 0..<buffer.count where buffer[i] == 0x0A {
                starts.append(i + 1)
            }
        }
        lineStarts = starts
    }

    public init(path: String, text: String) {
        self.init(path: path, bytes: Array(text.utf8))
    }

    public var lineCount: Int { lineStarts.count }

    /// Byte range of a 1-based line, without its line terminator.
    public func lineRange(_ line: Int) -> Range<Int> {
        guard line >= 1 && line <= lineStarts.count else { return bytes.count..<bytes.count }
        let start = lineStarts[line - 1]
        var end = line < lineStarts.count ? lineStarts[line] - 1 : bytes.count
        if end > start && end <= bytes.count && end - 1 >= start && bytes[end - 1] == 0x0D { end -= 1 }
        return start..<max(start, end)
    }

    public func lineText(_ line: Int) -> String {
        String(decoding: bytes[lineRange(line)], as: UTF8.self)
    }

    /// Byte offset of a 1-based line and 1-based byte column.
    public func offset(line: Int, byteColumn: Int) -> Int {
        let range = lineRange(line)
        return min(range.lowerBound + max(byteColumn - 1, 0), bytes.count)
    }

    /// Converts a 1-based byte column (as cmark reports it) to a 1-based character column.
    public func characterColumn(line: Int, byteColumn: Int) -> Int {
        let range = lineRange(line)
        let wanted = range.lowerBound + max(byteColumn - 1, 0)
        let end = min(wanted, range.upperBound)
        var column = 1
        for i in range.lowerBound..<end where bytes[i] & 0xC0 != 0x80 {
            column += 1
        }
        return column + (wanted - end)
    }

    /// The 1-based line and byte column of a byte offset.
    public func position(ofOffset offset: Int) -> (line: Int, byteColumn: Int) {
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if lineStarts[mid] <= offset { low = mid } else { high = mid - 1 }
        }
        return (low + 1, offset - lineStarts[low] + 1)
    }
}

/// What is wrong with a file's encoding, if anything.
public enum EncodingProblem: Sendable, Equatable {
    case invalidUTF8(offset: Int)
    case nulByte(offset: Int)
}

extension SourceFile {
    /// Finds the first NUL byte or invalid UTF-8 sequence. Offsets count from the start of the
    /// file as stored on disk (a byte-order mark included).
    public static func encodingProblem(in bytes: [UInt8]) -> EncodingProblem? {
        bytes.withUnsafeBufferPointer { b -> EncodingProblem? in
            var i = 0
            let n = b.count
            while i < n {
                let c = b[i]
                if c < 0x80 {
                    if c == 0 { return .nulByte(offset: i) }
                    i += 1
                    continue
                }
                let length: Int
                let minimum: UInt32
                var scalar: UInt32
                switch c {
                case 0xC2...0xDF: length = 2; scalar = UInt32(c & 0x1F); minimum = 0x80
                case 0xE0...0xEF: length = 3; scalar = UInt32(c & 0x0F); minimum = 0x800
                case 0xF0...0xF4: length = 4; scalar = UInt32(c & 0x07); minimum = 0x10000
                default: return .invalidUTF8(offset: i)
                }
                guard i + length <= n else { return .invalidUTF8(offset: i) }
                for k in 1..<length {
                    let next = b[i + k]
                    guard next & 0xC0 == 0x80 else { return .invalidUTF8(offset: i) }
                    scalar = scalar << 6 | UInt32(next & 0x3F)
                }
                if scalar < minimum || scalar > 0x10FFFF || (0xD800...0xDFFF).contains(scalar) {
                    return .invalidUTF8(offset: i)
                }
                i += length
            }
            return nil
        }
    }
}
