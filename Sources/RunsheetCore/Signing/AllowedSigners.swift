import Foundation

/// Who holds which SSH key: `.runsheet/allowed_signers`, found by walking up from a runbook like
/// the roles file, in exactly the format of ssh-keygen(1)'s ALLOWED SIGNERS, so that auditors and
/// `git` (`gpg.ssh.allowedSignersFile`) use the same file.
///
/// ```
/// # principals [options] key-type base64-key [comment]
/// alice@example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI… alice@laptop
/// bob@example.com valid-before="20261231Z" ecdsa-sha2-nistp256 AAAAE2VjZHNh…
/// ```
///
/// Matching is OpenSSH's (`sshsig.c`): a line allows a key for a principal when the key is the
/// line's key, the principal matches the line's pattern list (`*`, `?`, `!` negation) exactly,
/// the namespace matches `namespaces=` (when given), and the time is within `valid-after` and
/// `valid-before`, both inclusive. Lines with `cert-authority` are read but never allow a plain
/// key: certificates are not verified. Malformed lines allow nothing (OpenSSH skips them) and are
/// diagnostics for `check`.
public struct AllowedSigners: Sendable {
    public static let relativePath = ".runsheet/allowed_signers"

    /// One usable line of the file.
    public struct Entry: Sendable, Equatable {
        /// The 1-based line it is on.
        public var line: Int
        /// The principal patterns as written, `!` included.
        public var principals: [String]
        public var certificateAuthority = false
        /// The `namespaces=` pattern list, when given.
        public var namespaces: String?
        /// Seconds since 1970 of `valid-after` and `valid-before`, when given.
        var validAfterSeconds: Int64?
        var validBeforeSeconds: Int64?
        public var key: SSHPublicKey

        public var validAfter: Date? { validAfterSeconds.map { Date(timeIntervalSince1970: TimeInterval($0)) } }
        public var validBefore: Date? { validBeforeSeconds.map { Date(timeIntervalSince1970: TimeInterval($0)) } }

        /// Whether `principal` matches the principals as OpenSSH's `match_pattern_list` does:
        /// some pattern matches it and no negated one does.
        public func allows(principal: String) -> Bool {
            OpenSSHPattern.matchList(Array(principal.utf8), principals.joined(separator: ",")) == 1
        }

        public func allows(namespace: String) -> Bool {
            namespaces.map { OpenSSHPattern.matchList(Array(namespace.utf8), $0) == 1 } ?? true
        }

        /// Whether `date` is within the line's validity; OpenSSH compares whole seconds.
        public func isValid(at date: Date) -> Bool { timeProblem(at: date) == nil }

        enum TimeProblem { case notYet, expired }

        func timeProblem(at date: Date) -> TimeProblem? {
            let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
            if let after = validAfterSeconds, seconds < after { return .notYet }
            if let before = validBeforeSeconds, seconds > before { return .expired }
            return nil
        }

        /// The principals written without wildcards or negation that the line allows: only those
        /// can be a person's identity.
        public var literalPrincipals: [String] {
            principals.filter { !$0.hasPrefix("!") && !$0.contains("*") && !$0.contains("?") && allows(principal: $0) }
        }

        /// Whether the line allows `key` as a plain key (a CA line never does).
        func holds(_ key: SSHPublicKey) -> Bool { !certificateAuthority && self.key == key }
    }

    public var path: String
    public var entries: [Entry]
    /// Entry indices by key blob: a signature's key is found without parsing it again.
    private var index: [[UInt8]: [Int]] = [:]

    public init(path: String, entries: [Entry]) {
        self.path = path
        self.entries = entries
        for (offset, entry) in entries.enumerated() { index[entry.key.blob, default: []].append(offset) }
    }

    /// The nearest allowed signers file from `directory` upwards, stopping at a Git root.
    public static func locate(from directory: String) -> String? {
        RepositoryFile.locate(relativePath, from: directory)
    }

    /// Reads and parses the file at `path`; one that cannot be read or is not UTF-8 is an error
    /// diagnostic and stands in as a file that allows nobody.
    public static func load(path: String, loader: Compiler.Loader = Compiler.disk) -> (AllowedSigners, [Diagnostic]) {
        let reading = RepositoryFile.read(path, code: .allowedSigners, what: "allowed signers file", loader: { try readRefusingLinks($0, loader) })
            ?? .problem(path: path, Diagnostic(.error, .allowedSigners, "the allowed signers file does not exist", path: path, line: 1, column: 1))
        return reading.parsed(with: { parse(text: $1, path: $0) }, unusable: { AllowedSigners(path: $0, entries: []) })
    }

    /// The allowed signers file that applies to a runbook, if any: the top-most up to the Git
    /// root, as for the roles file; one in a folder below it is an error, never read.
    public static func load(forRunbook path: String, loader: Compiler.Loader = Compiler.disk) -> (AllowedSigners, [Diagnostic])? {
        RepositoryFile.load(relativePath, forRunbook: path, code: .allowedSigners, what: "allowed signers file", loader: { try readRefusingLinks($0, loader) },
                            parse: { parse(text: $1, path: $0) }, unusable: { AllowedSigners(path: $0, entries: []) })
    }

