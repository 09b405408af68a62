import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// `verify`'s gate check (docs/JOURNAL.md, "Gates done without their sign-offs") reads the runbook
/// and the rule files at the run's recorded commit with `git show` only when the journal records
/// a gate done that the rules as they are now did not allow. These runs play it where `git show`
/// of a file fails (a `git` first on PATH that refuses it and logs every call): a run with a gate
/// not yet done verifies without asking Git for a file, and a gate completion forged by appending
/// and recomputing the chain is still found, as before.
@Suite struct VerifyGateSkipTests {
    typealias Repository = SignatureBindingAttackTests.Repository

    /// A `git` that logs its arguments and fails `git show REV:PATH`; anything else goes to Git.
    struct RefusingGit {
        let folder: URL
        var log: URL { folder.appendingPathComponent("git.log") }

        init(in repo: Repository) throws {
            folder = repo.root.appendingPathComponent("refusing-git")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let script = """
                #!/bin/sh
                printf '%s\\n' "$*" >>'\(folder.path)/git.log'
                shown=0
                for argument in "$@"; do
                    if [ "$argument" = show ]; then shown=1; elif [ $shown = 1 ]; then case $argument in *:*) exit 128 ;; esac; fi
                done
                exec /usr/bin/git "$@"

                """
            let git = folder.appendingPathComponent("git")
            try script.write(to: git, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: git.path)
        }

        /// Every call logged so far, one line each.
        var calls: [String] { ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init) }
        /// The calls that read a file at a commit (`show REV:PATH`).
        var fileReads: [String] { calls.filter { $0.contains(" show ") && $0.split(separator: " ").contains { $0.contains(":") } } }

        /// `runsheet ARGUMENTS` from the repository with this `git` first on PATH.
        func runsheet(_ repo: Repository, _ arguments: [String]) throws -> ProcessResult {
            try? FileManager.default.removeItem(at: log)
            let path = folder.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
            return try Fixtures.run("/usr/bin/setsid", ["--wait", Fixtures.binary.path] + arguments + ["--runs-dir", "runs"],
                                    environment: ["NO_COLOR": "1", "PATH": path], directory: repo.dir)
        }
    }

    /// A run standing at its gate (its first step done, the gate not) verifies without Git reading a
    /// file: no gate completion, nothing the check could find. The same run with the gate's
    /// completion appended and the chain recomputed fails, by `step.completed` or `step.forced`.
    @Test func aRunWithoutAGateCompletionVerifiesWithoutGitShowAndAForgedOneStillFails() throws {
        let repo = try Repository()
        defer { repo.remove() }
        let git = try RefusingGit(in: repo)
        let id = try repo.startedRun()
        let atGate = try git.runsheet(repo, ["verify", id])
        #expect(atGate.status == 0 && atGate.stdout.contains("intact"), "\(atGate.stdout)\(atGate.stderr)")
        #expect(!git.calls.isEmpty, "the refusing git was not the one on PATH")
        #expect(git.fileReads.isEmpty, "verify read files at a commit for a run with no gate done: \(git.fileReads)")

        for type in [EventType.stepCompleted, .stepForced] {
            let forged = try repo.startedRun()
            var events = try SignatureBindingAttackTests.events(repo, forged)
            let last = try #require(events.last)
            let data: [String: JSONValue] = type == .stepForced ? ["next": "do-it", "reason": "hurry", "overrode": .array([])] : ["next": "do-it"]
            var completion = RunEvent(seq: 0, time: last.time, type: type, actor: last.actor, host: last.host, via: last.via, step: "approve",
                                      data: data, canonical: last.canonical, uid: last.uid, login: last.login)
            // A run that requires signatures takes `step.forced` only signed: the operator signs it with their own key.
            if type == .stepForced { try SignatureBindingAttackTests.sign(&completion, in: repo, run: forged, key: repo.key("op"), name: "forced") }
            events.append(completion)
            try RepositoryRuns.rewrite(repo.dir, id: forged, events)
            let verified = try git.runsheet(repo, ["verify", forged])
            #expect(verified.status == 1, "\(type.rawValue): \(verified.stdout)\(verified.stderr)")
            #expect(verified.stdout.contains("journal does not verify: gate 'approve' is recorded done (event ")
                    && verified.stdout.contains("without the sign-offs its rule needs: it still needed 2 more of approver"),
                    "\(type.rawValue): \(verified.stdout)\(verified.stderr)")
            #expect(!git.fileReads.isEmpty, "\(type.rawValue): a gate done without its sign-offs is judged at the recorded commit too")
        }
    }

    /// The forged run of ForgedGateCompletionTests (gate, the step after it and a signed end,
    /// appended and rechained) fails where Git reads no file, and `seal` still refuses it.
    @Test func aForgedGateCompletionFailsClosedWhereGitShowFails() throws {
        let repo = try Repository()
        defer { repo.remove() }
        let git = try RefusingGit(in: repo)
        let id = try ForgedGateCompletionTests.forgedRun(repo)
        let verified = try git.runsheet(repo, ["verify", id])
        #expect(verified.status == 1 && verified.stdout.contains("gate 'approve' is recorded done (event ")
                && !verified.stdout.contains("intact"), "\(verified.stdout)\(verified.stderr)")
        let sealed = try git.runsheet(repo, ["seal", id, "--key", repo.key("rita")])
        #expect(sealed.status == 1 && sealed.stderr.contains("so it is not sealed"), "\(sealed.stdout)\(sealed.stderr)")
    }

    /// A gate passed as it should (two signed sign-offs) verifies whether or not Git can read the
    /// files at the commit: the rules as they are now allowed it, so Git is not asked.
    @Test func aGatePassedWithItsSignOffsVerifiesWithoutGitShow() throws {
        let repo = try Repository()
        defer { repo.remove() }
        let git = try RefusingGit(in: repo)
        let id = try ForgedGateCompletionTests.passedRun(repo)
        let verified = try git.runsheet(repo, ["verify", id])
        #expect(verified.status == 0 && verified.stdout.contains("intact"), "\(verified.stdout)\(verified.stderr)")
        #expect(git.fileReads.isEmpty, "\(git.fileReads)")
    }
}
