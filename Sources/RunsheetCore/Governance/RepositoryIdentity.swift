import Foundation
import Synchronization

/// Which repository a governance record (halt, lift, closure) was written in: the root commits
/// of `HEAD` (`git rev-list --max-parents=0 HEAD`), sorted and joined with commas. A lift or a
/// closure copied from another repository names other roots and does not count here.
public enum RepositoryIdentity {
    private static let known = Mutex<[String: String?]>([:])

    /// The identity of the Git repository holding `directory`; nil outside Git or before its
    /// first commit. Asked of Git once per directory and process.
    public static func of(directory: String) -> String? {
        if let cached = known.withLock({ $0[directory] }) { return cached }
        let roots = rootCommits(directory)
        known.withLock { $0[directory] = .some(roots) }
        return roots
    }

    private static func rootCommits(_ directory: String) -> String? {
        guard let output = GitCommand.output(["rev-list", "--max-parents=0", "HEAD"], in: directory) else { return nil }
        let roots = output.split(whereSeparator: \.isNewline).map(String.init).sorted()
        return roots.isEmpty ? nil : roots.joined(separator: ",")
    }

    /// "roots abc1234" or "no commit": how a record's repository is named in a sentence.
    public static func shown(_ identity: String?) -> String {
        guard let identity else { return "no Git commit" }
        return "root commit " + identity.split(separator: ",").map { String($0.prefix(12)) }.joined(separator: ", ")
    }
}
