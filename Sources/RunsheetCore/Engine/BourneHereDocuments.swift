/// Here-documents: the operator, where each body ends, and what a body gets.
extension BourneSubstitution {
    /// At `<<`: a here-string `<<<`, or a here-document whose body follows the end of the line.
    mutating func hereDocumentOperator() {
        if i + 2 < end, bytes[i + 2] == .less {
            if !extended { certain = false }
            copy(3)
            wordStart = true
            return
        }
        copy(2)
        let stripsTabs = i < end && bytes[i] == .dash
        if stripsTabs { copy(1) }
        while i < end, bytes[i] == .space || bytes[i] == .tab { copy(1) }
        var delimiter: [UInt8] = []
        var quoted = false
        let wordBegins = i
        while i < end {
            if let occurrence = placeholders[i] {
                // A placeholder in a delimiter stays as written, so body lines compare as the shell compares them.
                delimiter.append(contentsOf: bytes[occurrence.range])
                copy(occurrence.range.count)
                continue
            }
            let c = bytes[i]
            if [.space, .tab, .newline, .semicolon, .ampersand, .bar, .openParenthesis, .closeParenthesis, .less, .greater].contains(c) { break }
            switch c {
            case .singleQuote:
                quoted = true
                copy(1)
                while i < end, bytes[i] != .singleQuote {
                    delimiter.append(bytes[i])
                    copy(1)
                }
                if i < end { copy(1) } else { certain = false }
            case .doubleQuote:
                quoted = true
                copy(1)
                while i < end, bytes[i] != .doubleQuote {
                    if bytes[i] == .backslash, i + 1 < end, [.dollar, .backquote, .doubleQuote, .backslash, .newline].contains(bytes[i + 1]) {
                        delimiter.append(bytes[i + 1])
                        copy(2)
                        continue
                    }
                    if bytes[i] == .dollar || bytes[i] == .backquote { certain = false }
                    delimiter.append(bytes[i])
                    copy(1)
                }
                if i < end { copy(1) } else { certain = false }
            case .backslash:
                quoted = true
                if i + 1 < end { delimiter.append(bytes[i + 1]) }
                copy(2)
            case .dollar, .backquote:
                certain = false
                delimiter.append(c)
                copy(1)
            default:
                delimiter.append(c)
                copy(1)
            }
        }
        wordStart = false
        guard i > wordBegins else {
            certain = false
            return
        }
        // Backquoted text is unescaped before its here-documents are read.
        if backquotes > 0 { certain = false }
        pending.append(HereDocument(delimiter: delimiter, quoted: quoted, stripsTabs: stripsTabs, level: stack.count))
    }

    /// After the newline that ends a line with here-document operators: their bodies, in order.
    /// Operators inside a `$(...)` that is still open wait for a newline inside it.
    mutating func readHereDocuments() {
        let documents = pending.filter { $0.level >= stack.count }
        guard !documents.isEmpty else { return }
        pending.removeAll { $0.level >= stack.count }
        // An operator inside a `$(...)` closed on its own line: the shell may read that body anywhere.
        if documents.contains(where: { $0.level > stack.count }) { certain = false }
        for document in documents {
            let bodyStart = i
            var bodyEnd = end
            var terminatorEnd = end
            var lineStart = i
            while lineStart < end {
                var lineEnd = lineStart
                var line: [UInt8] = []
                while true {
                    let physicalEnd = bytes[lineEnd..<end].firstIndex(of: .newline) ?? end
                    var segment = bytes[lineEnd..<physicalEnd]
                    if document.stripsTabs { segment = segment.drop { $0 == .tab } }
                    let backslashes = segment.reversed().prefix { $0 == .backslash }.count
                    // In an unquoted body a backslash-newline joins lines before the delimiter is looked for.
                    if !document.quoted, backslashes % 2 == 1, physicalEnd < end {
                        line.append(contentsOf: segment.dropLast())
                        lineEnd = physicalEnd + 1
                        // A shell that does not join them would end the body at the next line.
                        let next = bytes[lineEnd...].drop { document.stripsTabs && $0 == .tab }
                        if next.starts(with: document.delimiter) { certain = false }
                        continue
                    }
                    line.append(contentsOf: segment)
                    lineEnd = physicalEnd
                    break
                }
                if line == document.delimiter {
                    bodyEnd = lineStart
                    terminatorEnd = min(lineEnd + 1, end)
                    break
                }
                // Inside `$(...)` bash also ends the body at a line that only starts with the delimiter.
                if line.starts(with: document.delimiter) { certain = false }
                lineStart = lineEnd + 1
            }
            // Without its delimiter line, where the body ends is the shell's guess (bash ends it at `)` in `$(...)`).
            if bodyEnd == end { certain = false }
            if document.quoted {
                writeQuotedBody(bodyStart..<bodyEnd, document)
            } else {
                writeUnquotedBody(bodyStart..<bodyEnd)
            }
            out.append(contentsOf: bytes[bodyEnd..<terminatorEnd])
            i = terminatorEnd
        }
    }

