import Foundation

/// A lexer for sh-family command text that tracks the quoting context and writes each
/// placeholder as a reference the shell expands as data.
///
/// Where it may read the text differently from the shell (`case` inside `$(...)`, `\\` inside
/// backquotes, `$'...'` with a backslash in a shell that may lack it, ...), it stops writing values
/// into quoted here-documents: a misread there would be the only way for a value to become code.
struct BourneSubstitution {
    enum Context: Equatable {
        case command
        case commandSubstitution(parentheses: Int)
        case backquote(inDoubleQuotes: Bool)
        /// `$(( ... ))`, or `(( ... ))` when `dollar` is false.
        case arithmetic(parentheses: Int, dollar: Bool)
        /// `escaped`: written `\" ... \"` inside backquotes inside double quotes.
        case doubleQuoted(escaped: Bool)
        case singleQuoted
        case dollarQuoted
        case parameter(inDoubleQuotes: Bool)
        case comment
        /// The body of a here-document whose delimiter is not quoted.
        case hereDocument
    }

    struct HereDocument {
        var delimiter: [UInt8]
        var quoted: Bool
        var stripsTabs: Bool
        /// How deep in the stack the operator stood: its body follows a newline at that depth.
        var level: Int
    }

    /// Here-documents nested deeper than this inside here-documents are not lexed.
    static let maximumDepth = 16

    let bytes: [UInt8]
    let placeholders: [Int: Placeholders.Occurrence]
    let values: [String: PlaceholderValue]
    let extended: Bool
    let depth: Int
    let end: Int
    var out: [UInt8] = []
    /// False once the text held something this lexer may read differently from the shell.
    var certain: Bool
    var stack: [Context]
    var pending: [HereDocument] = []
    var wordStart = true
    var backquotes = 0
    var quotedBackquotes = 0
    var i: Int

    init(bytes: [UInt8], occurrences: [Placeholders.Occurrence], values: [String: PlaceholderValue], extended: Bool) {
        self.init(bytes: bytes, placeholders: Dictionary(occurrences.map { ($0.range.lowerBound, $0) }, uniquingKeysWith: { a, _ in a }),
                  values: values, extended: extended, depth: 0, certain: true,
                  range: 0..<bytes.count, context: .command)
    }

    /// A lexer for `range` of `bytes` that starts in `context`: a here-document body is lexed by one.
    init(bytes: [UInt8], placeholders: [Int: Placeholders.Occurrence], values: [String: PlaceholderValue],
         extended: Bool, depth: Int, certain: Bool, range: Range<Int>, context: Context) {
        self.bytes = bytes
        self.placeholders = placeholders
        self.values = values
        self.extended = extended
        self.depth = depth
        self.certain = certain
        stack = [context]
        i = range.lowerBound
        end = range.upperBound
    }

    mutating func run() {
        while i < end {
            if let occurrence = placeholders[i], occurrence.range.upperBound <= end {
                writePlaceholder(occurrence)
            } else if backquotes > 0, backquoteLayer() {
                continue
            } else {
                switch stack.last ?? .command {
                case .command, .commandSubstitution, .backquote: commandByte()
                case .arithmetic(let parentheses, let dollar): arithmeticByte(parentheses, dollar: dollar)
                case .doubleQuoted(let escaped): doubleQuotedByte(escaped: escaped)
                case .singleQuoted: singleQuotedByte()
                case .dollarQuoted: dollarQuotedByte()
                case .parameter(let inDoubleQuotes): parameterByte(inDoubleQuotes: inDoubleQuotes)
                case .comment: commentByte()
                case .hereDocument: hereDocumentByte()
                }
            }
        }
        if (stack.count > 1 && stack.last != .comment) || !pending.isEmpty { certain = false }
    }

    // MARK: - Placeholders

