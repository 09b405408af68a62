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
