import Foundation
import Synchronization

/// The rule files a halt, lift or closure was made under (`data.rules`: each file's path from the
/// Git root and the SHA-256 of the bytes read), and whether each is a version of that file in the
/// repository's committed history. The rules in the repository are the rules that ran: a lift or
/// a closure made in a clone whose roles file was edited (and perhaps committed there, never
/// shared) names a version the repository never had, and does not count (docs/JOURNAL.md).
public enum CommittedRules {
    private static let known = Mutex<[String: [String: String]]>([:])

    /// `data.rules` for a record made under `ruleFiles` (paths from `folder`, as `Governance.ruleFiles`
    /// holds them): paths from the Git root, the inventory left out. nil outside Git or when no rule file was read.
    public static func recorded(_ ruleFiles: [String: String], folder: String) -> JSONValue? {
        let real = URL(fileURLWithPath: folder.isEmpty ? "." : folder).resolvingSymlinksInPath().path
        guard !ruleFiles.isEmpty, let top = GitReading.of(real).top else { return nil }
        var rules: [String: JSONValue] = [:]
        // The files that decide who may act (roles, policy, calendar); the inventory names owners of items, not of these acts.
        for (path, sha) in ruleFiles where (path as NSString).lastPathComponent != (Inventory.relativePath as NSString).lastPathComponent {
            rules[PathText.relative(PathText.normalized(real + "/" + path), from: top)] = .string(sha)
        }
        return .object(rules)
    }

    /// Why `record` does not count in the repository holding `directory`: a rule file version it
    /// names is not in the history of `HEAD` there. nil when each is, or when it names none (a
    /// record of an older runsheet, read as before).
    public static func problem(_ record: GovernanceRecord, directory: String) -> String? {
        guard let named = record.data["rules"] else { return nil }
        guard case .object(let rules) = named else { return "its rules are not a map of rule files to SHA-256 values" }
        for (path, value) in rules.sorted(by: { $0.key < $1.key }) {
            guard case .string(let sha) = value else { return "its rules name \(path) without a SHA-256" }
            if !versions(of: path, in: directory).contains(sha) {
                return "it was made under \(path) at SHA-256 \(sha.prefix(12)), which is no version of that file in this repository's committed history, " +
                    "so the rules it was made under are not the repository's"
            }
        }
        return nil
    }

    /// The SHA-256 of every version of `path` (from the Git root) committed in `HEAD`'s history;
    /// asked of Git once per file and process.
    public static func versions(of path: String, in directory: String) -> Set<String> {
        Set(blobs(of: path, in: directory).keys)
    }

    /// The bytes of the committed version of `path` whose SHA-256 is `sha256`; nil when there is none.
    public static func version(of path: String, sha256: String, in directory: String) -> [UInt8]? {
        blobs(of: path, in: directory)[sha256].flatMap { GitCommand.bytes(["cat-file", "blob", $0], in: directory) }
    }

    /// SHA-256 of each committed version of `path` to its Git blob name.
    private static func blobs(of path: String, in directory: String) -> [String: String] {
        let key = directory + "\u{0}" + path
        if let cached = known.withLock({ $0[key] }) { return cached }
        var blobs = Set<String>()
        let log = GitCommand.output(["log", "-m", "--format=", "--raw", "--no-abbrev", "HEAD", "--", ":(top,literal)" + path], in: directory) ?? ""
        for line in log.split(whereSeparator: \.isNewline) where line.hasPrefix(":") {
            let fields = line.split(separator: " ")
            if fields.count >= 4, fields[3].contains(where: { $0 != "0" }) { blobs.insert(String(fields[3])) }
        }
        var versions: [String: String] = [:]
        for blob in blobs {
            if let bytes = GitCommand.bytes(["cat-file", "blob", blob], in: directory) { versions[SHA256Hex.of(bytes)] = blob }
        }
        known.withLock { $0[key] = versions }
        return versions
    }
}
