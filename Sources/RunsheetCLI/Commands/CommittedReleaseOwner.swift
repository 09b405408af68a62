import Foundation
import RunsheetCore

extension RepositoryRules {
    /// The release's owner as the repository committed it: the `owner` its release file names when
    /// the file's very bytes (owner, requirements and every other field a closure relies on) are the
    /// version committed at `HEAD`; otherwise none, and why. An operator who names themselves owner
    /// in an uncommitted edit is no owner. Outside Git the release file is all there is; in a repository Git cannot read
    /// (`GitReading`) there is no owner.
    func committedOwner(of release: Release) -> (owner: String?, why: String?) {
        let folder = (release.path as NSString).deletingLastPathComponent.isEmpty ? "." : (release.path as NSString).deletingLastPathComponent
        let reading = GitReading.of(folder)
        if let unreadable = reading.refusal { return (nil, unreadable) }
        guard reading.top != nil else { return (release.owner, nil) }
        guard let committed = GitCommand.bytes(["show", "HEAD:./" + (release.path as NSString).lastPathComponent], in: folder) else {
            return (nil, "it is not committed at HEAD")
        }
        guard SHA256Hex.of(committed) == release.sha256 else { return (nil, "it differs from its version committed at HEAD") }
        return (release.owner, nil)
    }

    /// Why `person` may not close `release` (or mark its PIR done): not its owner in the release
    /// file as committed, and holding no closing role in the roles file now.
    func mayNotClose(_ person: String, release: Release) -> String? {
        let (owner, why) = committedOwner(of: release)
        if let owner, PersonName.same(owner, person) { return nil }
        if let roles = governance.roles, closingRoles.contains(where: { roles.holds(person, $0) }) { return nil }
        let rolesPath = governance.roles?.path ?? RolesFile.relativePath
        if let named = release.owner, PersonName.same(named, person), let why {
            return "\(person) is the owner the release file \(releaseFile(release).path) names, but \(why), so that owner does not count, " +
                "and \(person) holds none of \(closingRoles.joined(separator: ", ")) in \(rolesPath)"
        }
        return "\(person) is not the release's owner\(release.owner.map { " (\($0))" } ?? "") and holds none of \(closingRoles.joined(separator: ", ")) in \(rolesPath)"
    }
}
