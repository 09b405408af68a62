import Foundation

extension AllowedSigners {
    /// What `check` says of a principal not in canonical form; `sign` and `run` refuse such a key with it.
    public static func notCanonical(_ name: String) -> String {
        "principal '\(name)' is not in canonical form, so OpenSSH, which compares names exactly, would never match the '\(PersonName.canonical(name))' runsheet asks for; write '\(PersonName.canonical(name))'"
    }

    /// Why `key` may not sign as anyone (as `person`, when given) in `namespace` at `date`, from
    /// the lines that hold it: no line, only a cert-authority line, another namespace, a line
    /// that is not valid then, a pattern with no one person in it, or a `!` that excludes `person`.
    public func whyNotUsable(_ key: SSHPublicKey, as person: String?, namespace: String, at date: Date) -> String {
        let holding = entries.filter { $0.key == key }
        guard !holding.isEmpty else { return "no line of it names the key" }
        let plain = holding.filter { !$0.certificateAuthority }
        guard let first = plain.first else {
            return "its only line (\(path):\(holding[0].line)) is a cert-authority line, which allows certificates it signed, never the key itself, and runsheet verifies plain keys only"
        }
        let inNamespace = plain.filter { $0.allows(namespace: namespace) }
        guard let line = inNamespace.first else {
            return "its line (\(path):\(first.line)) allows it only for namespaces=\"\(first.namespaces ?? "")\", not for namespace \(namespace)"
        }
        let valid = inNamespace.filter { $0.isValid(at: date) }
        guard let usable = valid.first else {
            if let before = line.validBefore, line.timeProblem(at: date) == .expired {
                return "its line (\(path):\(line.line)) made it valid only until \(SignatureProblem.stamp(before)), and it is \(SignatureProblem.stamp(date)) now"
            }
            return "its line (\(path):\(line.line)) makes it valid only from \(SignatureProblem.stamp(line.validAfter ?? date)), and it is \(SignatureProblem.stamp(date)) now"
        }
        if let person, let excluding = valid.first(where: { $0.principals.contains("!" + PersonName.canonical(person)) || $0.principals.contains("!" + person) }) {
            return "its line (\(path):\(excluding.line)) excludes \(person.shown) with '!\(PersonName.canonical(person).shown)'"
        }
        return "its line (\(path):\(usable.line)) names people only by the pattern '\(usable.principals.joined(separator: ",").shown)', and a signature must name one person: write the person's name instead of a pattern"
    }

    /// The sentence for an allowed signers file that could not be read or decoded (a directory,
    /// a symbolic link, no permission, not UTF-8), from the diagnostics `load` gave; nil when it was read.
    public static func readProblem(in diagnostics: [Diagnostic]) -> String? {
        let prefix = "the allowed signers file "
        return diagnostics.first { $0.severity == .error && ($0.message.hasPrefix(prefix + "cannot be read") || $0.message.hasPrefix(prefix + "is not UTF-8")) }
            .map { "\($0.path) \($0.message.dropFirst(prefix.count))" }
    }

    /// A loader that refuses the allowed signers file when it is a symbolic link: it is read like a
    /// file of the repository, never through a link to a file elsewhere.
    static func readRefusingLinks(_ path: String, _ loader: Compiler.Loader) throws -> [UInt8] {
        if path.hasSuffix("/" + relativePath) { try RepositoryFile.refuseLinkedRule(path) }
        return try loader(path)
    }
}