    mutating func writePlaceholder(_ occurrence: Placeholders.Occurrence) {
        defer {
            i = occurrence.range.upperBound
            wordStart = false
        }
        guard let value = values[occurrence.name] else {
            out.append(contentsOf: bytes[occurrence.range])
            return
        }
        let reference = "${\(value.variable)}"
        var text: String
        switch stack.last ?? .command {
        case .command, .commandSubstitution, .backquote, .parameter(inDoubleQuotes: false):
            text = "\"\(reference)\""
        case .doubleQuoted, .parameter(inDoubleQuotes: true), .hereDocument, .comment: text = reference
        case .singleQuoted: text = "'\"\(reference)\"'"
        case .dollarQuoted: text = "'\"\(reference)\"$'"
        case .arithmetic:
            // bash, zsh and ksh evaluate an expanded operand again as an expression, which can run commands.
            text = Self.isInteger(value.value) ? reference : "'\(occurrence.name) is not an integer'"
        }
        // Backquoted text inside double quotes is unescaped once before it is parsed.
        if quotedBackquotes > 0 { text = text.replacingOccurrences(of: "\"", with: "\\\"") }
        out.append(contentsOf: text.utf8)
    }

    static func isInteger(_ text: String) -> Bool {
        var digits = Substring(text)
        if digits.first == "-" || digits.first == "+" { digits = digits.dropFirst() }
        return !digits.isEmpty && digits.utf8.allSatisfy { (0x30...0x39).contains($0) }
    }

    // MARK: - Contexts

    /// Backquoted text ends at the first unescaped backquote, whatever quotes it holds, and
    /// `\``, `\\` and `\$` are unescaped in it before it is parsed.
    mutating func backquoteLayer() -> Bool {
        let c = bytes[i]
        if c == .backslash, i + 1 < end, [.backquote, .backslash, .dollar].contains(bytes[i + 1]) {
            // The shell parses `\\` as one backslash, which then escapes what follows.
            if bytes[i + 1] == .backslash { certain = false }
            copy(2)
            return true
        }
        guard c == .backquote else { return false }
        if case .backquote = stack.last { return false }
        if stack.last != .comment { certain = false }
        while let top = stack.last {
            pop()
            if case .backquote = top { break }
        }
        copy(1)
        wordStart = false
        return true
    }

    mutating func commandByte() {
        let c = bytes[i]
        let next = i + 1 < end ? bytes[i + 1] : 0
        switch c {
        case .backslash:
            // `\{{x}}`: the backslash escaped only the brace the value replaces.
            if placeholders[i + 1] != nil {
                i += 1
                return
            }
            if next == .doubleQuote, stack.last == .backquote(inDoubleQuotes: true) {
                push(.doubleQuoted(escaped: true))
            } else if next == .doubleQuote, quotedBackquotes > 0 {
                certain = false
            }
            // A backslash-newline joins lines and leaves the word boundary as it was.
            if next != .newline { wordStart = false }
            copy(2)
        case .singleQuote: push(.singleQuoted); copy(1)
        case .doubleQuote: push(.doubleQuoted(escaped: false)); copy(1)
        case .dollar: dollarSign(dollarQuotes: true, inDoubleQuotes: false)
        case .backquote:
            if case .backquote = stack.last {
                pop()
                copy(1)
                wordStart = false
            } else {
                push(.backquote(inDoubleQuotes: false))
                copy(1)
                wordStart = true
            }
        case .hash where wordStart: push(.comment); copy(1)
        case .openParenthesis:
            if wordStart, next == .openParenthesis {
                // In dash `((` is two subshells, and `<<` in them starts a here-document.
                if !extended { certain = false }
                push(.arithmetic(parentheses: 0, dollar: false))
                copy(2)
                return
            }
            if case .commandSubstitution(let depth) = stack.last { replaceTop(.commandSubstitution(parentheses: depth + 1)) }
            copy(1)
            wordStart = true
        case .closeParenthesis:
            if case .commandSubstitution(let depth) = stack.last {
                if depth == 0 {
                    pop()
                    copy(1)
                    wordStart = false
                    return
                }
                replaceTop(.commandSubstitution(parentheses: depth - 1))
            }
            copy(1)
            wordStart = true
        case .less where next == .less: hereDocumentOperator()
        case .newline:
            copy(1)
            wordStart = true
            readHereDocuments()
        default:
            // A `case` pattern's `)` inside `$(...)` would end it for this lexer, not for the shell.
            if wordStart, case .commandSubstitution = stack.last, starts(with: "case") { certain = false }
            wordStart = [.space, .tab, .semicolon, .ampersand, .bar, .less, .greater].contains(c)
            copy(1)
        }
    }

