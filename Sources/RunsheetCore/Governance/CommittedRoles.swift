import Foundation
import Synchronization

/// Whether the author of a lift, closure or PIR holds the role it needs in the roles file as the
/// repository committed it: the rules in the repository are the rules that ran, so `HEAD`'s
/// committed roles file is the floor (a working-copy edit may add restrictions, never powers),
/// and the version `data.rules` names, when it names one, must grant the role as well.
/// Outside Git nothing is asked (the working copy is all there is, as before); in a repository
/// Git cannot read (`GitReading`), no record counts.
public enum CommittedRoles {
    private static let head = Mutex<[String: RolesFile?]>([:])

    /// Why `record` does not count: `allowed` (does the author hold a needed role in this roles
    /// file?) is false for the roles file committed at `HEAD` or for the version `data.rules`
    /// names, or its `data.rules` is an empty map (no runsheet writes one). `needed` names the
    /// roles for the sentence; `rolesPath` is the roles file in the working copy.
    public static func problem(_ record: GovernanceRecord, needed: String, rolesPath: String, directory: String,
                               allowed: (RolesFile) -> Bool) -> String? {
        let real = URL(fileURLWithPath: directory.isEmpty ? "." : directory).resolvingSymlinksInPath().path
        let reading = GitReading.of(real)
        if let unreadable = reading.refusal { return unreadable }
        guard let top = reading.top else { return nil }
        if case .object(let rules)? = record.data["rules"], rules.isEmpty {
            return "its rules name no rule file, so the rules it was made under cannot be known (no runsheet writes an empty one)"
        }
        let absolute = rolesPath.hasPrefix("/") ? rolesPath : FileManager.default.currentDirectoryPath + "/" + rolesPath
        let dir = URL(fileURLWithPath: (PathText.normalized(absolute) as NSString).deletingLastPathComponent).resolvingSymlinksInPath().path
        let relative = PathText.relative(PathText.normalized(dir + "/" + (absolute as NSString).lastPathComponent), from: top)
        guard let committed = committedRoles(relative, top: top) else {
            return "the roles file \(relative) is not committed at HEAD, so \(record.actor) holds none of \(needed) in the repository's committed rules"
        }
        guard allowed(committed) else {
            return "\(record.actor) holds none of \(needed) in \(relative) as committed at HEAD"
        }
        if case .object(let rules)? = record.data["rules"], case .string(let sha)? = rules[relative] {
            guard let bytes = CommittedRules.version(of: relative, sha256: sha, in: top) else {
                return "it was made under \(relative) at SHA-256 \(sha.prefix(12)), which is no version of that file in this repository's committed history"
            }
            guard allowed(RolesFile.parse(path: relative, text: String(decoding: bytes, as: UTF8.self)).0) else {
                return "\(record.actor) holds none of \(needed) in \(relative) as it was when the record was made (SHA-256 \(sha.prefix(12)))"
            }
        }
        return nil
    }

    /// The roles file `relative` (from the Git root `top`) as committed at `HEAD`; nil when `HEAD`
    /// has none. Asked of Git once per file and process.
    static func committedRoles(_ relative: String, top: String) -> RolesFile? {
        let key = top + "\u{0}" + relative
        if let cached = head.withLock({ $0[key] }) { return cached }
        let file = GitCommand.bytes(["show", "HEAD:" + relative], in: top)
            .map { RolesFile.parse(path: relative, text: String(decoding: $0, as: UTF8.self)).0 }
        head.withLock { $0[key] = .some(file) }
        return file
    }
}
