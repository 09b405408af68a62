import Foundation

/// A `When:` condition: clauses joined by `and`, each testing `class` or a parameter.
public struct Condition: Sendable, Codable, Equatable {
    public struct Clause: Sendable, Codable, Equatable {
        /// `class` or a parameter name.
        public var name: String
        /// True for `is not` and `not in`.
        public var negated: Bool
        public var values: [String]
    }

    /// The condition as written.
    public var text: String
    public var clauses: [Clause]

    /// Evaluates against the run's values (`class` and parameters).
    public func holds(in values: [String: String]) -> Bool {
        clauses.allSatisfy { clause in
            let value = values[clause.name] ?? ""
            return clause.values.contains(value) != clause.negated
        }
    }

    /// Both conditions must hold.
    public func and(_ other: Condition?) -> Condition {
        guard let other else { return self }
        return Condition(text: "\(text) and \(other.text)", clauses: clauses + other.clauses)
    }

    public enum ParseError: Error, Equatable {
        case malformed(String)
    }

    /// Parses `NAME is VALUE`, `NAME is not VALUE`, `NAME in A, B`, `NAME not in A, B`, joined by ` and `.
    public static func parse(_ text: String) throws(ParseError) -> Condition {
        var clauses: [Clause] = []
        for part in text.components(separatedBy: " and ") {
            let words = part.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard words.count >= 3 else {
                throw .malformed("'\(part.trimmed)' is not of the form NAME is VALUE or NAME in VALUE, VALUE")
            }
            let name = words[0]
            var rest = Array(words.dropFirst())
            var negated = false
            let op: String
            if rest.count >= 2 && rest[0] == "is" && rest[1] == "not" {
                negated = true; op = "is"; rest.removeFirst(2)
            } else if rest.count >= 2 && rest[0] == "not" && rest[1] == "in" {
                negated = true; op = "in"; rest.removeFirst(2)
            } else if rest[0] == "is" || rest[0] == "in" || rest[0] == "==" || rest[0] == "!=" {
                op = rest[0] == "==" ? "is" : rest[0] == "!=" ? "is" : rest[0]
                negated = rest[0] == "!="
                rest.removeFirst()
            } else {
                throw .malformed("'\(part.trimmed)' needs 'is', 'is not', 'in' or 'not in' after '\(name)'")
            }
            let values = rest.joined(separator: " ").split(separator: ",").map { String($0).trimmed.trimmingQuotes }
            guard !values.isEmpty, !values.contains(where: \.isEmpty) else {
                throw .malformed("'\(part.trimmed)' has an empty value")
            }
            if op == "is" && values.count > 1 {
                throw .malformed("'\(part.trimmed)' compares with several values; use 'in'")
            }
            guard name.first.map({ $0.isLetter || $0 == "_" }) == true else {
                throw .malformed("'\(name)' is not a parameter name")
            }
            clauses.append(Clause(name: name, negated: negated, values: values))
        }
        return Condition(text: text.trimmed, clauses: clauses)
    }
}

extension String {
    var trimmingQuotes: String {
        if count >= 2, let f = first, let l = last, f == l, f == "\"" || f == "'" || f == "`" {
            return String(dropFirst().dropLast())
        }
        return self
    }
}
