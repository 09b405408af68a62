import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// The first session of a new user, through the real binary: the help, the shell completions,
/// and the ten most likely mistakes, each answered with one sentence that says what is wrong,
/// where, and what to do next.
@Suite struct FirstRunTests {
    static let deploy = """
        ---
        id: deploy
        params:
          version:
            pattern: '[0-9]+\\.[0-9]+\\.[0-9]+'
            prompt: Release version
          region:
            choices: [eu, us]
            default: eu
        ---
        # Deploy

        - [ ] Prepare the release
        - [ ] Approve the deploy
          - Sign-off: sre
          - Separation: starter, executor
        - [ ] Switch traffic
        """

    static let hotfix = """
        # Hotfix

        - [ ] Check the dashboards
        - [ ] Restart the service
          - Production: yes
        """

    /// A repository with a roles file, a change freeze that never ends, and two runbooks.
    func repository() throws -> URL {
        let dir = try Fixtures.temporaryDirectory("runsheet-first-run")
        let manager = FileManager.default
        for folder in [".git", ".runsheet", "runbooks"] {
            try manager.createDirectory(at: dir.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        try "roles:\n  sre: [sam, sue]\n  release-manager: [rita]\n"
            .write(to: dir.appendingPathComponent(".runsheet/roles.yaml"), atomically: true, encoding: .utf8)
        try "exception-roles: [release-manager]\nfreezes:\n  - {name: year-end, from: 2000-01-01, to: 2999-12-31}\n"
            .write(to: dir.appendingPathComponent(".runsheet/calendar.yaml"), atomically: true, encoding: .utf8)
        try Self.deploy.write(to: dir.appendingPathComponent("runbooks/deploy.md"), atomically: true, encoding: .utf8)
        try Self.hotfix.write(to: dir.appendingPathComponent("runbooks/hotfix.md"), atomically: true, encoding: .utf8)
        return dir
    }

    func runsheet(_ arguments: [String], in dir: URL, stdin: String? = nil, environment: [String: String] = [:]) throws -> ProcessResult {
        try Fixtures.runsheet(arguments, stdin: stdin ?? "", environment: environment, directory: dir)
    }

    /// Starts a run of `runbook` as `actor`, feeding `actions`; returns the new run's id.
    func start(_ runbook: String, as actor: String, _ actions: String, in dir: URL, params: [String] = []) throws -> String {
        let before = Set((try? FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("runs").path)) ?? [])
        let result = try runsheet(["run", runbook, "--as", actor] + params.flatMap { ["--param", $0] }, in: dir, stdin: actions)
        #expect([0, 1, 3].contains(result.status), "\(result.stdout)\(result.stderr)")
        let after = Set(try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("runs").path))
        return try #require(after.subtracting(before).first { !$0.hasPrefix(".") })
    }

    // MARK: - The ten mistakes

    @Test func wrongRunbookPathNamesTheClosestFile() throws {
        let dir = try repository()
        let typo = try runsheet(["run", "runbooks/dpeloy.md"], in: dir)
        #expect(typo.status == 2)
        #expect(typo.stderr == "runsheet: runbooks/dpeloy.md: no such file; did you mean runbooks/deploy.md?\n")
        let other = try runsheet(["compile", "runbooks/deploy-prod.md"], in: dir)
        #expect(other.status == 2 && other.stderr.contains("runbooks/deploy-prod.md: no such file; runbooks/ holds deploy.md, hotfix.md"))
        let folder = try runsheet(["check", "runbook/deploy.md"], in: dir)
        #expect(folder.status == 2 && folder.stderr.contains("no such file or directory; there is no folder runbook/ either (paths are relative to "))
        // Words in another order, as in the bundled runbooks.
        let swapped = try Fixtures.runsheet(["run", "runbooks/deploy-blue-green.md", "--dry-run"], directory: Fixtures.packageRoot)
        #expect(swapped.status == 2 && swapped.stderr.contains("did you mean runbooks/blue-green-deploy.md?"))
    }

    @Test func folderWhereARunbookFileIsExpected() throws {
        let dir = try repository()
        for command in ["run", "compile"] {
            let result = try runsheet([command, "runbooks"], in: dir)
            #expect(result.status == 2)
            #expect(result.stderr == "runsheet: runbooks is a folder; name one runbook file in it, e.g. runbooks/deploy.md ('runsheet check runbooks' lints them all)\n")
        }
    }

