import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// What a runbook declares about the environment lock, and what a dry run says of it, through the
/// real binary (docs/FORMAT.md, "Environment locks"): `check` warns about a production runbook
/// that names no service or environment (`unnamed-lock`) and about an include whose `concurrent`
/// disagrees with the including runbook's (`include-concurrent`; the lock is the including
/// runbook's); `run --dry-run` says which lock a real run would take, or that it would be refused,
/// exit 5, naming the holding run, who took the lock and since when.
@Suite struct LockDeclarationTests {
    let base = EnvironmentLockTests()

    func check(_ file: String, in dir: URL, strict: Bool = false) throws -> (status: Int32, text: String) {
        let result = try Fixtures.runsheet(["check", file] + (strict ? ["--strict"] : []), directory: dir)
        return (result.status, result.stdout + result.stderr)
    }

    func folder(_ files: [String: String]) throws -> URL {
        let dir = try Fixtures.temporaryDirectory()
        for (name, text) in files { try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return dir
    }

    // MARK: - unnamed-lock

    /// Each way a runbook becomes production, the warning is at what made it so; naming both (in
    /// the front matter or as parameters) leaves nothing to warn about.
    @Test func aProductionRunbookThatNamesNoLockIsWarnedAtWhatMakesItProduction() throws {
        let child = "---\nid: child\nproduction: true\nservice: checkout\n---\n\n# Child\n\n- [ ] Change it\n"
        let dir = try folder([
            "front.md": "---\nid: front\nenvironment: production\nproduction: true\n---\n\n# Front\n\n- [ ] Change it\n",
            "step.md": "---\nid: step\n---\n\n# Step\n\n- [ ] Look\n- [ ] Change it\n  - Production: yes\n",
            "child.md": child,
            "parent.md": "---\nid: parent\n---\n\n# Parent\n\n- [ ] Look\n- [ ] Do the child\n  - Include: [Child](child.md)\n",
            "named.md": "---\nid: named\nservice: checkout\nenvironment: prod\nproduction: true\n---\n\n# Named\n\n- [ ] Change it\n",
            "params.md": "---\nid: params\nproduction: true\nparams:\n  service: {}\n  environment: {default: prod}\n---\n\n# Params\n\n- [ ] Change {{service}} in {{environment}}\n",
            "plain.md": "---\nid: plain\n---\n\n# Plain\n\n- [ ] Look\n",
        ])
        defer { try? FileManager.default.removeItem(at: dir) }
        let front = try check("front.md", in: dir)
        #expect(front.status == 0, "a warning, not an error: \(front.text)")
        #expect(front.text.contains("front.md:4:1: warning: this runbook has production steps but names no service (in its front matter or as a parameter), so its runs lock 'front / production'"), "\(front.text)")
        #expect(front.text.contains("name what it changes with 'service:' [unnamed-lock]"), "\(front.text)")
        #expect(try check("front.md", in: dir, strict: true).status == 1)
        let step = try check("step.md", in: dir)
        #expect(step.text.contains("step.md:9:5: warning: this runbook has production steps but names no service and no environment") &&
                step.text.contains("name what it changes with 'service:' and 'environment:' [unnamed-lock]"), "\(step.text)")
        let parent = try check("parent.md", in: dir)
        #expect(parent.text.contains("parent.md:9:5: warning: this runbook has production steps but names no service and no environment"), "\(parent.text)")
        for file in ["named.md", "params.md", "plain.md"] {
            let quiet = try check(file, in: dir, strict: true)
            #expect(quiet.status == 0 && !quiet.text.contains("unnamed-lock"), "\(file): \(quiet.text)")
        }
    }

    // MARK: - include-concurrent

    static let child = "---\nid: child\nservice: checkout\nenvironment: prod\nproduction: true\n%@---\n\n# Child\n\n- [ ] Change prod\n"
    static let parent = "---\nid: parent\nservice: checkout\nenvironment: prod\n%@---\n\n# Parent\n\n- [ ] Look\n- [ ] Do the child\n  - Include: [Child](child.md)\n"

