import Foundation

extension AllowedSigners {
    /// What `check` says about a repository whose policy requires signatures (for every class or
    /// for one): a warning for each person of the roles file who has no key the allowed signers
    /// file lets them sign with now (in the namespace `runsheet`), at their first mention in the
    /// roles file; one for a missing allowed signers file. Such a person cannot sign, start or
    /// resume a run that requires signatures.
    public static func keylessMembers(forRunbook path: String, at date: Date = Date(), loader: Compiler.Loader = Compiler.disk) -> [Diagnostic] {
        guard let (policy, _) = Policy.load(forRunbook: path, loader: loader),
              policy.signaturesRequired == true || policy.classes.values.contains(where: \.requiresSignatures),
              let (roles, _) = RolesFile.load(forRunbook: path, loader: loader)
        else { return [] }
        let people = roles.members.keys.sorted().flatMap { roles.members[$0] ?? [] }
        guard let (signers, _) = load(forRunbook: path, loader: loader) else {
            return [Diagnostic(.warning, .allowedSigners,
                               "\(Policy.relativePath) requires signatures, but there is no \(relativePath), so nobody in \(roles.path) can sign; add a line for each person's key",
                               path: roles.path, line: 1, column: 1)]
        }
        let text = (try? String(contentsOfFile: roles.path, encoding: .utf8)) ?? ""
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return signers.peopleWithoutKey(people, at: date).map { person in
            // Where the roles file first names them, for an editor to jump to.
            let found = lines.enumerated().lazy.compactMap { index, line in
                line.range(of: person).map { (index + 1, line.distance(from: line.startIndex, to: $0.lowerBound) + 1) }
            }.first ?? (1, 1)
            return Diagnostic(.warning, .allowedSigners,
                              "\(person) holds a role, and signatures are required, but \(signers.path) allows no key for \(PersonName.canonical(person)) to sign with now, so they cannot sign, start or resume a run that requires signatures",
                              path: roles.path, line: found.0, column: found.1)
        }
    }
}

extension AllowedSigners {
    /// An error for each key the file allows for more than one person (on lines of their own or
    /// in one principal list, wildcards included): whoever holds it may sign as any of them, so
    /// no signature by it says which one acted. At the second person's line.
    public func sharedKeys() -> [Diagnostic] {
        var firstHolder: [SSHPublicKey: (people: Set<String>, line: Int)] = [:]
        var found: [Diagnostic] = []
        for entry in entries where !entry.certificateAuthority {
            let people = Set(entry.principals.filter { !$0.hasPrefix("!") })
            var known = firstHolder[entry.key] ?? (people: [], line: entry.line)
            let before = known.people
            known.people.formUnion(people)
            firstHolder[entry.key] = known
            let wildcard = people.contains { $0.contains("*") || $0.contains("?") }
            guard known.people.count > 1 || wildcard, known.people != before || wildcard else { continue }
            found.append(Diagnostic(.error, .allowedSigners,
                                    "the key \(entry.key.fingerprint) is allowed for more than one person (\(known.people.sorted().joined(separator: ", "))), and a sign-off is bound to the one person who holds its key, so this key binds nobody: runsheet refuses to sign with it, and at a gate one key counts once; give each person a key of their own",
                                    path: path, line: entry.line, column: 1))
        }
        return found
    }
}
