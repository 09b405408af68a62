import Foundation

/// The `Key: value` annotation keys a step or section understands.
enum AnnotationKey: String, CaseIterable {
    case id, estimate, when
    case onFailure = "on-failure"
    case next
    case signOff = "sign-off"
    case separation
    case onReject = "on-reject"
    case timeout, retries, poll
    case expectExit = "expect-exit"
    case expectOutput = "expect-output"
    case include, role, production, lesson, components

    static let sectionKeys: [AnnotationKey] = [.when, .onFailure, .next]
    private static let names = allCases.map(\.rawValue)

    /// The documented spelling.
    var display: String {
        switch self {
        case .onFailure: "On failure"
        case .onReject: "On reject"
        case .signOff: "Sign-off"
        case .expectExit: "Expect exit"
        case .expectOutput: "Expect output"
        default: rawValue.prefix(1).uppercased() + rawValue.dropFirst()
        }
    }

    /// Keys that carry a rule (who signs, who may not, what is production): a misspelling of one
    /// would drop the rule without a word, so it is an error, not a warning.
    var governs: Bool {
        switch self {
        case .signOff, .separation, .onReject, .role, .production, .components: true
        default: false
        }
    }

    /// Case-insensitive, with spaces, hyphens and underscores alike.
    static func normalize(_ key: String) -> String {
        if key.utf8.allSatisfy({ $0 < 0x80 }) {
            if !key.utf8.contains(where: { $0 == 0x20 || $0 == 0x5F || (0x41...0x5A).contains($0) }) { return key }
            var key = key
            return key.withUTF8 { utf8 in
                String(unsafeUninitializedCapacity: utf8.count) { out in
                    for i in 0..<utf8.count {
                        let byte = utf8[i]
                        switch byte {
                        case 0x20, 0x5F: out[i] = 0x2D
                        case 0x41...0x5A: out[i] = byte | 0x20
                        default: out[i] = byte
                        }
                    }
                    return utf8.count
                }
            }
        }
        return String(key.lowercased().map { $0 == " " || $0 == "_" ? "-" : $0 })
    }

    /// The governance key a line only looks like: `**Sign-off:**`, `Sign-off:2`, `Sign-off :`,
    /// `Sign‐off` with a Unicode hyphen, a full-width colon, an invisible character in the key.
    /// Written so, the line is no annotation and its rule would be dropped without a word.
    static func governanceLookalike(_ line: String) -> AnnotationKey? {
        var cleaned = String.UnicodeScalarView()
        for scalar in line.unicodeScalars where !scalar.properties.isDefaultIgnorableCodePoint {
            switch scalar.value {
            case 0x2010...0x2015, 0x2212, 0xFE58, 0xFE63, 0xFF0D: cleaned.append("-")
            case 0xFF1A, 0xFE55, 0xFE13: cleaned.append(":")
            case 0x2A, 0x5F, 0x60: break  // emphasis and code marks
            default: cleaned.append(scalar)
            }
        }
        let text = String(cleaned).precomposedStringWithCompatibilityMapping
        guard let colon = text.firstIndex(of: ":") else {
            // `Sign-off - 2 of sre`, `Production = yes`: a governance key, exactly, then another separator.
            for separator in [" - ", " = ", " => ", " -- "] {
                guard let range = text.range(of: separator) else { continue }
                let key = AnnotationKey(rawValue: normalize(String(text[..<range.lowerBound]).trimmed))
                if key?.governs == true { return key }
            }
            return nil
        }
        let key = String(text[..<colon]).trimmed
        guard !key.isEmpty, key.count <= 30, key.allSatisfy({ $0.isLetter || $0 == " " || $0 == "-" }) else { return nil }
        let normalized = normalize(key)
        let known = AnnotationKey(rawValue: normalized) ?? suggestion(for: normalized)
        return known?.governs == true ? known : nil
    }

    /// The governance key a line of Markdown source written as a bullet (`- Sign-off: ...`) looks
    /// like, for a bullet that ended up outside any list (in a title, in an indented code block).
    static func governanceBullet(_ line: Substring) -> AnnotationKey? {
        let text = String(line).trimmed
        guard text.hasPrefix("- ") || text.hasPrefix("* ") else { return nil }
        return governanceLookalike(String(text.dropFirst(2)))
    }

    /// The known key a misspelt one most likely meant.
    static func suggestion(for normalized: String) -> AnnotationKey? {
        let length = normalized.count
        guard length >= 5 else { return nil }
        return EditDistance.closest(to: normalized, in: names, maximum: length >= 8 ? 2 : 1).flatMap(AnnotationKey.init)
    }
}

/// One `Key: value` line as written.
struct RawAnnotation {
    var key: String
    var value: String
    /// The URL of the first link in the value, if any.
    var link: String?
    var line: Int
    /// Character column of the key.
    var column: Int
    /// `key` normalized, and the annotation key it names, if any: worked out once, read often.
    let normalizedKey: String
    let knownKey: AnnotationKey?

