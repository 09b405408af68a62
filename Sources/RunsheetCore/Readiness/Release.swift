import Foundation
import RunsheetMarkdown
import Yams

/// A release as its Markdown file describes it: front matter for the facts (id, target date,
/// class, owner), links under a "Requires" heading for the runbooks and checklists it needs, and
/// under a "Rollback" heading for the rollback runbook that must have been rehearsed.
public struct Release: Sendable, Equatable {
    /// A linked runbook: its link text, the link as written, the path it resolves to, and where.
    public struct Item: Sendable, Equatable {
        public var title: String
        public var link: String
        public var path: String
        public var line: Int
        public var column: Int
    }

    /// Something wrong with the release file, at a position in it.
    public struct Problem: Error, Equatable, LocalizedError {
        public var path: String
        public var line: Int
        public var column: Int
        public var message: String
        public var errorDescription: String? { "\(path):\(line):\(column): \(message)" }
    }

    public static let knownKeys = ["release", "title", "target", "timezone", "class", "owner", "params", "rehearsal-within", "change"]

    public var path: String
    public var id: String
    public var title: String
    public var owner: String?
    public var releaseClass: ReleaseClass?
    /// When the change is planned to go out.
    public var target: Date?
    /// Only runs with these parameter values count (for example the version being released).
    public var params: [String: String] = [:]
    /// The change record the release carries out: only runs that name it (`run --change`) count
    /// for its required runbooks.
    public var change: String?
    /// How recent a rehearsal of the rollback runbook must be, in seconds.
    public var rehearsalWithin = 90 * 86400
    public var requires: [Item] = []
    public var rollback: [Item] = []
    /// SHA-256 of the bytes this release was parsed from: what a closure binds to, so the file
    /// is read once for both the decision and its hash.
    public var sha256 = ""

