import Foundation

extension Compiler {
    /// What `diagnostics(path:)` gives, with the runbook's id: `check` compares the ids of the
    /// runbooks it reads.
    public func diagnosticsAndID(path: String) throws -> (diagnostics: [Diagnostic], id: String) {
        let result = compile(path: path, bytes: try loader(path), including: [], bodies: false)
        return (result.diagnostics, result.runbook.id)
    }
}

/// Runbook ids across files: readiness, status and metrics find a run's runbook by its id, so two
/// runbooks with one id would take each other's runs (a release then blocks as if on a stale runbook).
public enum RunbookIDs {
    /// An error at each runbook whose id an earlier one of `runbooks` already has, naming that one.
    /// `read` gives a file's bytes, to find where its `id:` is (1:1 when the id is the file name).
    public static func duplicates(_ runbooks: [(path: String, id: String)], read: (String) -> [UInt8]?) -> [Diagnostic] {
        var first: [String: String] = [:]
        var found: [Diagnostic] = []
        for (path, id) in runbooks where !id.isEmpty {
            guard let earlier = first[id] else {
                first[id] = path
                continue
            }
            let (line, column, declared) = position(ofID: read(path) ?? [])
            let whence = declared ? "" : " (from its file name)"
            found.append(Diagnostic(.error, .duplicateRunbookID,
                                    "the runbook id \(id.shown)\(whence) is already the id of \(earlier.shown); runs are matched to their runbook by id, so the runs of one would count for the other; give each runbook an id of its own",
                                    path: path, line: line, column: column))
        }
        return found
    }

    /// Where the value of the front matter's top-level `id:` starts (1-based line and character
    /// column), and whether there is one.
    static func position(ofID bytes: [UInt8]) -> (line: Int, column: Int, declared: Bool) {
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.first.map({ $0.trimmingCharacters(in: .whitespaces) == "---" }) == true else { return (1, 1, false) }
        for (index, text) in lines.enumerated().dropFirst() {
            let line = text.hasSuffix("\r") ? text.dropLast() : text
            if line == "---" || line == "..." { break }
            guard line.hasPrefix("id"), case let rest = line.dropFirst(2), let colon = rest.firstIndex(where: { $0 != " " && $0 != "\t" }),
                  rest[colon] == ":" else { continue }
            let value = rest[rest.index(after: colon)...].prefix { $0 == " " || $0 == "\t" }
            return (index + 1, line.distance(from: line.startIndex, to: value.endIndex) + 1, true)
        }
        return (1, 1, false)
    }
}
