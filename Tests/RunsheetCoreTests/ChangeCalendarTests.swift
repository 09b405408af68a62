import Foundation
@testable import RunsheetCore
import RunsheetTestSupport
import Testing

/// Windows and freezes evaluated at fixed instants, across time zones, midnight and New Year.
@Suite struct ChangeCalendarTests {
    func calendar(_ yaml: String) -> (ChangeCalendar, [Diagnostic]) {
        ChangeCalendar.parse(path: "calendar.yaml", text: yaml)
    }

    func at(_ text: String) -> Date {
        let formatter = ISO8601DateFormatter()
        return formatter.date(from: text)!
    }

    @Test func weeklyWindowInItsOwnTimeZone() {
        let (calendar, problems) = calendar("""
            timezone: Europe/Berlin
            windows:
              - {name: daytime, days: [mon, tue, wed, thu], from: "09:00", to: "16:00"}
            """)
        #expect(problems.isEmpty)
        // 2026-11-23 is a Monday; Berlin is UTC+1 in November.
        #expect(calendar.conflict(at: at("2026-11-23T08:00:00Z")) == nil)   // 09:00 Berlin
        #expect(calendar.conflict(at: at("2026-11-23T07:59:00Z")) != nil)   // 08:59 Berlin
        #expect(calendar.conflict(at: at("2026-11-23T14:59:00Z")) == nil)   // 15:59 Berlin
        #expect(calendar.conflict(at: at("2026-11-23T15:00:00Z"))?.contains("outside every change window (daytime: mon, tue, wed, thu 09:00–16:00 Europe/Berlin)") == true)
        #expect(calendar.conflict(at: at("2026-11-27T10:00:00Z")) != nil)   // Friday
    }

    @Test func windowsPastMidnightBelongToTheDayTheyStart() {
        let (calendar, _) = calendar("windows:\n  - {name: night, days: [fri], from: \"22:00\", to: \"02:00\"}\n")
        #expect(calendar.conflict(at: at("2026-11-27T23:30:00Z")) == nil)   // Friday night
        #expect(calendar.conflict(at: at("2026-11-28T01:59:00Z")) == nil)   // early Saturday
        #expect(calendar.conflict(at: at("2026-11-28T02:00:00Z")) != nil)
        #expect(calendar.conflict(at: at("2026-11-28T23:30:00Z")) != nil)   // Saturday night
        #expect(calendar.conflict(at: at("2026-11-27T01:00:00Z")) != nil)   // early Friday belongs to Thursday
    }

    @Test func freezesOnceWeeklyAndYearly() {
        let (calendar, problems) = calendar("""
            freezes:
              - {name: launch, from: "2026-12-01 18:00", to: "2026-12-02 06:00"}
              - {name: year-end, from: 12-20, to: 01-05}
              - {name: friday afternoons, days: [fri], from: "12:00", to: "24:00", timezone: America/New_York}
            """)
        #expect(problems.isEmpty)
        #expect(calendar.conflict(at: at("2026-12-01T17:59:00Z")) == nil)
        #expect(calendar.conflict(at: at("2026-12-01T18:00:00Z"))?.contains("'launch'") == true)
        #expect(calendar.conflict(at: at("2026-12-02T06:00:00Z")) == nil)
        // Yearly, wrapping over New Year, whole days in UTC.
        #expect(calendar.conflict(at: at("2027-12-20T00:00:00Z"))?.contains("'year-end'") == true)
        #expect(calendar.conflict(at: at("2028-01-05T23:59:00Z"))?.contains("'year-end'") == true)
        #expect(calendar.conflict(at: at("2028-01-06T00:00:00Z")) == nil)
        #expect(calendar.conflict(at: at("2027-12-19T23:59:00Z")) == nil)
        // Friday 12:00 in New York is 17:00 UTC in November.
        #expect(calendar.conflict(at: at("2026-11-27T16:59:00Z")) == nil)
        #expect(calendar.conflict(at: at("2026-11-27T17:00:00Z"))?.contains("'friday afternoons'") == true)
    }

    @Test func aDateAloneCoversTheWholeDay() {
        let (calendar, _) = calendar("timezone: Asia/Tokyo\nfreezes:\n  - {name: holiday, from: 2026-12-31, to: 2026-12-31}\n")
        #expect(calendar.conflict(at: at("2026-12-30T14:59:00Z")) == nil)   // 23:59 on the 30th in Tokyo
        #expect(calendar.conflict(at: at("2026-12-30T15:00:00Z")) != nil)   // midnight of the 31st in Tokyo
        #expect(calendar.conflict(at: at("2026-12-31T14:59:00Z")) != nil)
        #expect(calendar.conflict(at: at("2026-12-31T15:00:00Z")) == nil)
    }

    @Test func problemsAreReportedAtTheirPositions() {
        let (_, problems) = calendar("""
            timezone: Nowhere/Town
            windows:
              - {name: a, days: [someday], from: "09:00", to: "17:00"}
              - {name: b, from: "25:00", to: "17:00"}
              - {name: c, from: 2026-12-05, to: 2026-12-01}
            colour: blue
            """)
        let lines = problems.map { "\($0.line):\($0.column) \($0.message)" }
        #expect(lines.contains { $0.hasPrefix("1:11 'Nowhere/Town' is not a time zone") })
        #expect(lines.contains { $0.hasPrefix("3:21 'someday' is not a day") })
        #expect(lines.contains { $0.hasPrefix("4:21 'from' must be a time") })
        #expect(lines.contains { $0.hasPrefix("5:37 'c' ends before it starts") })
        #expect(lines.contains { $0.hasPrefix("6:1 unknown calendar key 'colour'") })
        #expect(problems.allSatisfy { $0.code == .calendarFile && $0.path == "calendar.yaml" })
    }
}

