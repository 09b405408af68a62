import Foundation
import RunsheetCore

extension RepositoryRules {
    /// Why `record`'s author may not close `release` under the roles file as committed at `HEAD`
    /// (and as `data.rules` recorded it): not its owner and holding no closing role there.
    /// nil outside Git, where the working copy's roles file is all there is.
    func mayNotCloseCommitted(_ record: GovernanceRecord, release: Release) -> String? {
        if let owner = committedOwner(of: release).owner, PersonName.same(owner, record.actor) { return nil }
        let roles = closingRoles
        return CommittedRoles.problem(record, needed: roles.joined(separator: ", "), rolesPath: governance.roles?.path ?? folder + "/roles.yaml",
                                      directory: (folder as NSString).deletingLastPathComponent,
                                      allowed: { file in roles.contains { file.holds(record.actor, $0) } })
    }
}