    @Test func missingParameterInAScriptedRun() throws {
        let dir = try repository()
        let missing = try runsheet(["run", "runbooks/deploy.md"], in: dir, stdin: "done\n")
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("missing parameter 'version' (Release version) of runbooks/deploy.md: pass --param version=VALUE or set RUNSHEET_PARAM_version"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("runs").path), "no run is started")
        let noValue = try runsheet(["run", "runbooks/deploy.md", "--param", "version"], in: dir)
        #expect(noValue.status == 2 && noValue.stderr.contains("--param 'version' has no value; write it as --param version=VALUE"))
    }

    @Test func parameterValueThatDoesNotFit() throws {
        let dir = try repository()
        let pattern = try runsheet(["run", "runbooks/deploy.md", "--param", "version=1.4"], in: dir)
        #expect(pattern.status == 2)
        #expect(pattern.stderr.contains("parameter 'version' of runbooks/deploy.md (from --param): '1.4' does not match"))
        #expect(pattern.stderr.contains("pass a value that fits with --param version=VALUE"))
        let choice = try runsheet(["run", "runbooks/deploy.md", "--param", "version=1.4.2"], in: dir,
                                  environment: ["RUNSHEET_PARAM_region": "asia"])
        #expect(choice.status == 2)
        #expect(choice.stderr.contains("parameter 'region' of runbooks/deploy.md (from RUNSHEET_PARAM_region): 'asia' is not one of eu, us; pass one of those with --param region=VALUE"))
    }

    @Test func unknownOrAmbiguousRunID() throws {
        let dir = try repository()
        let noFolder = try runsheet(["status", "deploy"], in: dir)
        #expect(noFolder.status == 2)
        #expect(noFolder.stderr.contains("no run 'deploy': the runs folder \(dir.path)/runs does not exist; pass --runs-dir (or set RUNSHEET_RUNS_DIR) with the folder your runs are in"))
        let first = try start("runbooks/deploy.md", as: "sam", "abort not today\n", in: dir, params: ["version=1.4.2"])
        let second = try start("runbooks/deploy.md", as: "sam", "abort not today\n", in: dir, params: ["version=1.4.2"])
        let ambiguous = try runsheet(["resume", "deploy"], in: dir)
        #expect(ambiguous.status == 2)
        #expect(ambiguous.stderr.contains("run id 'deploy' matches 2 runs in \(dir.path)/runs (\([first, second].sorted().joined(separator: ", "))); give more of it, e.g. \(max(first, second))"))
        let unknown = try runsheet(["verify", "deploy-1999", "--runs-dir", "runs"], in: dir)
        #expect(unknown.status == 2 && unknown.stderr.contains("no run 'deploy-1999' in runs; 'runsheet status --runs-dir runs' lists the runs there"))
        let runbook = try runsheet(["resume", "runbooks/deploy.md"], in: dir)
        #expect(runbook.status == 2)
        #expect(runbook.stderr.contains("runbooks/deploy.md is a runbook, not a run; start a run of it with 'runsheet run runbooks/deploy.md'"))
    }

    @Test func resumingAFinishedRun() throws {
        let dir = try repository()
        let id = try start("runbooks/deploy.md", as: "sam", "abort wrong version\n", in: dir, params: ["version=1.4.2"])
        let resumed = try runsheet(["resume", id], in: dir)
        #expect(resumed.status == 2)
        #expect(resumed.stderr == "runsheet: run \(id) has already ended (aborted); start a new run with 'runsheet run runbooks/deploy.md'\n")
    }

    @Test func signingAGateOneMayNotSign() throws {
        let dir = try repository()
        let id = try start("runbooks/deploy.md", as: "sam", "done\nquit\n", in: dir, params: ["version=1.4.2"])
        let starter = try runsheet(["sign", id, "approve-the-deploy", "--as", "sam"], in: dir)
        #expect(starter.status == 1)
        #expect(starter.stderr.contains("sam started this run, and gate 'approve-the-deploy' may not be approved by the person who started it; ask another sre (sue) to sign it with 'runsheet sign \(id) approve-the-deploy'"))
        let outsider = try runsheet(["sign", id, "approve-the-deploy", "--as", "olly"], in: dir)
        #expect(outsider.status == 1)
        #expect(outsider.stderr.contains("olly holds none of the roles this gate needs (sre) in .runsheet/roles.yaml; ask someone who does (sre: sam, sue)"))

        // Whoever carried out the steps the gate approves may not approve them.
        let other = try start("runbooks/deploy.md", as: "rita", "quit\n", in: dir, params: ["version=1.4.2"])
        #expect(try runsheet(["resume", other, "--as", "sue"], in: dir, stdin: "done\nquit\n").status == 3)
        let executor = try runsheet(["sign", other, "approve-the-deploy", "--as", "sue"], in: dir)
        #expect(executor.status == 1)
        #expect(executor.stderr.contains("sue carried out steps that gate 'approve-the-deploy' approves, so may not sign it; ask another sre (sam)"))
    }

    @Test func signingAStepThatIsNotAGate() throws {
        let dir = try repository()
        let id = try start("runbooks/deploy.md", as: "sam", "quit\n", in: dir, params: ["version=1.4.2"])
        let notAGate = try runsheet(["sign", id, "prepare-the-release", "--as", "sue"], in: dir)
        #expect(notAGate.status == 1)
        #expect(notAGate.stderr.contains("step 'prepare-the-release' is not a gate, so there is nothing to sign; mark it done in the run instead, or sign one of its gates: approve-the-deploy"))
        let unknown = try runsheet(["sign", id, "approve", "--as", "sue"], in: dir)
        #expect(unknown.status == 2 && unknown.stderr.contains("there is no step 'approve' in runbooks/deploy.md; did you mean 'approve-the-deploy'?"))
    }

    @Test func withoutARolesFileSignAndRejectTakeTheRoleFromTheCommandLine() throws {
        let dir = try Fixtures.temporaryDirectory("runsheet-first-run")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent(".git"), withIntermediateDirectories: true)
        try "---\nroles: [sre, release-manager]\n---\n# Change\n\n- [ ] Approve\n  - Sign-off: sre\n  - Sign-off: release-manager\n"
            .write(to: dir.appendingPathComponent("change.md"), atomically: true, encoding: .utf8)
        let id = try start("change.md", as: "olly", "quit\n", in: dir)
        for command in [["sign", id, "approve"], ["reject", id, "approve", "--reason", "not yet"]] {
            let refused = try runsheet(command + ["--as", "carol"], in: dir)
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("there is no .runsheet/roles.yaml saying which of the roles this gate needs (sre, release-manager) carol holds; name one with --role, e.g. --role sre"))
        }
        #expect(try runsheet(["reject", id, "approve", "--reason", "not yet", "--as", "carol", "--role", "sre"], in: dir).status == 0)
        let rejection = try #require(try JournalFile.read(at: dir.appendingPathComponent("runs/\(id)/journal.jsonl").path).events.last)
        #expect(rejection.type == .signOffRejected && rejection.data["role"]?.string == "sre")
    }

    @Test func productionStepInAFreeze() throws {
        let dir = try repository()
        let id = try start("runbooks/hotfix.md", as: "sam", "done\ndone\n", in: dir)
        let state = RunState.fold(try JournalFile.read(at: dir.appendingPathComponent("runs/\(id)/journal.jsonl").path).events)
        #expect(state.outcome == nil && state.cursor == "restart-the-service")
        let resumed = try runsheet(["resume", id, "--as", "sam"], in: dir, stdin: "done\n")
        #expect(resumed.status == 3)
        #expect(resumed.stdout.contains("⛔ production change blocked: it is inside the change freeze 'year-end'"))
        #expect(resumed.stdout.contains("✗ step 'restart-the-service' is a production change and it is inside the change freeze 'year-end'"))
        #expect(resumed.stdout.contains("a release-manager must grant an exception: runsheet sign \(id) restart-the-service --exception --reason"))
        let own = try runsheet(["sign", id, "restart-the-service", "--exception", "--reason", "outage", "--as", "sam", "--role", "release-manager"], in: dir)
        #expect(own.status == 1)
        #expect(own.stderr.contains("sam started this run and may not grant its own exception; ask a release-manager (rita) to grant it with 'runsheet sign \(id) restart-the-service --exception --reason"))
        #expect(try runsheet(["sign", id, "restart-the-service", "--exception", "--reason", "outage", "--as", "rita"], in: dir).status == 0)
        #expect(try runsheet(["resume", id, "--as", "sam"], in: dir, stdin: "done\n").status == 0)
    }

    @Test func unknownFormatNamesTheFormats() throws {
        let dir = try repository()
        let check = try runsheet(["check", "runbooks", "--format", "xml"], in: dir)
        #expect(check.status == 2)
        #expect(check.stderr.contains("The value 'xml' is invalid for '--format <format>'. Please provide one of 'text', 'json' or 'sarif'; see"))
        let report = try runsheet(["compile", "runbooks/deploy.md", "--format", "svg"], in: dir)
        #expect(report.status == 2)
        #expect(report.stderr.contains("Please provide one of 'json', 'mermaid' or 'dot'; see"))
        #expect(report.stderr.contains("; see 'runsheet compile --help' for the usage."))
    }

    /// A command-line mistake is one line on stderr, exit 2: what is wrong and where to read the usage.
    @Test func usageMistakesAreOneLine() throws {
        let dir = try repository()
        let cases: [([String], String)] = [
            (["run"], "runsheet: Missing expected argument '<file>'; see 'runsheet run --help' for the usage.\n"),
            (["run", "runbooks/deploy.md", "--bogus"], "runsheet: Unknown option '--bogus'; see 'runsheet run --help' for the usage.\n"),
            (["status", "--limit", "abc"], "runsheet: The value 'abc' is invalid for '--limit <limit>'; see 'runsheet status --help' for the usage.\n"),
            (["rn", "x"], "runsheet: 2 unexpected arguments: 'rn', 'x'; see 'runsheet --help' for the usage.\n"),
        ]
        for (arguments, expected) in cases {
            let result = try runsheet(arguments, in: dir)
            #expect(result.status == 2 && result.stderr == expected && result.stdout.isEmpty, "\(arguments): \(result.stderr)")
        }
    }

    // MARK: - Help, completions, the tour

    @Test func tourIsWhatTheScriptWrites() throws {
        let script = Fixtures.packageRoot.appendingPathComponent("scripts/tour").path
        let check = try Fixtures.run("/bin/bash", [script, "--check"], environment: ["RUNSHEET_BIN": Fixtures.binary.path], timeout: 120)
        #expect(check.status == 0, "docs/TOUR.md is out of date; run scripts/tour:\n\(check.stdout)\(check.stderr)")
    }

    /// The subcommands the root help lists, so a command added later is held to the same rule.
    func subcommands() throws -> [String] {
        let help = try Fixtures.runsheet(["--help"]).stdout
        let section = try #require(help.components(separatedBy: "SUBCOMMANDS:\n").last)
        let entry = try NSRegularExpression(pattern: "^  ([a-z][a-z-]*)(  |$)", options: .anchorsMatchLines)
        return entry.matches(in: section, range: NSRange(section.startIndex..., in: section))
            .map { (section as NSString).substring(with: $0.range(at: 1)) }
    }

    @Test func everyCommandsHelpHasExamplesThatNameRealFiles() throws {
        let names = try subcommands()
        #expect(names.count >= 12, "\(names)")
        let root = try Fixtures.runsheet(["--help"])
        #expect(root.stdout.contains("Examples:") && root.stdout.contains("3  the run is paused"))
        let runbookPath = try NSRegularExpression(pattern: "runbooks/[A-Za-z0-9._-]+\\.md")
        for name in names {
            let help = try Fixtures.runsheet(["help", name])
            #expect(help.status == 0)
            #expect(help.stdout.contains("Examples:\n  runsheet \(name)") || help.stdout.contains("Examples:\n  printf"),
                    "'runsheet help \(name)' has no Examples part:\n\(help.stdout)")
            // Examples that read a runbook name one that exists; `new` names the file it creates.
            guard name != "new" else { continue }
            for text in [help.stdout, root.stdout] {
                for match in runbookPath.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
                    let path = (text as NSString).substring(with: match.range)
                    #expect(FileManager.default.fileExists(atPath: Fixtures.packageRoot.appendingPathComponent(path).path),
                            "'runsheet help \(name)' names \(path), which does not exist")
                }
            }
        }
    }

    @Test func completionScripts() throws {
        for shell in ["bash", "zsh", "fish"] {
            let script = try Fixtures.runsheet(["--generate-completion-script", shell])
            #expect(script.status == 0 && script.stdout.contains("runsheet"), "\(shell): \(script.stderr)")
            if shell == "bash" {
                let path = Fixtures.temporaryFile("runsheet-completion.bash")
                try script.stdout.write(toFile: path, atomically: true, encoding: .utf8)
                let syntax = try Fixtures.run("/bin/bash", ["-n", path])
                #expect(syntax.status == 0, "bash -n: \(syntax.stderr)")
                #expect(script.stdout.contains("'!*.@(md)'"), "runbook arguments complete *.md files")
            }
        }
        // RUN arguments complete to the ids in the runs folder, as the scripts ask for them.
        let dir = try repository()
        let id = try start("runbooks/deploy.md", as: "sam", "quit\n", in: dir, params: ["version=1.4.2"])
        let completion = try runsheet(["---completion", "status", "--", "positional@0", "2", "3", "runsheet", "status", "dep"], in: dir)
        #expect(completion.status == 0)
        #expect(completion.stdout.split(separator: "\n").map(String.init) == [id])
        let elsewhere = try runsheet(["---completion", "status", "--", "positional@0", "4", "0", "runsheet", "status", "--runs-dir", "nowhere", ""], in: dir)
        #expect(elsewhere.status == 0 && elsewhere.stdout.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty)
    }
}
