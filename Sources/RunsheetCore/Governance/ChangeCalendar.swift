import Foundation
import Yams

/// When production changes may happen: recurring windows and one-off or recurring freezes, each in
/// a time zone. Kept in `.runsheet/calendar.yaml`; see docs/FORMAT.md.
public struct ChangeCalendar: Sendable, Equatable {
    public static let relativePath = ".runsheet/calendar.yaml"

    /// A span of time, recurring weekly or yearly, or once.
    public struct Period: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            /// On the given weekdays (1 = Sunday … 7 = Saturday), from one minute of the day to another.
            /// `to` at or before `from` runs past midnight into the next day.
            case weekly(days: Set<Int>, from: Int, to: Int)
            /// Every year from one month-day to another, whole days, wrapping at the year's end.
            case yearly(from: MonthDay, to: MonthDay)
            /// Once: `[from, to)` in absolute time.
            case once(from: Date, to: Date)
        }

        public var name: String
        public var kind: Kind
        public var timeZone: TimeZone
        /// How the period was written, for messages.
        public var text: String

        public func contains(_ date: Date) -> Bool {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = timeZone
            switch kind {
            case .weekly(let days, let from, let to):
                let parts = calendar.dateComponents([.weekday, .hour, .minute], from: date)
                let minute = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
                let weekday = parts.weekday ?? 1
                if to > from { return days.contains(weekday) && minute >= from && minute < to }
                let yesterday = weekday == 1 ? 7 : weekday - 1
                return (days.contains(weekday) && minute >= from) || (days.contains(yesterday) && minute < to)
            case .yearly(let from, let to):
                let parts = calendar.dateComponents([.month, .day], from: date)
                let today = MonthDay(month: parts.month ?? 1, day: parts.day ?? 1)
                return from <= to ? (from <= today && today <= to) : (today >= from || today <= to)
            case .once(let from, let to):
                return date >= from && date < to
            }
        }
    }

    public struct MonthDay: Sendable, Equatable, Comparable {
        public var month: Int
        public var day: Int
        public static func < (a: MonthDay, b: MonthDay) -> Bool { (a.month, a.day) < (b.month, b.day) }
    }

    public var path: String?
    public var windows: [Period] = []
    public var freezes: [Period] = []
    /// Windows a runbook adds (the calendar its front matter names, or inline): a change must be
    /// inside one of these too, so adding windows can only narrow when changes may happen.
    public var runbookWindows: [Period] = []
    /// The `exception-roles` the file says, if it says them.
    public var declaredExceptionRoles: [String]?
    /// `exception-roles` in a calendar a runbook names: never used (only the repository's
    /// calendar says who may grant exceptions); `check` reports it.
    public var runbookExceptionRoles: [String]?
    /// Roles whose members may grant an exception.
    public var exceptionRoles: [String] { declaredExceptionRoles ?? ChangeCalendar.defaultExceptionRoles }
    public static let defaultExceptionRoles = ["release-manager"]

    public init(path: String? = nil) { self.path = path }

    /// Why a production change may not happen at `date`, or nil when it may.
    public func conflict(at date: Date) -> String? {
        if let freeze = freezes.first(where: { $0.contains(date) }) {
            return "it is inside the change freeze '\(freeze.name)' (\(freeze.text))"
        }
        if !windows.isEmpty, !windows.contains(where: { $0.contains(date) }) {
            return "it is outside every change window (" + windows.map { "\($0.name): \($0.text)" }.joined(separator: "; ") + ")"
        }
        if !runbookWindows.isEmpty, !runbookWindows.contains(where: { $0.contains(date) }) {
            return "it is outside every change window the runbook adds (" + runbookWindows.map { "\($0.name): \($0.text)" }.joined(separator: "; ") + ")"
        }
        return nil
    }

    /// This calendar with what a runbook adds: its freezes, and its windows as a further
    /// restriction. Who may grant exceptions stays this calendar's.
    func addingRunbook(_ other: ChangeCalendar) -> ChangeCalendar {
        var merged = self
        merged.freezes += other.freezes
        merged.runbookWindows += other.windows + other.runbookWindows
        merged.runbookExceptionRoles = other.declaredExceptionRoles ?? other.runbookExceptionRoles ?? runbookExceptionRoles
        return merged
    }

    // MARK: - Parsing

    static let dayNames = ["sun": 1, "mon": 2, "tue": 3, "wed": 4, "thu": 5, "fri": 6, "sat": 7]
    static let entryKeys = ["name", "days", "from", "to", "timezone"]

    /// Reads the top level of a calendar file.
    static func parse(_ root: Node, path: String?, problem: (Node, String) -> Void) -> ChangeCalendar {
        var calendar = ChangeCalendar(path: path)
        guard case .mapping(let top) = root else {
            problem(root, "the calendar must be a mapping with 'windows', 'freezes', 'timezone' and 'exception-roles'")
            return calendar
        }
        var zone = TimeZone(identifier: "UTC")!
        if let zoneNode = top["timezone"] {
            if let parsed = timeZone(zoneNode, problem: problem) { zone = parsed }
        }
        for (keyNode, value) in top {
            switch keyNode.string ?? "" {
            case "timezone": break
            case "windows": calendar.windows = periods(value, list: "windows", zone: zone, problem: problem)
            case "freezes": calendar.freezes = periods(value, list: "freezes", zone: zone, problem: problem)
            case "exception-roles":
                if case .sequence(let roles) = value { calendar.declaredExceptionRoles = roles.compactMap(\.string) } else if let role = value.string {
                    calendar.declaredExceptionRoles = [role]
                } else {
                    problem(value, "'exception-roles' must be a list of roles")
                }
            default:
                problem(keyNode, "unknown calendar key '\(keyNode.string ?? "?")'; use windows, freezes, timezone, exception-roles")
            }
        }
        return calendar
    }

    static func timeZone(_ node: Node, problem: (Node, String) -> Void) -> TimeZone? {
        guard let name = node.string, let zone = TimeZone(identifier: name) else {
            problem(node, "'\(node.string ?? "?")' is not a time zone; use an IANA name such as Europe/Berlin or UTC")
            return nil
        }
        return zone
    }

    /// A list of windows or freezes.
    static func periods(_ node: Node, list: String, zone: TimeZone, problem: (Node, String) -> Void) -> [Period] {
        guard case .sequence(let entries) = node else {
            problem(node, "'\(list)' must be a list of entries with name, days, from and to")
            return []
        }
        return entries.compactMap { period($0, list: list, zone: zone, problem: problem) }
    }

    static func period(_ node: Node, list: String, zone defaultZone: TimeZone, problem: (Node, String) -> Void) -> Period? {
        guard case .mapping(let entry) = node else {
            problem(node, "each entry of '\(list)' must be a mapping with name, days, from and to")
            return nil
        }
        for (keyNode, _) in entry where !entryKeys.contains(keyNode.string ?? "") {
            problem(keyNode, "unknown key '\(keyNode.string ?? "?")' in \(list); use \(entryKeys.joined(separator: ", "))")
        }
        var zone = defaultZone
        if let zoneNode = entry["timezone"] {
            guard let parsed = timeZone(zoneNode, problem: problem) else { return nil }
            zone = parsed
        }
        let name = entry["name"]?.string ?? "\(list) entry at line \(node.mark?.line ?? 0)"
        guard let fromNode = entry["from"], let toNode = entry["to"], let from = fromNode.string, let to = toNode.string else {
            problem(node, "'\(name)' needs 'from' and 'to'")
            return nil
        }
        let zoneName = zone.identifier
        // Times of day: weekly.
        if let start = minutes(from) {
            guard let end = minutes(to) else {
                problem(toNode, "'to' must be a time of day like 17:30, as 'from' is")
                return nil
            }
            var days = Set(1...7)
            var dayText = "every day"
            if let daysNode = entry["days"] {
                guard let parsed = weekdays(daysNode, problem: problem) else { return nil }
                days = parsed.days
                dayText = parsed.text
            }
            return Period(name: name, kind: .weekly(days: days, from: start, to: end == 0 && start > 0 ? 1440 : end), timeZone: zone,
                          text: "\(dayText) \(from)–\(to) \(zoneName)")
        }
        if entry["days"] != nil {
            problem(entry["days"]!, "'days' goes with times of day in 'from' and 'to' (such as 09:00)")
            return nil
        }
        // Month-days: yearly.
        if let start = monthDay(from) {
            guard let end = monthDay(to) else {
                problem(toNode, "'to' must be a month-day like 01-05, as 'from' is")
                return nil
            }
            return Period(name: name, kind: .yearly(from: start, to: end), timeZone: zone, text: "every year \(from) to \(to) \(zoneName)")
        }
        // Dates or date-times: once. A date alone covers the whole day.
        guard let start = instant(from, zone: zone, endOfDay: false) else {
            problem(fromNode, "'from' must be a time (09:00), a month-day (12-24), a date (2026-12-24) or a date and time (2026-12-24 18:00)")
            return nil
        }
        guard let end = instant(to, zone: zone, endOfDay: true) else {
            problem(toNode, "'to' must be a date (2027-01-04) or a date and time (2027-01-04 08:00), as 'from' is")
            return nil
        }
        guard end > start else {
            problem(toNode, "'\(name)' ends before it starts")
            return nil
        }
        return Period(name: name, kind: .once(from: start, to: end), timeZone: zone, text: "\(from) to \(to) \(zoneName)")
    }

    static func weekdays(_ node: Node, problem: (Node, String) -> Void) -> (days: Set<Int>, text: String)? {
        var names: [String] = []
        if case .sequence(let items) = node { names = items.compactMap(\.string) } else if let text = node.string {
            names = text.split(separator: ",").map { String($0).trimmed }
        }
        var days = Set<Int>()
        for name in names {
            let key = name.lowercased()
            switch key {
            case "weekdays": days.formUnion(2...6)
            case "weekends": days.formUnion([1, 7])
            default:
                guard let day = dayNames[String(key.prefix(3))], key.count >= 3 else {
                    problem(node, "'\(name)' is not a day; use mon, tue, wed, thu, fri, sat, sun, weekdays or weekends")
                    return nil
                }
                days.insert(day)
            }
        }
        guard !days.isEmpty else {
            problem(node, "'days' lists no days")
            return nil
        }
        return (days, names.joined(separator: ", "))
    }

    /// `HH:MM` as minutes after midnight; `24:00` is 1440.
    static func minutes(_ text: String) -> Int? {
        let parts = text.trimmed.split(separator: ":")
        guard parts.count == 2, parts[1].count == 2, let hour = Int(parts[0]), let minute = Int(parts[1]),
              (0...24).contains(hour), (0...59).contains(minute), hour * 60 + minute <= 1440 else { return nil }
        return hour * 60 + minute
    }

    /// `MM-DD`.
    static func monthDay(_ text: String) -> MonthDay? {
        let parts = text.trimmed.split(separator: "-")
        guard parts.count == 2, parts.allSatisfy({ $0.count == 2 }), let month = Int(parts[0]), let day = Int(parts[1]),
              (1...12).contains(month), (1...31).contains(day) else { return nil }
        return MonthDay(month: month, day: day)
    }

    /// `YYYY-MM-DD` (the start of that day, or the end of it when `endOfDay`) or `YYYY-MM-DD HH:MM`.
    static func instant(_ text: String, zone: TimeZone, endOfDay: Bool) -> Date? {
        let pieces = text.trimmed.replacingOccurrences(of: "T", with: " ").split(separator: " ")
        guard (1...2).contains(pieces.count) else { return nil }
        let date = pieces[0].split(separator: "-")
        guard date.count == 3, date[0].count == 4, let year = Int(date[0]), let month = Int(date[1]), let day = Int(date[2]) else { return nil }
        var minute = 0
        if pieces.count == 2 {
            guard let parsed = minutes(String(pieces[1])) else { return nil }
            minute = parsed
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let components = DateComponents(year: year, month: month, day: day)
        guard let midnight = calendar.date(from: components),
              calendar.component(.day, from: midnight) == day else { return nil }
        if pieces.count == 1 && endOfDay { return calendar.date(byAdding: .day, value: 1, to: midnight) }
        return midnight.addingTimeInterval(Double(minute * 60))
    }

    /// Parses a calendar file.
    public static func parse(path: String, text: String) -> (ChangeCalendar, [Diagnostic]) {
        var diagnostics: [Diagnostic] = []
        guard let root = RepositoryFile.compose(text, path: path, code: .calendarFile, what: "calendar file", into: &diagnostics) else {
            return (ChangeCalendar(path: path), diagnostics)
        }
        let calendar = parse(root, path: path) { node, message in
            diagnostics.append(Diagnostic(.error, .calendarFile, message, path: path, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1))
        }
        return (calendar, diagnostics)
    }

    /// The calendar for a runbook: the repository's `.runsheet/calendar.yaml`, the floor, plus
    /// what the runbook adds: the file its front matter names (relative to the runbook) and
    /// windows and freezes declared inline. A runbook's freezes add to the repository's, and its
    /// windows narrow them (`addingRunbook`). Files are read with `loader`; one that is missing
    /// (when named), cannot be read or is not UTF-8 is an error diagnostic.
    public static func load(for runbook: Runbook, loader: Compiler.Loader = Compiler.disk) -> (ChangeCalendar, [Diagnostic])? {
        let unusable = { (path: String) in ChangeCalendar(path: path) }
        var loaded = RepositoryFile.load(relativePath, forRunbook: runbook.path, code: .calendarFile, what: "calendar file", loader: loader,
                                         parse: parse, unusable: unusable)
        var added: [(ChangeCalendar, [Diagnostic])] = []
        if let named = runbook.calendarPath {
            let directory = (runbook.path as NSString).deletingLastPathComponent
            let path = named.hasPrefix("/") ? named : (directory.isEmpty ? named : directory + "/" + named)
            if let repository = loaded?.0.path, sameFile(path, repository) {
                // The runbook names the repository's own calendar: nothing to add.
            } else if let reading = RepositoryFile.read(path, code: .calendarFile, what: "calendar file", loader: loader) {
                added.append(reading.parsed(with: parse, unusable: unusable))
            } else {
                added.append((ChangeCalendar(path: path), [Diagnostic(.error, .calendarFile, "the calendar file \(path) named in the front matter does not exist", path: runbook.path, line: 1, column: 1)]))
            }
        }
        if let inline = runbook.inlineCalendar { added.append((inline, [])) }
        for (calendar, diagnostics) in added {
            let base = loaded ?? (ChangeCalendar(path: calendar.path), [])
            loaded = (base.0.addingRunbook(calendar), base.1 + diagnostics)
        }
        return loaded
    }

    /// Whether two paths name the same file, as written (relative ones from the current folder).
    private static func sameFile(_ a: String, _ b: String) -> Bool {
        func absolute(_ path: String) -> String {
            PathText.normalized(path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path)
        }
        return absolute(a) == absolute(b)
    }
}
