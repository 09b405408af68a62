import Foundation

extension AllowedSigners {
    /// Parses an allowed signers file as `ssh-keygen -Y verify` reads it; every malformed line is
    /// an error at the token that is wrong, and allows nothing.
    public static func parse(text: String, path: String) -> (AllowedSigners, [Diagnostic]) {
        var entries: [Entry] = []
        var diagnostics: [Diagnostic] = []
        // Bytes, not Characters: "\r\n" is one Character, and would hide the line end.
        for (offset, line) in Array(text.utf8).split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            var parser = LineParser(bytes: Array(line), number: offset + 1, path: path)
            if let entry = parser.parse() { entries.append(entry) }
            diagnostics += parser.diagnostics
        }
        return (AllowedSigners(path: path, entries: entries), diagnostics)
    }
}

/// One line of an allowed signers file: `principals [options] key-type base64 [comment]`.
private struct LineParser {
    var bytes: [UInt8]
    let number: Int
    let path: String
    var diagnostics: [Diagnostic] = []
    var position = 0

    static let space = UInt8(ascii: " "), tab = UInt8(ascii: "\t"), quote = UInt8(ascii: "\""), comma = UInt8(ascii: ",")
    static let options = ["cert-authority", "namespaces=", "valid-after=", "valid-before="]

    init(bytes: [UInt8], number: Int, path: String) {
        // A CRLF file's carriage returns are line ends, not part of a comment or key.
        self.bytes = bytes.last == UInt8(ascii: "\r") ? Array(bytes.dropLast()) : bytes
        self.number = number
        self.path = path
    }

    mutating func error(_ message: String, at offset: Int, severity: Severity = .error) {
        let column = String(decoding: bytes[..<min(offset, bytes.count)], as: UTF8.self).count + 1
        diagnostics.append(Diagnostic(severity, .allowedSigners, message, path: path, line: number, column: column))
    }

    var atEnd: Bool { position >= bytes.count }

    mutating func skipBlanks() {
        while position < bytes.count, bytes[position] == Self.space || bytes[position] == Self.tab { position += 1 }
    }

    /// The bytes up to the next blank, from `position`.
    mutating func word() -> (start: Int, text: String) {
        let start = position
        while position < bytes.count, bytes[position] != Self.space, bytes[position] != Self.tab { position += 1 }
        return (start, String(decoding: bytes[start..<position], as: UTF8.self))
    }

    /// What follows `position` as a word, without moving.
    func peekWord(from offset: Int) -> String {
        var end = offset
        while end < bytes.count, bytes[end] != Self.space, bytes[end] != Self.tab { end += 1 }
        return String(decoding: bytes[offset..<end], as: UTF8.self)
    }

    mutating func parse() -> AllowedSigners.Entry? {
        skipBlanks()
        guard !atEnd, bytes[position] != UInt8(ascii: "#") else { return nil }
        guard let (principalsStart, principals) = principalsField() else { return nil }
        skipBlanks()
        guard !atEnd else {
            error("the line has principals but no key: expected [options] key-type base64-key after them", at: position)
            return nil
        }
        var options = LineOptions()
        checkCanonical(principals, at: principalsStart)
        let next = peekWord(from: position)
        if !Self.isKeyType(next) {
            let after = position + next.utf8.count
            var probe = self
            probe.position = after
            probe.skipBlanks()
            if Self.looksLikeOptions(next) || Self.isKeyType(probe.peekWord(from: probe.position)) {
                guard let field = optionsField(), parseOptions(field.text, at: field.start, into: &options) else { return nil }
                skipBlanks()
                guard !atEnd else {
                    error("the line has options but no key: expected key-type base64-key after them", at: position)
                    return nil
                }
            }
        }
        let (typeStart, type) = word()
        guard SSHPublicKey.Kind(rawValue: type) != nil else {
            if Self.looksLikeOptions(type) {
                error("options are one word, separated by commas without blanks: join '\(type)' to the options before it with a comma", at: typeStart)
                return nil
            }
            error(SSHPublicKey.Problem.unknownType(type).errorDescription!, at: typeStart)
            return nil
        }
        skipBlanks()
        let (keyStart, base64) = word()
        guard !base64.isEmpty else {
            error("the \(type) key has no base64 after its type", at: keyStart)
            return nil
        }
        do {
            var key = try SSHPublicKey(type: type, base64: base64.utf8)
            skipBlanks()
            key.comment = String(decoding: bytes[min(position, bytes.count)...], as: UTF8.self)
            // A principal not in canonical form is an error for `check`, but OpenSSH uses the line.
            return AllowedSigners.Entry(line: number, principals: principals.pieces, certificateAuthority: options.certificateAuthority,
                                        namespaces: options.namespaces, validAfterSeconds: options.validAfter,
                                        validBeforeSeconds: options.validBefore, key: key)
        } catch let problem {
            error(problem.errorDescription!, at: keyStart)
            return nil
        }
    }

