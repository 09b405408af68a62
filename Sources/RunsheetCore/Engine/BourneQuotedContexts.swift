import Foundation

// The bytes inside quotes, arithmetic, parameter expansions, comments and here-documents.
extension BourneSubstitution {
    mutating func arithmeticByte(_ parentheses: Int, dollar: Bool) {
        switch bytes[i] {
        case .openParenthesis:
            replaceTop(.arithmetic(parentheses: parentheses + 1, dollar: dollar))
            copy(1)
        case .closeParenthesis:
            if parentheses > 0 {
                replaceTop(.arithmetic(parentheses: parentheses - 1, dollar: dollar))
                copy(1)
            } else if i + 1 < end, bytes[i + 1] == .closeParenthesis {
                pop()
                copy(2)
                wordStart = false
            } else {
                // `$((a) )` is a subshell inside `$(...)`; `((a) )` a subshell inside a subshell.
                certain = false
                if dollar { replaceTop(.commandSubstitution(parentheses: 0)) } else { pop() }
                copy(1)
                wordStart = true
            }
        case .backslash:
            if placeholders[i + 1] != nil { i += 1 } else { copy(2) }
        case .singleQuote: push(.singleQuoted); copy(1)
        case .doubleQuote: push(.doubleQuoted(escaped: false)); copy(1)
        case .dollar: dollarSign(dollarQuotes: false, inDoubleQuotes: false)
        case .backquote: push(.backquote(inDoubleQuotes: false)); copy(1); wordStart = true
        default: copy(1)
        }
    }

    mutating func doubleQuotedByte(escaped: Bool) {
        switch bytes[i] {
        case .doubleQuote:
            if escaped {
                certain = false
                copy(1)
            } else {
                pop()
                copy(1)
                wordStart = false
            }
        case .backslash:
            if placeholders[i + 1] != nil {
                literalBackslash()
            } else if escaped, i + 1 < end, bytes[i + 1] == .doubleQuote {
                pop()
                copy(2)
                wordStart = false
            } else {
                copy(2)
            }
        case .dollar: dollarSign(dollarQuotes: false, inDoubleQuotes: true)
        case .backquote: push(.backquote(inDoubleQuotes: true)); copy(1); wordStart = true
        default: copy(1)
        }
    }

    mutating func singleQuotedByte() {
        if bytes[i] == .singleQuote {
            pop()
            wordStart = false
        }
        copy(1)
    }

    mutating func dollarQuotedByte() {
        switch bytes[i] {
        case .backslash:
            if placeholders[i + 1] != nil {
                literalBackslash()
            } else {
                // `\'` ends the quote only where `$'...'` is a quote at all.
                if !extended { certain = false }
                copy(2)
            }
        case .singleQuote:
            pop()
            copy(1)
            wordStart = false
        default: copy(1)
        }
    }

    mutating func parameterByte(inDoubleQuotes: Bool) {
        switch bytes[i] {
        case .closeBrace:
            pop()
            copy(1)
            wordStart = false
        case .backslash:
            if placeholders[i + 1] != nil {
                if inDoubleQuotes { literalBackslash() } else { i += 1 }
            } else {
                copy(2)
            }
        case .singleQuote:
            // Inside `"${...}"` a single quote is an ordinary character.
            if !inDoubleQuotes { push(.singleQuoted) }
            copy(1)
        case .doubleQuote: push(.doubleQuoted(escaped: false)); copy(1)
        case .dollar: dollarSign(dollarQuotes: !inDoubleQuotes, inDoubleQuotes: inDoubleQuotes)
        case .backquote: push(.backquote(inDoubleQuotes: inDoubleQuotes)); copy(1); wordStart = true
        default: copy(1)
        }
    }

    mutating func commentByte() {
        if bytes[i] == .newline { pop() } else { copy(1) }
    }

    mutating func hereDocumentByte() {
        switch bytes[i] {
        case .backslash:
            if placeholders[i + 1] != nil { literalBackslash() } else { copy(2) }
        case .dollar: dollarSign(dollarQuotes: false, inDoubleQuotes: true)
        case .backquote: push(.backquote(inDoubleQuotes: false)); copy(1); wordStart = true
        default: copy(1)
        }
    }
}