    mutating func dollarSign(dollarQuotes: Bool, inDoubleQuotes: Bool) {
        let next = i + 1 < end ? bytes[i + 1] : 0
        wordStart = false
        if next == .openParenthesis, i + 2 < end, bytes[i + 2] == .openParenthesis {
            push(.arithmetic(parentheses: 0, dollar: true))
            copy(3)
        } else if next == .openParenthesis {
            push(.commandSubstitution(parentheses: 0))
            copy(2)
            wordStart = true
        } else if next == .openBrace {
            // `${ ...; }` and `${| ...; }` run commands in ksh93, mksh and bash 5.3.
            if i + 2 < end, [.space, .tab, .newline, .bar].contains(bytes[i + 2]) { certain = false }
            push(.parameter(inDoubleQuotes: inDoubleQuotes))
            copy(2)
        } else if next == .singleQuote, dollarQuotes {
            push(.dollarQuoted)
            copy(2)
        } else {
            copy(1)
        }
    }

    /// A backslash the shell keeps before `{` stays a backslash before the `$` that replaces it.
    mutating func literalBackslash() {
        out.append(contentsOf: [.backslash, .backslash])
        i += 1
    }


    // MARK: - Plumbing

    mutating func copy(_ count: Int) {
        let stop = min(i + count, end)
        out.append(contentsOf: bytes[i..<stop])
        i = stop
    }

    mutating func push(_ context: Context) {
        if case .backquote(let inDoubleQuotes) = context {
            backquotes += 1
            if inDoubleQuotes { quotedBackquotes += 1 }
        }
        stack.append(context)
    }

    mutating func pop() {
        guard stack.count > 1, let top = stack.popLast() else { return }
        if case .backquote(let inDoubleQuotes) = top {
            backquotes -= 1
            if inDoubleQuotes { quotedBackquotes -= 1 }
        }
    }

    mutating func replaceTop(_ context: Context) {
        stack[stack.count - 1] = context
    }

    /// Whether the word at `i` is `word`.
    func starts(with word: String) -> Bool {
        let word = Array(word.utf8)
        guard i + word.count <= end, Array(bytes[i..<(i + word.count)]) == word else { return false }
        return i + word.count == end || [.space, .tab, .newline, .semicolon].contains(bytes[i + word.count])
    }
}

/// The bytes the lexer looks at.
extension UInt8 {
    static let tab = UInt8(ascii: "\t"), newline = UInt8(ascii: "\n"), space = UInt8(ascii: " ")
    static let singleQuote = UInt8(ascii: "'"), doubleQuote = UInt8(ascii: "\""), backquote = UInt8(ascii: "`")
    static let backslash = UInt8(ascii: "\\"), dollar = UInt8(ascii: "$"), hash = UInt8(ascii: "#"), dash = UInt8(ascii: "-")
    static let openParenthesis = UInt8(ascii: "("), closeParenthesis = UInt8(ascii: ")")
    static let openBrace = UInt8(ascii: "{"), closeBrace = UInt8(ascii: "}")
    static let less = UInt8(ascii: "<"), greater = UInt8(ascii: ">")
    static let semicolon = UInt8(ascii: ";"), ampersand = UInt8(ascii: "&"), bar = UInt8(ascii: "|")
}