    /// What the options field says.
    struct LineOptions {
        var certificateAuthority = false
        var namespaces: String?
        /// Seconds since 1970.
        var validAfter: Int64?
        var validBefore: Int64?
    }

    /// Whether OpenSSH would read `word` as a key type, so that it is not taken for options: the
    /// types runsheet verifies, and those it names as unsupported.
    static func isKeyType(_ word: String) -> Bool {
        SSHPublicKey.Kind(rawValue: word) != nil || word.hasSuffix("-cert-v01@openssh.com")
            || ["ssh-dss", "ssh-xmss@openssh.com", "webauthn-sk-ecdsa-sha2-nistp256@openssh.com"].contains(word)
    }

    /// Whether `word` starts with an option runsheet knows, in any case.
    static func looksLikeOptions(_ word: String) -> Bool {
        let lowered = word.lowercased()
        return options.contains { lowered.hasPrefix($0) }
    }

    /// The principals: a word, or text in double quotes (which may hold blanks), as OpenSSH's
    /// `strdelimw` reads it.
    mutating func principalsField() -> (Int, (text: String, pieces: [String]))? {
        let start = position
        var collected: [UInt8] = []
        while position < bytes.count, bytes[position] != Self.space, bytes[position] != Self.tab {
            if bytes[position] == Self.quote {
                guard let close = bytes[(position + 1)...].firstIndex(of: Self.quote) else {
                    error("the double quote that opens the principals is never closed", at: position)
                    return nil
                }
                collected += bytes[(position + 1)..<close]
                position = close + 1
                break
            }
            collected.append(bytes[position])
            position += 1
        }
        let text = String(decoding: collected, as: UTF8.self)
        let pieces = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        return (start, (text, pieces))
    }

    /// Each principal must be in the canonical form runsheet asks `ssh-keygen -I` for, since
    /// OpenSSH compares it byte for byte.
    mutating func checkCanonical(_ principals: (text: String, pieces: [String]), at start: Int) {
        let quoted = bytes[start] == Self.quote ? 1 : 0
        var offset = start + quoted
        var emptySeen = false
        for piece in principals.pieces {
            let name = piece.hasPrefix("!") ? String(piece.dropFirst()) : piece
            if name.isEmpty {
                if emptySeen { continue }
                emptySeen = true
                error("an empty principal (two commas, or a comma at an end) names nobody; remove it", at: offset)
            } else {
                let canonical = PersonName.canonical(name)
                if canonical != name {
                    error(AllowedSigners.notCanonical(name),
                          at: offset + (piece.hasPrefix("!") ? 1 : 0))
                }
            }
            offset += piece.utf8.count + 1
        }
    }

    /// The options word, where blanks inside double quotes belong to it.
    mutating func optionsField() -> (start: Int, text: [UInt8])? {
        let start = position
        var quoted = false
        var opening = position
        while position < bytes.count {
            let byte = bytes[position]
            if !quoted, byte == Self.space || byte == Self.tab { break }
            if byte == UInt8(ascii: "\\"), quoted, position + 1 < bytes.count, bytes[position + 1] == Self.quote {
                position += 2
                continue
            }
            if byte == Self.quote {
                quoted.toggle()
                opening = position
            }
            position += 1
        }
        guard !quoted else {
            error("the double quote opened here is never closed", at: opening)
            return nil
        }
        return (start, Array(bytes[start..<position]))
    }