    /// Either disagreement is a warning at the `Include:` line, saying whose lock counts.
    @Test func anIncludeThatDisagreesOnConcurrentIsWarned() throws {
        let cases: [(parent: String, child: String, warning: String?)] = [
            ("", "concurrent: true\n", "included runbook 'child.md' says 'concurrent: true', but a run's lock is the runbook's it starts, and this one holds it alone"),
            ("concurrent: true\n", "", "this runbook says 'concurrent: true', so its runs share the lock, and the production steps of included runbook 'child.md', which does not say so, run beside other concurrent runs"),
            ("concurrent: true\n", "concurrent: true\n", nil),
            ("", "", nil),
        ]
        for (parentFront, childFront, warning) in cases {
            let dir = try folder(["child.md": String(format: Self.child, childFront), "parent.md": String(format: Self.parent, parentFront)])
            defer { try? FileManager.default.removeItem(at: dir) }
            let line = 11 + (parentFront.isEmpty ? 0 : 1)
            let result = try check("parent.md", in: dir)
            #expect(result.status == 0, "\(result.text)")
            if let warning {
                #expect(result.text.contains("parent.md:\(line):5: warning: \(warning)") && result.text.contains("[include-concurrent]"), "\(parentFront)/\(childFront): \(result.text)")
            } else {
                #expect(!result.text.contains("include-concurrent"), "\(parentFront)/\(childFront): \(result.text)")
            }
        }
        // An included runbook without production steps takes no part in the lock: nothing to compare.
        let dir = try folder(["child.md": "---\nid: child\nconcurrent: true\n---\n\n# Child\n\n- [ ] Read\n", "parent.md": String(format: Self.parent, "")])
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try !check("parent.md", in: dir).text.contains("include-concurrent"))
    }

    /// The decision, played: a runbook that holds the lock alone stays alone though the runbook it
    /// includes says `concurrent: true` (which `check` warns of), so a concurrent run on the same
    /// lock is refused.
    @Test func anIncludedConcurrentTrueDoesNotWidenTheLock() throws {
        let concurrentDeploy = EnvironmentLockTests.runbook(id: "hotfix", extra: "concurrent: true")
        let dir = try base.repository(["child.md": String(format: Self.child, "concurrent: true\n"),
                                       "parent.md": String(format: Self.parent, ""), "hotfix.md": concurrentDeploy])
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try check("parent.md", in: dir).text.contains("and this one holds it alone; say 'concurrent: true' here to share it, or leave it out there [include-concurrent]"))
        let id = try base.pausedRun(dir, "parent.md")
        let started = try #require(try RepositoryRuns.events(dir, id: id).first?["data"] as? [String: Any])
        #expect(started["lock"] as? [String: String] == ["service": "checkout", "environment": "prod", "mode": "exclusive"])
        let second = try base.runsheet(["run", "hotfix.md", "--as", "bob"], in: dir, stdin: "quit\n")
        #expect(second.status == 5 && second.stderr.contains("is locked by run \(id)"), "\(second.stdout)\(second.stderr)")
    }

    // MARK: - run --dry-run

    /// A dry run says the real run would take the lock, and, while another open run holds it, that
    /// the real run would be refused with exit 5, naming that run, who took the lock and since when.
    /// It only looks: nothing is written, and the dry run itself succeeds.
    @Test func aDryRunSaysWhetherTheRealRunWouldGetTheLock() throws {
        let dir = try base.repository(["hotfix.md": EnvironmentLockTests.runbook(id: "hotfix"), "notes.md": "# Notes\n\n- [ ] Read\n"])
        defer { try? FileManager.default.removeItem(at: dir) }
        let free = try base.runsheet(["run", "hotfix.md", "--as", "bob", "--dry-run"], in: dir)
        #expect(free.status == 0, "\(free.stdout)\(free.stderr)")
        #expect(free.stdout.contains("a real run would take the environment lock on checkout / prod and hold it until it ends"), "\(free.stdout)")
        let none = try base.runsheet(["run", "notes.md", "--as", "bob", "--dry-run"], in: dir)
        #expect(!none.stdout.contains("lock"), "a runbook without production steps takes no lock: \(none.stdout)")

        let id = try base.pausedRun(dir)
        let journal = try base.journal(dir, id)
        let locks = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("runs/.locks").path).sorted()
        let held = try base.runsheet(["run", "hotfix.md", "--as", "bob", "--dry-run"], in: dir)
        #expect(held.status == 0, "\(held.stdout)\(held.stderr)")
        let line = try #require(held.stdout.split(separator: "\n").first { $0.hasPrefix("a real run would be refused") }.map(String.init), "\(held.stdout)")
        #expect(line.hasPrefix("a real run would be refused (exit 5): checkout / prod is locked by run \(id) (taken by alice at 20"), "\(line)")
        #expect(line.contains("now at step 'switch'") && line.contains("so it would start nothing") && line.contains("'runsheet resume \(id)' continues that run"), "\(line)")
        #expect(!held.stdout.contains("would take the environment lock"), "\(held.stdout)")
        let after = try base.journal(dir, id)
        #expect(base.runs(dir) == [id] && after == journal, "a dry run writes nothing")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("runs/.locks").path).sorted() == locks)
        // The real run is refused as the dry run said.
        let real = try base.runsheet(["run", "hotfix.md", "--as", "bob"], in: dir, stdin: "quit\n")
        #expect(real.status == 5, "\(real.stdout)\(real.stderr)")
    }

    /// Where a parameter names the lock and is not given, the dry run says so rather than guess.
    @Test func aDryRunWithoutTheLockParameterSaysWhatItNeeds() throws {
        let targeted = "---\nrunsheet: 1\nid: targeted\ntitle: targeted\nproduction: true\nservice: checkout\nparams:\n  environment: {}\n---\n\n# T {{environment}}\n\n- [ ] Change\n"
        let dir = try base.repository(["targeted.md": targeted])
        defer { try? FileManager.default.removeItem(at: dir) }
        let result = try base.runsheet(["run", "targeted.md", "--as", "bob", "--dry-run"], in: dir)
        #expect(result.stdout.contains("a real run would take the environment lock on the environment its parameters name; give --param environment=… to see whether another open run holds it"), "\(result.stdout)")
        let given = try base.runsheet(["run", "targeted.md", "--as", "bob", "--dry-run", "--param", "environment=staging"], in: dir)
        #expect(given.stdout.contains("would take the environment lock on checkout / staging"), "\(given.stdout)")
    }
}