    /// The parsed key with this blob, when a line holds it.
    func key(withBlob blob: [UInt8]) -> SSHPublicKey? {
        index[blob]?.first.map { entries[$0].key }
    }

    /// The literal principals `key` may sign as in `namespace` at `date`.
    public func principals(allowing key: SSHPublicKey, namespace: String, at date: Date) -> [String] {
        var seen = Set<String>()
        return (index[key.blob] ?? []).map { entries[$0] }
            .filter { $0.holds(key) && $0.allows(namespace: namespace) && $0.isValid(at: date) }
            .flatMap(\.literalPrincipals)
            .filter { seen.insert($0).inserted }
    }

    /// The keys `principal` may sign with in `namespace` at `date`, in file order.
    public func keys(for principal: String, namespace: String, at date: Date) -> [SSHPublicKey] {
        var seen = Set<SSHPublicKey>()
        return entries
            .filter { !$0.certificateAuthority && $0.allows(principal: principal) && $0.allows(namespace: namespace) && $0.isValid(at: date) }
            .map(\.key)
            .filter { seen.insert($0).inserted }
    }

    /// Those of `people` (such as a roles file's members) who have no key they may sign with in
    /// `namespace` at `date`, asked under their canonical name as runsheet asks OpenSSH: what
    /// `check` reports when signatures are required.
    public func peopleWithoutKey(_ people: [String], namespace: String = "runsheet", at date: Date) -> [String] {
        var seen = Set<String>()
        return people.filter { seen.insert(PersonName.canonical($0)).inserted }
            .filter { keys(for: PersonName.canonical($0), namespace: namespace, at: date).isEmpty }
    }

    /// The line that allows `key` to sign as `principal` in `namespace` at `date`, as
    /// `ssh-keygen -Y verify` looks for one; otherwise why none does, from the first line that
    /// came closest.
    func authorize(_ key: SSHPublicKey, as principal: String, namespace: String, at date: Date) throws(SignatureProblem) -> Int {
        let holding = (index[key.blob] ?? []).map { entries[$0] }.filter { $0.holds(key) }
        guard !holding.isEmpty else { throw .keyNotAllowed(fingerprint: key.fingerprint, file: path) }
        let forPrincipal = holding.filter { $0.allows(principal: principal) }
        guard let first = forPrincipal.first else {
            var seen = Set<String>()
            let others = holding.flatMap(\.literalPrincipals).filter { seen.insert($0).inserted }
            throw .principalNotAllowed(principal: principal, fingerprint: key.fingerprint, file: path, allowedAs: others)
        }
        if let line = forPrincipal.first(where: { $0.allows(namespace: namespace) && $0.isValid(at: date) }) { return line.line }
        guard let inNamespace = forPrincipal.first(where: { $0.allows(namespace: namespace) }) else {
            throw .namespaceNotAllowed(namespace: namespace, fingerprint: key.fingerprint, file: path, line: first.line)
        }
        switch inNamespace.timeProblem(at: date) {
        case .notYet?:
            throw .notYetValid(fingerprint: key.fingerprint, file: path, line: inNamespace.line, validAfter: inNamespace.validAfter!, at: date)
        case .expired?, nil:
            throw .expired(fingerprint: key.fingerprint, file: path, line: inNamespace.line, validBefore: inNamespace.validBefore ?? date, at: date)
        }
    }
}

/// OpenSSH's `match_pattern` and `match_pattern_list` (match.c), over bytes as OpenSSH compares.
enum OpenSSHPattern {
    /// `*` is any run of bytes, `?` any one byte; everything else is itself.
    static func match(_ string: ArraySlice<UInt8>, _ pattern: ArraySlice<UInt8>) -> Bool {
        var s = string.startIndex, p = pattern.startIndex
        var star: Int?, resume = s
        while s < string.endIndex {
            if p < pattern.endIndex, pattern[p] == UInt8(ascii: "?") || pattern[p] == string[s] && pattern[p] != UInt8(ascii: "*") {
                s += 1
                p += 1
            } else if p < pattern.endIndex, pattern[p] == UInt8(ascii: "*") {
                star = p
                p += 1
                resume = s
            } else if let starAt = star {
                p = starAt + 1
                resume += 1
                s = resume
            } else {
                return false
            }
        }
        while p < pattern.endIndex, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.endIndex
    }

    /// 1 when a pattern of the comma-separated `list` matches, -1 when a negated one (`!p`)
    /// does (which wins), 0 otherwise.
    static func matchList(_ string: [UInt8], _ list: String) -> Int {
        var positive = 0
        for item in Array(list.utf8).split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
            let negated = item.first == UInt8(ascii: "!")
            guard match(string[...], negated ? item.dropFirst() : item) else { continue }
            if negated { return -1 }
            positive = 1
        }
        return positive
    }
}
