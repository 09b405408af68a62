/// Puts parameter values into shell commands as data, never as code.
public enum ShellQuoting {
    /// What a secret value becomes wherever it would be shown or stored.
    public static let mask = "••••"

    /// POSIX single-quote quoting: inside `'...'` nothing is special except `'`, written as `'\''`.
    public static func quote(_ value: String) -> String {
        var out = "'"
        for character in value {
            if character == "'" { out += "'\\''" } else { out.append(character) }
        }
        out += "'"
        return out
    }

    /// A fish single-quoted word: inside `'...'` fish still reads `\\` and `\'` as escapes.
    public static func quoteForFish(_ value: String) -> String {
        var out = "'"
        for character in value {
            if character == "'" || character == "\\" { out.append("\\") }
            out.append(character)
        }
        out += "'"
        return out
    }

    /// A PowerShell single-quoted word: a quote is doubled, and PowerShell also takes the
    /// typographic quotes U+2018 to U+201B for `'`.
    public static func quoteForPowerShell(_ value: String) -> String {
        var out = "'"
        for character in value {
            if ["'", "\u{2018}", "\u{2019}", "\u{201A}", "\u{201B}"].contains(character) { out.append(character) }
            out.append(character)
        }
        out += "'"
        return out
    }

    /// Replaces `{{name}}` / `{{ name }}` with the quoted value; unknown names are left as written.
    public static func substitute(_ code: String, values: [String: String]) -> String {
        Placeholders.substitute(code) { name in values[name].map(quote) }
    }

    /// The command as shown to the operator: raw values, with every secret value masked.
    public static func display(_ code: String, values: [String: String], secrets: [String]) -> String {
        let text = Placeholders.substitute(code) { values[$0] }
        return mask(text, secrets: secrets)
    }

    /// `text` with every occurrence of each non-empty secret replaced by ``mask``.
    public static func mask(_ text: String, secrets: [String]) -> String {
        var masker = SecretMasker(secrets: secrets)
        guard masker.isActive else { return text }
        var bytes = masker.feed(Array(text.utf8))
        bytes += masker.finish()
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Masks secrets in a byte stream that arrives in chunks, including a secret split across chunks.
///
/// Bytes that could still be the start of a secret are held back until the next chunk (at most the
/// longest secret's length minus one), so output is never delayed waiting for a newline.
public struct SecretMasker: Sendable {
    private let secrets: [[UInt8]]
    private let startsSecret: [Bool]
    private var pending: [UInt8] = []

    /// `secrets` are the values to hide; empty strings are ignored.
    public init(secrets: [String]) {
        let unique = Set(secrets.filter { !$0.isEmpty }.map { Array($0.utf8) })
        // Longest first, so a secret that contains a shorter one is masked whole.
        self.secrets = unique.sorted { $0.count != $1.count ? $0.count > $1.count : $0.lexicographicallyPrecedes($1) }
        var starts = [Bool](repeating: false, count: 256)
        for secret in self.secrets { starts[Int(secret[0])] = true }
        startsSecret = starts
    }

    /// Whether there is anything to mask at all.
    public var isActive: Bool { !secrets.isEmpty }

    /// Masks the next chunk; returns the bytes that are safe to pass on now.
    public mutating func feed(_ chunk: [UInt8]) -> [UInt8] {
        guard isActive else { return chunk }
        let buffer = pending.isEmpty ? chunk : pending + chunk
        let (out, consumed) = scan(buffer, final: false)
        pending = Array(buffer[consumed...])
        return out
    }

    /// Masks and returns whatever was held back; call once at the end of the stream.
    public mutating func finish() -> [UInt8] {
        guard isActive, !pending.isEmpty else { return [] }
        let (out, _) = scan(pending, final: true)
        pending = []
        return out
    }

    private func scan(_ buffer: [UInt8], final: Bool) -> (out: [UInt8], consumed: Int) {
        let mask = Array(ShellQuoting.mask.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(buffer.count)
        return buffer.withUnsafeBufferPointer { bytes in
            let count = bytes.count
            var i = 0
            var runStart = 0
            scanning: while i < count {
                guard startsSecret[Int(bytes[i])] else { i += 1; continue }
                for secret in secrets {
                    let available = count - i
                    if available >= secret.count {
                        if secret.withUnsafeBufferPointer({ s in (0..<s.count).allSatisfy { bytes[i + $0] == s[$0] } }) {
                            out.append(contentsOf: bytes[runStart..<i])
                            out.append(contentsOf: mask)
                            i += secret.count
                            runStart = i
                            continue scanning
                        }
                    } else if !final, (0..<available).allSatisfy({ bytes[i + $0] == secret[$0] }) {
                        // Could become a (longer) secret once more bytes arrive: hold back from here.
                        out.append(contentsOf: bytes[runStart..<i])
                        return (out, i)
                    }
                }
                i += 1
            }
            out.append(contentsOf: bytes[runStart..<count])
            return (out, count)
        }
    }
}
