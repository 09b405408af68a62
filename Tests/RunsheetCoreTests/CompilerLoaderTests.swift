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
            Self.root + "/elsewhere/HEAD": "ref: refs/heads/main\n",
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
        let memory = MemoryFiles([Self.root + "/.git": "gitdir: .git-data\n", Self.root + "/.git-data/HEAD": "ref: refs/heads/main\n", Self.root + "/runbooks/deploy.md": Self.runbook])
        let result = try Compiler(loader: memory.loader).compile(path: Self.root + "/runbooks/deploy.md")
        let codes = result.diagnostics.map(\.code.rawValue)
        #expect(codes.filter { $0 == "undeclared-role" }.count == 2, "\(result.diagnostics.map(\.message))")
        #expect(result.diagnostics.contains { $0.code == .calendarFile && $0.message.contains("named in the front matter does not exist") })
        #expect(!codes.contains("bad-policy"))
    }

    /// A rule file the loader cannot read, or that is not UTF-8, is an error at its path (at the
    /// first bad byte), never taken as no file; an unread roles file gives nobody a role.
    @Test func aRuleFileTheLoaderCannotReadIsAnErrorNotAbsent() throws {
        let root = Self.root
        let loader: Compiler.Loader = { path in
            switch path {
            case root + "/.git": return Array("gitdir: g\n".utf8)
            case root + "/g/HEAD": return Array("ref: refs/heads/main\n".utf8)
            case root + "/.runsheet/roles.yaml": throw FileReader.ReadError.unreadable(path, "Permission denied")
            case root + "/.runsheet/policy.yaml": return Array("normal: {approvers: 2}\n# caf".utf8) + [0xE9, 0x0A]
            default: throw FileReader.ReadError.notFound(path)
            }
        }
        let runbook = Fixtures.compile("# R\n- [ ] x\n", path: root + "/runbooks/r.md").runbook
        let (governance, problems) = Governance.load(for: runbook, loader: loader)
        #expect(problems.map { "\($0.code.rawValue) \(($0.path as NSString).lastPathComponent):\($0.line):\($0.column) \($0.message)" } == [
            "roles-file roles.yaml:1:1 the roles file cannot be read: Permission denied",
            "policy-file policy.yaml:2:6 the policy file is not UTF-8 (byte 0xE9 at byte offset 28); save it as UTF-8",
        ])
        #expect(governance.roles?.members.isEmpty == true)
        #expect(governance.roles?.holds("anyone", "sre") == false)
        let compiled = Compiler(loader: loader).compile(path: root + "/runbooks/r.md", bytes: Array("# R\n- [ ] x\n".utf8))
        #expect(compiled.errors.map(\.code) == [.rolesFile, .policyFile])
    }

    /// A runbook whose name is `fuzz.md` is checked like any other.
    @Test func noFileNameIsExempt() throws {
        let memory = MemoryFiles([Self.root + "/.git": "gitdir: .git-data\n", Self.root + "/.git-data/HEAD": "ref: refs/heads/main\n", Self.root + "/fuzz.md": Self.runbook])
        let result = try Compiler(loader: memory.loader).compile(path: Self.root + "/fuzz.md")
        #expect(result.diagnostics.contains { $0.code == .undeclaredRole })
    }

    /// The run-time view of the same files goes through the same walk.
    @Test func governanceLoadsThroughTheLoaderToo() throws {
        let memory = MemoryFiles([
            Self.root + "/.git": "gitdir: .git-data\n",
            Self.root + "/.git-data/HEAD": "ref: refs/heads/main\n",
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
