/// The version of the journal format, and which versions this runsheet reads (docs/JOURNAL.md,
/// "Schema versions").
///
/// `run.started` records it in `data.schema` as `runsheet.journal/<major>` or
/// `runsheet.journal/<major>.<minor>`. Within a major version the format only grows, and the
/// minor version is the lowest reader that understands everything the journal may hold: a
/// journal recording `runsheet.journal/1.2` may contain event types and fields added in 1.1
/// and 1.2, and a runsheet that reads only up to 1.1 refuses it rather than fold part of it.
public struct JournalFormat: Sendable, Equatable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    static let prefix = "runsheet.journal/"

    /// What this runsheet writes in `run.started`: 1.1 added `step.forced` and `gate.waived`, 1.2
    /// `command.started` and `command.resolved`.
    public static let written = "runsheet.journal/1.2"
    /// What a run that takes an environment lock writes instead: 1.3 added `run.started`'s `lock`,
    /// `lock.taken` and `lock.released`, which only such a run may hold.
    public static let writtenWithLock = "runsheet.journal/1.3"
    /// What a run under `signatures: required` writes, with or without a lock: 1.4 added
    /// `run.started`'s `signatures`, which says that an unsigned act does not count.
    public static let writtenSigned = "runsheet.journal/1.4"
    /// What a run whose repository declares notification targets writes (`.runsheet/config.yaml`):
    /// 1.5 added `notify.failed`.
    public static let writtenNotifying = "runsheet.journal/1.5"
    /// The newest format this runsheet reads. Raise the minor when adding an event type, or a field
    /// whose meaning a reader must not ignore, and write that version in the runs that use it.
    /// 1.4 added an event's `signature`, `run.started`'s `signatures` and `journal.sealed`; 1.5 `notify.failed`.
    public static let newestReadable = JournalFormat(major: 1, minor: 5)

    public init(major: Int, minor: Int) {
        self.major = major
        self.minor = minor
    }

    /// Parses `runsheet.journal/1` (minor 0) or `runsheet.journal/1.3`; nil for anything else.
    public init?(schema: String) {
        guard schema.hasPrefix(Self.prefix) else { return nil }
        let version = schema.dropFirst(Self.prefix.count).split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        func number(_ text: Substring) -> Int? {
            guard !text.isEmpty, text.count <= 9, text.allSatisfy({ ("0"..."9").contains($0) }) else { return nil }
            return Int(text)
        }
        // The major version is written without leading zeros; `runsheet.journal/01` is not a format.
        guard let major = number(version[0]), String(major) == version[0] else { return nil }
        if version.count == 1 {
            self.init(major: major, minor: 0)
        } else if let minor = number(version[1]) {
            self.init(major: major, minor: minor)
        } else {
            return nil
        }
    }

    /// Whether this runsheet can read a journal of this format: the same major version, and a minor
    /// one no newer than its own.
    public var isReadable: Bool { major == Self.newestReadable.major && minor <= Self.newestReadable.minor }

    public var description: String { "\(Self.prefix)\(major).\(minor)" }

    /// The formats this runsheet reads, in words: `runsheet.journal/1`, or `runsheet.journal/1 up to 1.3`.
    public static var readableDescription: String {
        let newest = newestReadable
        return "\(prefix)\(newest.major)" + (newest.minor == 0 ? "" : " up to \(newest.major).\(newest.minor)")
    }

    public static func < (lhs: JournalFormat, rhs: JournalFormat) -> Bool {
        (lhs.major, lhs.minor) < (rhs.major, rhs.minor)
    }
}
