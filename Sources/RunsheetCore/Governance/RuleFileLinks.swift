import Foundation

extension RepositoryFile {
    /// Refuses a rule file (roles, policy, calendar, inventory, allowed signers) that is a symbolic
    /// link to a file that is there, or that is in a `.runsheet` folder that is a symbolic link
    /// (whether or not the file is there): the repository's rules are read only from its own
    /// regular files, never through a link to files elsewhere, which could change without a
    /// commit. A broken link or a loop keeps the error that says so (`FileReader`).
    static func refuseLinkedRule(_ path: String) throws {
        try refuseLinkedFolder(path)
        if access(path, F_OK) == 0 { try refuseLink(path) }
    }

    /// Throws the read error for a rule file at `path` that is a symbolic link, or is in a linked `.runsheet` folder.
    static func refuseLink(_ path: String) throws {
        try refuseLinkedFolder(path)
        guard RegularFile.otherKind(at: path) == "a symbolic link" else { return }
        let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?"
        throw FileReader.ReadError.unreadable(path, "it is a symbolic link (to \(target)), and it is read only as a regular file of the repository, never through a link; replace the link with the file itself")
    }

    /// Throws when the `.runsheet` folder holding `path` is a symbolic link.
    static func refuseLinkedFolder(_ path: String) throws {
        let folder = (path as NSString).deletingLastPathComponent
        guard (folder as NSString).lastPathComponent == ".runsheet", RegularFile.otherKind(at: folder) == "a symbolic link" else { return }
        let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: folder)) ?? "?"
        throw FileReader.ReadError.unreadable(path, "its folder \(folder) is a symbolic link (to \(target)), and rule files are read only from the repository's own .runsheet folder, never through a link; replace the link with the folder itself")
    }
}
