import Foundation

extension RepositoryFile {
    /// Refuses a rule file (roles, policy, calendar, allowed signers) that is a symbolic link to
    /// a file that is there: the repository's rules are read only from its own regular files,
    /// never through a link to a file elsewhere, which could change without a commit. A broken
    /// link or a loop keeps the error that says so (`FileReader`).
    static func refuseLinkedRule(_ path: String) throws {
        if access(path, F_OK) == 0 { try refuseLink(path) }
    }

    /// Throws the read error for a rule file at `path` that is a symbolic link.
    static func refuseLink(_ path: String) throws {
        guard RegularFile.otherKind(at: path) == "a symbolic link" else { return }
        let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?"
        throw FileReader.ReadError.unreadable(path, "it is a symbolic link (to \(target)), and it is read only as a regular file of the repository, never through a link; replace the link with the file itself")
    }
}
