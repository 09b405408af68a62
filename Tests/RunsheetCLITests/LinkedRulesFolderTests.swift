import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Found by the adversary of issue 14 (F4): a `.runsheet` folder that is a symbolic link was
/// followed, so every rule file came from outside the repository (a policy without `signatures:
/// required`, roles naming anyone). It is refused like a linked rule file (docs/FORMAT.md, "Rule
/// files that cannot be read").
@Suite struct LinkedRulesFolderTests {
    typealias Repository = SignatureBindingAttackTests.Repository

    /// The repository's `.runsheet` moved outside and linked back, with the policy emptied there.
    static func linked(_ repo: Repository) throws -> URL {
        let outside = repo.root.appendingPathComponent("rs")
        let folder = repo.dir.appendingPathComponent(".runsheet")
        try FileManager.default.moveItem(at: folder, to: outside)
        try FileManager.default.createSymbolicLink(atPath: folder.path, withDestinationPath: outside.path)
        try "normal: {approvers: 1}\n".write(to: outside.appendingPathComponent("policy.yaml"), atomically: true, encoding: .utf8)
        return outside
    }

    @Test func checkAndRunRefuseALinkedRulesFolder() throws {
        let repo = try Repository()
        defer { repo.remove() }
        let outside = try Self.linked(repo)
        let checked = try repo.check()
        #expect(checked.status == 1, "\(checked.stdout)\(checked.stderr)")
        #expect(checked.stdout.contains("roles.yaml") && checked.stdout.contains("its folder \(repo.dir.path)/.runsheet is a symbolic link (to \(outside.path))"),
                "\(checked.stdout)")
        let started = try repo.runsheet(["run", "rb/change.md", "--as", "op@example.com"], stdin: "done\nquit\n")
        #expect(started.status == 2, "\(started.stdout)\(started.stderr)")
        #expect(started.stderr.contains("is a symbolic link (to \(outside.path))"), "\(started.stderr)")
        #expect(Fixtures.onlyRun(in: repo.dir.appendingPathComponent("runs").path) == nil)
    }

    /// A rule file absent from the linked folder is refused too, not taken as no rules.
    @Test func aRuleFileMissingFromALinkedFolderIsRefused() throws {
        let repo = try Repository()
        defer { repo.remove() }
        let outside = try Self.linked(repo)
        try FileManager.default.removeItem(at: outside.appendingPathComponent("policy.yaml"))
        try FileManager.default.removeItem(at: outside.appendingPathComponent("roles.yaml"))
        let checked = try repo.check()
        #expect(checked.status == 1 && checked.stdout.contains("policy.yaml") && checked.stdout.contains("is a symbolic link (to \(outside.path))"),
                "\(checked.stdout)\(checked.stderr)")
    }
}