    /// Reads a release file; the first problem found is thrown with its position.
    public static func parse(path: String, bytes: [UInt8]) throws -> Release {
        let source = SourceFile(path: path, bytes: bytes)
        var release = Release(path: path, id: ((path as NSString).lastPathComponent as NSString).deletingPathExtension, title: "")
        release.sha256 = SHA256Hex.of(bytes)
        func fail(_ line: Int, _ column: Int, _ message: String) -> Problem { Problem(path: path, line: line, column: column, message: message) }
        guard let block = FrontMatterBlock.locate(in: source) else {
            throw fail(1, 1, "a release file starts with front matter (--- lines) naming at least its target date; see docs/FORMAT.md#release-files")
        }
        let base = block.firstLine - 1
        let root: Node?
        do {
            root = try FrontMatter.composeKeepingLastDuplicate(block.yaml) { _, _ in }
        } catch let error as YamlError {
            let (message, line, column) = FrontMatter.describe(error)
            throw fail(base + line, column, "front matter is not valid YAML: \(message)")
        }
        guard let root, case .mapping(let mapping) = root else { throw fail(block.firstLine, 1, "front matter must be a mapping of keys to values") }
        func at(_ node: Node) -> (Int, Int) { node.mark.map { (base + $0.line, $0.column) } ?? (block.firstLine, 1) }
        func scalar(_ node: Node, _ key: String) throws -> String {
            guard case .scalar(let value) = node else { let (l, c) = at(node); throw fail(l, c, "'\(key)' must be a single value") }
            return value.string
        }
        var timeZone = TimeZone(identifier: "UTC")!
        var targetText: (String, Node)?
        for (keyNode, value) in mapping {
            let key = keyNode.string ?? ""
            switch key {
            case "release": release.id = try scalar(value, key)
            case "title": release.title = try scalar(value, key)
            case "owner": release.owner = try scalar(value, key)
            case "target": targetText = (try scalar(value, key), value)
            case "timezone":
                let name = try scalar(value, key)
                guard let zone = TimeZone(identifier: name) else { let (l, c) = at(value); throw fail(l, c, "'\(name)' is not an IANA time zone, e.g. Europe/Berlin") }
                timeZone = zone
            case "class":
                let name = try scalar(value, key)
                guard let releaseClass = ReleaseClass(rawValue: name) else {
                    let (l, c) = at(value)
                    throw fail(l, c, "class '\(name)' is not one of \(ReleaseClass.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                release.releaseClass = releaseClass
            case "params":
                guard case .mapping(let params) = value else { let (l, c) = at(value); throw fail(l, c, "'params' must map parameter names to values") }
                for (name, param) in params { release.params[name.string ?? ""] = try scalar(param, "params.\(name.string ?? "")") }
            case "change":
                // YAML's null (~, null, or nothing) is no reference; refused rather than read as "~" or as no change record (docs/FORMAT.md).
                if value.null != nil { let (l, c) = at(value); throw fail(l, c, ReleaseChange.nullChange) }
                let reference = try scalar(value, key)
                if let problem = ChangeRecordRule().problem(with: reference) { let (l, c) = at(value); throw fail(l, c, problem) }
                release.change = reference
            case "rehearsal-within":
                let text = try scalar(value, key)
                guard let seconds = DurationText.seconds(text) else { let (l, c) = at(value); throw fail(l, c, "'\(text)' is not a duration; write e.g. 30d") }
                release.rehearsalWithin = seconds
            default:
                let (l, c) = at(keyNode)
                let near = EditDistance.closest(to: key, in: knownKeys, maximum: 2).map { "; did you mean '\($0)'?" } ?? "; known keys are \(knownKeys.joined(separator: ", "))"
                throw fail(l, c, "unknown release key '\(key)'" + near)
            }
        }
        if let (text, node) = targetText {
            guard let date = parseTarget(text, timeZone: timeZone) else {
                let (l, c) = at(node)
                throw fail(l, c, "target '\(text)' is not a date; write 2026-11-28 or 2026-11-28 09:00 (in 'timezone', default UTC)")
            }
            release.target = date
        }

        // The body: links to runbooks under "Requires" and "Rollback" headings.
        let body = Array(bytes[block.bodyOffset...])
        let document = CommonMarkParser.parse(body, lineOffset: block.bodyLine - 1)
        var section: WritableKeyPath<Release, [Item]>?
        let folder = (path as NSString).deletingLastPathComponent
        for index in 0..<Int32(document.nodes.count) {
            let node = document[index]
            switch node.kind {
            case .heading:
                let text = document.plainText(index).lowercased()
                if release.title.isEmpty && node.level == 1 { release.title = document.plainText(index).trimmed }
                section = text.contains("rollback") ? \.rollback : text.contains("require") ? \.requires : nil
            case .link:
                guard let section else { continue }
                let link = document.info(index)
                let file = String(link.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
                guard !file.isEmpty, !link.contains("://"), file.hasSuffix(".md") else { continue }
                let decoded = file.removingPercentEncoding ?? file
                let resolved = decoded.hasPrefix("/") || folder.isEmpty ? decoded : (folder as NSString).appendingPathComponent(decoded)
                let start = node.range.start
                release[keyPath: section].append(Item(title: document.plainText(index).trimmed, link: link,
                                                      path: PathText.normalized(resolved), line: start.line,
                                                      column: source.characterColumn(line: start.line, byteColumn: start.column)))
            default:
                break
            }
        }
        if release.title.isEmpty { release.title = release.id }
        if release.requires.isEmpty {
            throw fail(block.bodyLine, 1, "the release requires no runbooks: link them in a list under a '## Requires' heading, e.g. - [Readiness review](../runbooks/release-readiness.md)")
        }
        return release
    }

    /// `2026-11-28`, `2026-11-28 09:00`, `2026-11-28T09:00`, or a full ISO 8601 time with offset.
    public static func parseTarget(_ text: String, timeZone: TimeZone) -> Date? {
        let trimmed = text.trimmed
        // 2026-02-30 is no day, not 2026-03-02.
        guard PossibleDate.impossibility(trimmed) == nil else { return nil }
        let iso = ISO8601DateFormatter()
        if let date = iso.date(from: trimmed) { return date }
        for format in ["yyyy-MM-dd HH:mm", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd"] {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = timeZone
            formatter.dateFormat = format
            if let date = formatter.date(from: trimmed) { return date }
        }
        return nil
    }
}