    /// Parses `cert-authority`, `namespaces="…"`, `valid-after="…"`, `valid-before="…"`,
    /// comma-separated, names in any case, as OpenSSH's `sshsigopt_parse` does.
    mutating func parseOptions(_ field: [UInt8], at base: Int, into options: inout LineOptions) -> Bool {
        var index = 0
        var validBeforeAt = base
        func starts(with name: String) -> Bool {
            let name = Array(name.utf8)
            guard field.count - index >= name.count else { return false }
            return zip(field[index..<index + name.count], name).allSatisfy { a, b in
                (a >= 65 && a <= 90 ? a + 32 : a) == b
            }
        }
        while index < field.count {
            let optionStart = index
            if starts(with: "cert-authority") {
                options.certificateAuthority = true
                index += "cert-authority".utf8.count
            } else if let name = ["namespaces", "valid-after", "valid-before"].first(where: { starts(with: $0 + "=") }) {
                index += name.utf8.count + 1
                guard let value = dequote(field, &index, base: base, option: name) else { return false }
                switch name {
                case "namespaces":
                    guard options.namespaces == nil else {
                        error("the option namespaces is given twice", at: base + optionStart)
                        return false
                    }
                    options.namespaces = value
                default:
                    guard (name == "valid-after" ? options.validAfter : options.validBefore) == nil else {
                        error("the option \(name) is given twice", at: base + optionStart)
                        return false
                    }
                    guard let seconds = time(value, option: name, at: base + optionStart) else { return false }
                    if name == "valid-after" { options.validAfter = seconds } else {
                        options.validBefore = seconds
                        validBeforeAt = base + optionStart
                    }
                }
            } else {
                let name = String(decoding: field[index...].prefix { $0 != Self.comma && $0 != UInt8(ascii: "=") }, as: UTF8.self)
                error("unsupported option '\(name)'; allowed signers options are cert-authority, namespaces=, valid-after= and valid-before=", at: base + index)
                return false
            }
            if index == field.count { break }
            guard field[index] == Self.comma else {
                error("expected a comma before the next option, found '\(String(decoding: field[index...].prefix(1), as: UTF8.self))'", at: base + index)
                return false
            }
            index += 1
            if index == field.count {
                error("the options end with a comma", at: base + index - 1)
                return false
            }
        }
        if let after = options.validAfter, let before = options.validBefore, before <= after {
            error("valid-before is not after valid-after, so the key is never valid", at: validBeforeAt)
            return false
        }
        return true
    }

    /// A double-quoted option value, `\"` standing for a quote; moves `index` past it.
    mutating func dequote(_ options: [UInt8], _ index: inout Int, base: Int, option: String) -> String? {
        guard index < options.count, options[index] == Self.quote else {
            error("the value of \(option) must be in double quotes, such as \(option)=\"\(option == "namespaces" ? "runsheet" : "20260101Z")\"", at: base + index)
            return nil
        }
        let open = index
        index += 1
        var value: [UInt8] = []
        while index < options.count, options[index] != Self.quote {
            if options[index] == UInt8(ascii: "\\"), index + 1 < options.count, options[index + 1] == Self.quote { index += 1 }
            value.append(options[index])
            index += 1
        }
        guard index < options.count else {
            error("the double quote opened here is never closed", at: base + open)
            return nil
        }
        index += 1
        return String(decoding: value, as: UTF8.self)
    }

    /// `YYYYMMDD[Z]` or `YYYYMMDDHHMM[SS][Z]` (OpenSSH's `parse_absolute_time`, which also takes
    /// `UTC` for `Z`): UTC with the suffix, else the local time zone, as OpenSSH reads it.
    mutating func time(_ value: String, option: String, at offset: Int) -> Int64? {
        var digits = Substring(value)
        var utc = false
        if digits.uppercased().hasSuffix("UTC") {
            digits = digits.dropLast(3)
            utc = true
        } else if digits.uppercased().hasSuffix("Z") {
            digits = digits.dropLast()
            utc = true
        }
        let numbers = Array(digits.utf8)
        guard [8, 12, 14].contains(numbers.count), numbers.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
            error("\(option)=\"\(value)\" is not a time: write YYYYMMDD or YYYYMMDDHHMM[SS], with Z for UTC", at: offset)
            return nil
        }
        func field(_ from: Int, _ length: Int) -> Int {
            numbers[from..<from + length].reduce(0) { $0 * 10 + Int($1 - 48) }
        }
        var parts = DateComponents()
        parts.year = field(0, 4)
        parts.month = field(4, 2)
        parts.day = field(6, 2)
        parts.hour = numbers.count >= 12 ? field(8, 2) : 0
        parts.minute = numbers.count >= 12 ? field(10, 2) : 0
        parts.second = numbers.count == 14 ? field(12, 2) : 0
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = utc ? TimeZone(identifier: "UTC")! : TimeZone.current
        guard (1...12).contains(parts.month!), (0...23).contains(parts.hour!), (0...59).contains(parts.minute!), (0...59).contains(parts.second!),
              let date = calendar.date(from: parts), calendar.component(.day, from: date) == parts.day else {
            error("\(option)=\"\(value)\" is not a real date and time", at: offset)
            return nil
        }
        if !utc {
            error("\(option)=\"\(value)\" has no Z, so OpenSSH reads it in the time zone of whoever verifies and two auditors in different zones can disagree; add Z to make it UTC",
                  at: offset, severity: .warning)
        }
        return Int64(date.timeIntervalSince1970)
    }
}
