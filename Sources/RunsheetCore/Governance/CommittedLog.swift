import Foundation

/// A governance log's floor: the version committed at `HEAD`. The working copy may only extend
/// it (the committed bytes are a prefix of the file); one deleted, emptied or rewritten without
/// a commit does not verify, so no halt is lifted by removing it. Outside Git, or for a file
/// `HEAD` does not hold, nothing is asked.
enum CommittedLog {
    /// The bytes of `path` as committed at `HEAD`; nil outside Git or when `HEAD` has no such file.
    /// In a repository Git cannot read (`GitReading`) the log does not verify: what it committed is unknown.
    static func head(of path: String) throws(GovernanceLog.Problem) -> [UInt8]? {
        let folder = (path as NSString).deletingLastPathComponent
        guard access(folder.isEmpty ? "." : folder, F_OK) == 0 else { return nil }
        switch GitReading.of(folder) {
        case .outsideGit, .empty: return nil
        case .unreadable(let why): throw GovernanceLog.Problem(path: path, line: nil, message: why)
        case .head: return GitCommand.bytes(["show", "HEAD:./" + (path as NSString).lastPathComponent], in: folder.isEmpty ? "." : folder)
        }
    }

    static func problem(path: String) -> GovernanceLog.Problem {
        GovernanceLog.Problem(path: path, line: nil, message: "it differs from the version committed at HEAD (the committed lines are not all kept, unchanged, at its start), " +
                              "so records were removed or edited without a commit")
    }
}