/// How a runbook finds `.runsheet/` files: the nearest folder upwards, never past a Git root.
@Suite struct RepositoryFileTests {
    @Test func pathsAreNormalizedAsText() {
        #expect(PathText.normalized("a/../b/./c.md") == "b/c.md")
        #expect(PathText.normalized("../../x/../y") == "../../y")
        #expect(PathText.normalized("./a/..") == ".")
        #expect(PathText.normalized("/srv//ops/../runbooks/") == "/srv/runbooks")
        #expect(PathText.normalized("/../x") == "/x")
        #expect(PathText.normalized("/") == "/")
    }

    @Test func nearestFileUpwardsStoppingAtTheGitRoot() throws {
        let base = try Fixtures.temporaryDirectory("repository-file")
        let manager = FileManager.default
        for folder in ["outer/.runsheet", "outer/repo/.git", "outer/repo/.runsheet", "outer/repo/a/b/.runsheet", "outer/repo/a/b/c"] {
            try manager.createDirectory(at: base.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        for file in ["outer/.runsheet/roles.yaml", "outer/.runsheet/policy.yaml", "outer/repo/.runsheet/roles.yaml", "outer/repo/a/b/.runsheet/roles.yaml",
                     "outer/repo/.git/HEAD"] {
            #expect(manager.createFile(atPath: base.appendingPathComponent(file).path, contents: Data("x: 1\n".utf8)))
        }
        let root = base.standardizedFileURL.path
        let roles = RolesFile.relativePath, policy = Policy.relativePath
        #expect(RepositoryFile.locate(roles, from: root + "/outer/repo/a/b/c") == root + "/outer/repo/a/b/.runsheet/roles.yaml")
        #expect(RepositoryFile.locate(roles, from: root + "/outer/repo/a") == root + "/outer/repo/.runsheet/roles.yaml")
        // The repository has no policy file; the one outside it is not used.
        #expect(RepositoryFile.locate(policy, from: root + "/outer/repo/a/b/c") == nil)
        // Outside a repository the walk goes on to the file system's root.
        #expect(RepositoryFile.locate(policy, from: root + "/outer/x/../.") == root + "/outer/.runsheet/policy.yaml")
        #expect(RepositoryFile.locate(".runsheet/none-\(UUID().uuidString).yaml", from: root + "/outer") == nil)
        // A relative folder is taken from the working directory (not changed here: tests share it).
        let up = String(repeating: "../", count: manager.currentDirectoryPath.split(separator: "/").count)
        let relative = up + root.dropFirst() + "/outer/repo/a/b/c/.."
        #expect(RepositoryFile.locate(roles, from: relative) == root + "/outer/repo/a/b/.runsheet/roles.yaml")
    }
}

/// What a runbook's front matter adds to the repository's calendar: freezes add, windows narrow,
/// and who grants exceptions stays the repository's.
@Suite struct RunbookCalendarTests {
    @Test func aRunbookCalendarAddsAndNarrowsButNeverReplaces() throws {
        let at = { (text: String) in ISO8601DateFormatter().date(from: text)! }
        let repository = ChangeCalendar.parse(path: ".runsheet/calendar.yaml", text: """
            exception-roles: [cab]
            windows:
              - {name: weekdays, days: [weekdays], from: "08:00", to: "18:00"}
            freezes:
              - {name: launch, from: 2026-12-01, to: 2026-12-01}
            """).0
        let own = ChangeCalendar.parse(path: "mine.yaml", text: """
            exception-roles: [sre]
            windows:
              - {name: always, from: "00:00", to: "24:00"}
              - {name: mornings, from: "06:00", to: "10:00"}
            freezes:
              - {name: team offsite, from: 2026-11-26, to: 2026-11-26}
            """).0
        let merged = repository.addingRunbook(own)
        #expect(merged.exceptionRoles == ["cab"])
        #expect(merged.runbookExceptionRoles == ["sre"])
        #expect(merged.conflict(at: at("2026-11-23T09:00:00Z")) == nil)                        // Monday 09:00: both windows
        #expect(merged.conflict(at: at("2026-11-28T09:00:00Z"))?.contains("outside every change window (weekdays") == true)   // Saturday
        #expect(merged.conflict(at: at("2026-12-01T09:00:00Z"))?.contains("'launch'") == true)     // the repository's freeze holds
        #expect(merged.conflict(at: at("2026-11-26T09:00:00Z"))?.contains("'team offsite'") == true)
        // The runbook's "always" window cannot open what the repository closes.
        #expect(merged.conflict(at: at("2026-11-23T20:00:00Z")) != nil)
        // Only inside one of the runbook's windows as well.
        let narrower = repository.addingRunbook(ChangeCalendar.parse(path: "m", text: "windows:\n  - {name: mornings, from: \"06:00\", to: \"10:00\"}\n").0)
        #expect(narrower.conflict(at: at("2026-11-23T11:00:00Z"))?.contains("outside every change window the runbook adds (mornings") == true)
    }
}
