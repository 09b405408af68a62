import Foundation
import RunsheetCore
import RunsheetTestSupport
import Synchronization
import Testing

/// The compiler reads every file through the loader it is given: the runbook, its includes, and
/// the roles, policy and calendar files that apply to it.
@Suite struct CompilerLoaderTests {
    /// Files served from memory; every path asked for is kept.
    final class MemoryFiles: Sendable {
        let files: [String: String]
        let asked = Mutex<[String]>([])

        init(_ files: [String: String]) { self.files = files }

        var loader: Compiler.Loader {
            { [self] path in
                asked.withLock { $0.append(path) }
                guard let text = files[path] else { throw FileReader.ReadError.notFound(path) }
                return Array(text.utf8)
            }
        }
    }

    /// None of these paths exists on disk, so a compiler that read the disk would find no files.
    static let root = "/in-memory-\(UUID().uuidString)/repo"

    static let runbook = """
        ---
        id: deploy
        production: true
        calendar: ops/calendar.yaml
        ---
        # Deploy
        - [ ] Approve
          - Sign-off: release-manager
        - [ ] Ship it
          - Role: sre
        """

    @Test func rolesPolicyAndCalendarComeFromTheLoader() throws {
        let memory = MemoryFiles([
            Self.root + "/.git": "gitdir: elsewhere\n",
            Self.root + "/.runsheet/roles.yaml": "roles:\n  release-manager: [alice@example.com]\n  sre: [bob@example.com]\n",
            Self.root + "/.runsheet/policy.yaml": "major:\n  gates: [no-such-gate]\n",
            Self.root + "/runbooks/deploy.md": Self.runbook,
            Self.root + "/runbooks/ops/calendar.yaml": "timezone: Mars/Olympus\n",
        ])
        let result = try Compiler(loader: memory.loader).compile(path: Self.root + "/runbooks/deploy.md")
        let found = result.diagnostics.map { "\($0.code.rawValue) \(($0.path as NSString).lastPathComponent):\($0.line): \($0.message)" }
        // The roles file declares both roles: no undeclared-role.
        #expect(!found.contains { $0.hasPrefix("undeclared-role") }, "\(found)")
        #expect(found.contains("bad-policy deploy.md:1: the major policy names gate 'no-such-gate', but no gate step has that id"), "\(found)")
        #expect(found.contains { $0.hasPrefix("calendar-file calendar.yaml:1:") && $0.contains("Mars/Olympus") }, "\(found)")
        let asked = memory.asked.withLock { $0 }
        #expect(asked.contains(Self.root + "/runbooks/ops/calendar.yaml"))
        #expect(asked.contains(Self.root + "/.runsheet/roles.yaml") && asked.contains(Self.root + "/.runsheet/policy.yaml"))
        // The walk up stops at the Git root the loader serves.
        #expect(asked.allSatisfy { $0.hasPrefix(Self.root + "/") }, "\(asked)")
    }

    @Test func withoutTheLoadersFilesTheRolesAreUndeclared() throws {
        let memory = MemoryFiles([Self.root + "/.git": "", Self.root + "/runbooks/deploy.md": Self.runbook])
        let result = try Compiler(loader: memory.loader).compile(path: Self.root + "/runbooks/deploy.md")
        let codes = result.diagnostics.map(\.code.rawValue)
        #expect(codes.filter { $0 == "undeclared-role" }.count == 2, "\(result.diagnostics.map(\.message))")
        #expect(result.diagnostics.contains { $0.code == .calendarFile && $0.message.contains("cannot be read") })
        #expect(!codes.contains("bad-policy"))
    }

    /// A runbook whose name is `fuzz.md` is checked like any other.
    @Test func noFileNameIsExempt() throws {
        let memory = MemoryFiles([Self.root + "/.git": "", Self.root + "/fuzz.md": Self.runbook])
        let result = try Compiler(loader: memory.loader).compile(path: Self.root + "/fuzz.md")
        #expect(result.diagnostics.contains { $0.code == .undeclaredRole })
    }

    /// The run-time view of the same files goes through the same walk.
    @Test func governanceLoadsThroughTheLoaderToo() throws {
        let memory = MemoryFiles([
            Self.root + "/.git": "",
            // A byte order mark is dropped, as Foundation's String(contentsOfFile:) drops it.
            Self.root + "/.runsheet/roles.yaml": "\u{FEFF}roles:\n  release-manager: [alice@example.com]\n",
            Self.root + "/.runsheet/calendar.yaml": "exception-roles: [release-manager]\n",
        ])
        var runbook = Fixtures.compile("# R\n- [ ] x\n", path: Self.root + "/runbooks/r.md").runbook
        runbook.production = true
        let (governance, problems) = Governance.load(for: runbook, loader: memory.loader)
        #expect(problems.isEmpty, "\(problems.map(\.message))")
        #expect(governance.roles?.holds("alice@example.com", "release-manager") == true)
        #expect(governance.calendar?.exceptionRoles == ["release-manager"])
    }
}