    mutating func writeUnquotedBody(_ range: Range<Int>) {
        guard depth < Self.maximumDepth else {
            certain = false
            writeReferences(range)
            return
        }
        var body = BourneSubstitution(bytes: bytes, placeholders: placeholders, values: values, extended: extended,
                                      depth: depth + 1, certain: certain, range: range, context: .hereDocument)
        body.run()
        out.append(contentsOf: body.out)
        certain = body.certain
    }

    /// Nothing expands in a quoted body: a value is written as itself when it is safe to, else `${V}` stays as text.
    ///
    /// Not in a body inside another here-document's body, whose lines the shell reads (and joins at
    /// a trailing backslash) before it parses anything in them.
    mutating func writeQuotedBody(_ range: Range<Int>, _ document: HereDocument) {
        var lineStart = range.lowerBound
        while lineStart < range.upperBound {
            let lineEnd = bytes[lineStart..<range.upperBound].firstIndex(of: .newline) ?? range.upperBound
            var line = quotedBodyLine(lineStart..<lineEnd, raw: certain && depth == 0)
            // In `$(...)` bash ends the body at a line that starts with the delimiter: `EOF); touch x; (`.
            if line.drop(while: { $0 == .tab }).starts(with: document.delimiter) {
                line = quotedBodyLine(lineStart..<lineEnd, raw: false)
            }
            out.append(contentsOf: line)
            if lineEnd < range.upperBound { out.append(.newline) }
            lineStart = lineEnd + 1
        }
    }

    func quotedBodyLine(_ range: Range<Int>, raw: Bool) -> [UInt8] {
        var line: [UInt8] = []
        var j = range.lowerBound
        while j < range.upperBound {
            guard let occurrence = placeholders[j], occurrence.range.upperBound <= range.upperBound else {
                line.append(bytes[j])
                j += 1
                continue
            }
            if let value = values[occurrence.name] {
                // A secret stays out of the command line; a newline or NUL could end the here-document or the script.
                let writable = raw && !value.secret && !value.value.utf8.contains(.newline) && !value.value.utf8.contains(0)
                line.append(contentsOf: writable ? Array(value.value.utf8) : Array("${\(value.variable)}".utf8))
            } else {
                line.append(contentsOf: bytes[occurrence.range])
            }
            j = occurrence.range.upperBound
        }
        return line
    }

    /// Text with each placeholder as a plain `${V}`: for bodies too deeply nested to lex.
    mutating func writeReferences(_ range: Range<Int>) {
        var j = range.lowerBound
        while j < range.upperBound {
            if let occurrence = placeholders[j], occurrence.range.upperBound <= range.upperBound, let value = values[occurrence.name] {
                out.append(contentsOf: "${\(value.variable)}".utf8)
                j = occurrence.range.upperBound
            } else {
                out.append(bytes[j])
                j += 1
            }
        }
    }
}