    init(key: String, value: String, link: String?, line: Int, column: Int) {
        self.key = key
        self.value = value
        self.link = link
        self.line = line
        self.column = column
        normalizedKey = AnnotationKey.normalize(key)
        knownKey = AnnotationKey(rawValue: normalizedKey)
    }
}

enum AnnotationValue {
    /// Splits `Key: value` off the front of a line; nil when the line does not have that shape.
    static func split(_ text: String) -> (key: String, value: String)? {
        if let fast = asciiKeySplit(text) { return fast.key.map { ($0, fast.value) } }
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let key = text[..<colon]
        guard let first = key.first, first.isLetter, key.count <= 30,
              key.allSatisfy({ $0.isLetter || $0 == " " || $0 == "-" || $0 == "_" }),
              key.split(separator: " ").count <= 3, key.last != " " else { return nil }
        let after = text[text.index(after: colon)...]
        guard after.isEmpty || after.first == " " || after.first == "\t" else { return nil }
        return (String(key), String(after).trimmed)
    }

    /// `split` decided on bytes when the key and the two bytes after the colon are ASCII (so no
    /// character can span the cuts); nil to leave it to `split`'s character-based path. `key` is
    /// nil when the line is not a `Key: value` line.
    private static func asciiKeySplit(_ text: String) -> (key: String?, value: String)? {
        var copy = text
        // The colon's byte offset, nil to defer to `split`, or -1 when the line is not `Key: value`.
        let found: Int? = copy.withUTF8 { utf8 in
            var words = 0
            var previous: UInt8 = 0x20
            var colon = -1
            for i in 0..<utf8.count {
                let byte = utf8[i]
                if byte == 0x3A { colon = i; break }
                guard byte < 0x80 else { return nil }
                if i < 31 {
                    let isLetter = (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                    guard i > 0 || isLetter, isLetter || byte == 0x20 || byte == 0x2D || byte == 0x5F else { return -1 }
                    if byte != 0x20 && previous == 0x20 { words += 1 }
                }
                previous = byte
            }
            guard colon >= 0 else { return -1 }
            for k in (colon + 1)..<min(colon + 3, utf8.count) where utf8[k] >= 0x80 { return nil }
            guard colon > 0, colon <= 30, words <= 3, previous != 0x20 else { return -1 }
            if colon + 1 < utf8.count && utf8[colon + 1] != 0x20 && utf8[colon + 1] != 0x09 { return -1 }
            return colon
        }
        guard let found else { return nil }
        guard found >= 0 else { return (nil, "") }
        let colon = text.utf8.index(text.utf8.startIndex, offsetBy: found)
        return (String(text[..<colon]), String(text[text.utf8.index(after: colon)...]).trimmed)
    }

    /// `[Text](#section)`, `#section`, or one of the allowed words.
    static func target(_ raw: RawAnnotation, allowed: [Target]) -> Result<Target, ValueProblem> {
        if let link = raw.link {
            guard link.hasPrefix("#"), link.count > 1 else {
                return .failure("'\(link)' is not a link to a section of this file; use [Title](#anchor)")
            }
            let anchor = String(link.dropFirst())
            // Plain ASCII without '%' decodes to itself.
            if anchor.utf8.allSatisfy({ $0 < 0x80 && $0 != 0x25 }) { return .success(.section(anchor)) }
            return .success(.section(anchor.removingPercentEncoding ?? anchor))
        }
        let word = raw.value.trimmed.lowercased()
        if word.hasPrefix("#") && word.count > 1 { return .success(.section(String(word.dropFirst()))) }
        if let match = allowed.first(where: { $0.description == word }) { return .success(match) }
        let words = (["[Title](#section)"] + allowed.map(\.description)).joined(separator: ", ")
        return .failure("'\(raw.value)' is not a target; use one of \(words)")
    }

    private static let numberWords = ["one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9]

    /// `2 of sre or dba`, `1 of release-manager`, `release-manager`.
    static func signOff(_ value: String) -> Result<SignOffRule, ValueProblem> {
        var text = value.trimmed
        var count = 1
        let words = text.split(separator: " ", maxSplits: 2).map(String.init)
        if words.count >= 3, words[1].lowercased() == "of" {
            guard let n = Int(words[0]) ?? numberWords[words[0].lowercased()], n >= 1, n <= 99 else {
                return .failure("'\(words[0])' is not a number of people; write e.g. '2 of sre or dba'")
            }
            count = n
            text = words[2]
        }
        let roles = text.replacingOccurrences(of: " or ", with: ",").split(separator: ",")
            .map { String($0).trimmed.trimmingQuotes }
            .filter { !$0.isEmpty }
        guard !roles.isEmpty else { return .failure("'\(value)' names no role; write e.g. '2 of sre or dba'") }
        if let bad = roles.first(where: { !isRoleName($0) }) {
            return .failure("'\(bad)' is not a role name (letters, digits, '-' and '_')")
        }
        return .success(SignOffRule(count: count, roles: roles))
    }

    static func isRoleName(_ name: String) -> Bool {
        !name.isEmpty && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }
    }

    static func separation(_ value: String) -> Result<[Separation], ValueProblem> {
        var result: [Separation] = []
        for part in value.split(separator: ",") {
            let word = String(part).trimmed.lowercased()
                .replacingOccurrences(of: "not ", with: "")
                .replacingOccurrences(of: "the ", with: "")
            guard let kind = Separation(rawValue: word) else {
                return .failure("'\(String(part).trimmed)' is not starter or executor")
            }
            if !result.contains(kind) { result.append(kind) }
        }
        return result.isEmpty ? .failure("name who may not sign: starter, executor") : .success(result)
    }

    /// `3`, `3 every 10s`, `3 times every 10s`.
    static func retries(_ value: String) -> Result<Retries, ValueProblem> {
        let lowered = value.trimmed.lowercased()
        let parts = lowered.components(separatedBy: " every ")
        let countText = parts[0].replacingOccurrences(of: " times", with: "").trimmed
        guard let count = Int(countText), count >= 0, count <= 1000 else {
            return .failure("'\(value)' is not a retry count; write e.g. '3' or '3 every 10s'")
        }
        var delay = 0
        if parts.count == 2 {
            guard let seconds = DurationText.seconds(parts[1]) else { return .failure("'\(parts[1])' is not a duration") }
            delay = seconds
        } else if parts.count > 2 {
            return .failure("'\(value)' is not a retry count; write e.g. '3' or '3 every 10s'")
        }
        return .success(Retries(count: count, delaySeconds: delay))
    }

    /// `every 5s for 2m`.
    static func poll(_ value: String) -> Result<Poll, ValueProblem> {
        let lowered = value.trimmed.lowercased()
        let usage = "write e.g. 'every 5s for 2m'"
        guard lowered.hasPrefix("every ") else { return .failure("'\(value)' is not a poll; \(usage)") }
        let rest = lowered.dropFirst("every ".count)
        var separator: String?
        for candidate in [" for ", " up to ", " until "] where rest.contains(candidate) {
            separator = candidate
            break
        }
        guard let separator else { return .failure("'\(value)' has no limit; \(usage)") }
        let parts = rest.components(separatedBy: separator)
        guard parts.count == 2, let interval = DurationText.seconds(parts[0]), let limit = DurationText.seconds(parts[1]) else {
            return .failure("'\(value)' is not a poll; \(usage)")
        }
        guard interval > 0, limit >= interval else {
            return .failure("the poll interval must be positive and no longer than the limit")
        }
        return .success(Poll(intervalSeconds: interval, limitSeconds: limit))
    }

    static func exitCodes(_ value: String) -> Result<[Int32], ValueProblem> {
        var codes: [Int32] = []
        for part in value.split(separator: ",") {
            guard let code = Int32(String(part).trimmed), code >= 0, code <= 255 else {
                return .failure("'\(String(part).trimmed)' is not an exit code (0-255)")
            }
            codes.append(code)
        }
        return codes.isEmpty ? .failure("list at least one exit code") : .success(codes)
    }

    static func output(
        _ value: String, isValidPattern: (String) -> Bool = { (try? NSRegularExpression(pattern: $0)) != nil }
    ) -> Result<OutputExpectation, ValueProblem> {
        var text = value.trimmed
        if text.count >= 2, text.hasPrefix("`"), text.hasSuffix("`") { text = String(text.dropFirst().dropLast()).trimmed }
        if text.count >= 2, text.hasPrefix("/"), text.hasSuffix("/") {
            let pattern = String(text.dropFirst().dropLast())
            guard isValidPattern(pattern) else {
                return .failure("'\(pattern)' is not a valid regular expression")
            }
            return .success(.regex(pattern))
        }
        text = text.trimmingQuotes
        return text.isEmpty ? .failure("give the text the output must contain") : .success(.contains(text))
    }

    static func flag(_ value: String) -> Bool? {
        switch value.trimmed.lowercased() {
        case "yes", "true", "on": true
        case "no", "false", "off": false
        default: nil
        }
    }

    static func isStepID(_ id: String) -> Bool {
        guard let first = id.first, first.isLetter || first.isNumber else { return false }
        return id.allSatisfy { ($0.isLetter && !$0.isUppercase) || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }
    }
}

/// Why an annotation value could not be read: one sentence.
struct ValueProblem: Error, ExpressibleByStringInterpolation {
    var text: String
    init(stringLiteral value: String) { text = value }
    init(stringInterpolation: DefaultStringInterpolation) { text = String(stringInterpolation: stringInterpolation) }
}
