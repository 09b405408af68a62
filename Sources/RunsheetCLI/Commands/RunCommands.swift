import ArgumentParser
import Foundation
import RunsheetCore

extension ReleaseClass: ExpressibleByArgument {
    /// Read as the front matter's `class` is: `--class STANDARD` is standard (and gets the same checks).
    public init?(argument: String) { self.init(rawValue: argument.trimmed.lowercased()) }
}

/// Opening runs: compile the runbook, find the journal, fold it.
enum RunSupport {
    /// `quiet`: the errors are not listed on standard error (the thrown sentence still counts them).
    static func compile(_ path: String, quiet: Bool = false) throws -> (CompileResult, [UInt8]) {
        let bytes: [UInt8]
        do {
            bytes = try FileReader.read(path)
        } catch {
            throw CommandFailure(status: .usage, message: RunbookFiles.describe(error, path: path))
        }
        let result = Compiler().compile(path: path, bytes: bytes)
        try refuseUnreadableRules(result.diagnostics, runbook: path)
        if result.hasErrors {
            for d in result.diagnostics where d.severity == .error && !quiet { _ = try? FileHandle.standardError.write(contentsOf: Data((d.formatted + "\n").utf8)) }
            throw CommandFailure(status: .findings, message: "\(path) has \(result.errors.count) error(s); fix them first ('runsheet check \(path)')")
        }
        return (result, bytes)
    }

    /// Compiles the runbook of a run. Its recorded path is relative to where the run was started,
    /// so it is also looked for from the Git root and the folder around the runs folder.
    static func compileRunbook(of state: RunState, runDirectory: String) throws -> (CompileResult, [UInt8]) {
        try compile(runbookPath(of: state, runDirectory: runDirectory))
    }

    /// Where the run's runbook is now: the recorded path, else the same path from the repository
    /// or the folder around the runs folder.
    static func runbookPath(of state: RunState, runDirectory: String) -> String {
        // A run read from the PostgreSQL store: its runbook as the run started (StoreRunView).
        if let layout = StoreRunView.layout(of: runDirectory) { return layout.runbook }
        let recorded = state.runbookPath
        var candidates = [recorded]
        if !recorded.hasPrefix("/") {
            let runs = (URL(fileURLWithPath: runDirectory).standardizedFileURL.path as NSString).deletingLastPathComponent
            if let root = RunContext.gitRoot(of: runs) { candidates.append(root + "/" + recorded) }
            let around = (runs as NSString).deletingLastPathComponent
            candidates += [around + "/" + recorded, around + "/" + (recorded as NSString).lastPathComponent]
        }
        // A run of a repository's runs folder takes its runbook from that repository only: never
        // a same-named copy where the command happens to be run from (RunBinding).
        if let repository = RunBinding.repository(ofRun: runDirectory) {
            candidates = candidates.filter { RunBinding.inside($0, repository: repository) }
            if candidates.isEmpty { return repository + "/" + (recorded as NSString).lastPathComponent }
        }
        return candidates.first { FileManager.default.fileExists(atPath: $0) } ?? candidates.first ?? recorded
    }

    static func journalPath(_ directory: String) -> String { directory + "/journal.jsonl" }

    /// The journal as messages name it: its path, or the store and run id of a run read from the store.
    static func shownJournalPath(_ directory: String) -> String { StoreRunView.layout(of: directory)?.shown ?? journalPath(directory) }

    /// Where the allowed signers (and the commit a run records) are looked for from: the run's
    /// runbook, or for a run read from the store, its runbook in the run's repository (StoreRunView).
    static func signersAnchor(of state: RunState, runDirectory: String) -> String {
        StoreRunView.layout(of: runDirectory)?.signersAnchor ?? runbookPath(of: state, runDirectory: runDirectory)
    }

    /// `SigningIdentity.bind` for a command on an existing run: the allowed signers are those of
    /// the run's runbook, read from the journal as it stands (nothing is repaired or written).
    static func bindIdentity(_ claimed: Actor, explicit: String?, key: SigningKeyOption, runDirectory: String) throws -> (Actor, SSHKeygenSigner?) {
        guard let signingKey = try SSHKeygenSigner.locate(explicit: key.keyPath, near: FileManager.default.currentDirectoryPath) else { return (claimed, nil) }
        let state = try JournalFile.verifiedState(at: journalPath(runDirectory), repair: false).state
        return try SigningIdentity.bind(claimed, explicit: explicit, key: signingKey, runbook: runbookPath(of: state, runDirectory: runDirectory))
    }


    /// The verifier's report on a run's journal; a journal it cannot open is one sentence, exit 2.
    static func verification(of directory: String) throws -> (path: String, report: VerificationReport) {
        let path = journalPath(directory)
        do {
            return (shownJournalPath(directory), try JournalVerifier.verify(path: path))
        } catch {
            throw CommandFailure(status: .usage, message: (error as? LocalizedError)?.errorDescription ?? "\(path): \(error)")
        }
    }

    /// The run's state from a journal that verifies (every line, the whole hash chain, checked in
    /// the pass that folds it): what `resume`, `sign`, `reject` and `update` decide from. A journal
    /// that does not verify stops them, exit 1, with its first bad line; a torn last line is
    /// repaired first when `repair`, as reading always does.
    static func verifiedState(in directory: String, repair: Bool = true) throws -> RunState {
        let fold = try reading(directory, repair: repair, warn: false) { path in
            let fold = try JournalFile.verifiedState(at: path, repair: repair)
            return (fold, fold.tornLine, fold.problem)
        }
        if let problem = fold.problem ?? RunSignatures.problem(fold.state, runDirectory: directory) {
            throw CommandFailure(status: .findings, message: refusal(problem, path: shownJournalPath(directory)))
        }
        return fold.state
    }

    /// The run's state for a command that shows it (`status`, `render`): when the journal does
    /// not verify, a warning naming the first bad line is printed before anything else, and
    /// `finishShowing` ends the command with exit 1 once it has shown what it read. `folded`: the
    /// journal's fold when it was already made with every check (`StoreRunView.folded`).
    static func shownState(in directory: String, folded: JournalFold? = nil) throws -> (state: RunState, problem: JournalProblem?) {
        let fold = try reading(directory, repair: false, warn: true) { path in
            var fold = try folded ?? JournalFile.verifiedState(at: path, repair: false)
            if fold.problem == nil { fold.problem = RunSignatures.problem(fold.state, runDirectory: directory) }
            return (fold, fold.tornLine, fold.problem)
        }
        return (fold.state, fold.problem)
    }

    /// The run's events for a command that shows them (`audit`, `report`), as `shownState`.
    static func shownEvents(in directory: String) throws -> (events: [RunEvent], problem: JournalProblem?) {
        let contents = try reading(directory, repair: false, warn: true) { path in
            var contents = try JournalFile.verifiedRead(at: path, repair: false)
            if contents.problem == nil { contents.problem = RunSignatures.problem(RunState.fold(contents.events), runDirectory: directory) }
            return (contents, contents.tornLine, contents.problem)
        }
        return (contents.events, contents.problem)
    }

    /// Ends a command that showed a run read from a journal that does not verify: exit 1, the
    /// warning having been printed first.
    static func finishShowing(_ problem: JournalProblem?) throws {
        if problem != nil { throw CommandFailure(status: .findings, message: "") }
    }

    /// Leaves a long run's folded state to the end of the process instead of freeing it here: a run
    /// of 100,000 events is a few hundred thousand objects, and freeing them one by one took about
    /// a twentieth of `status RUN`; the process is about to exit, and the kernel takes the memory
    /// back at once. Only for a command that has printed what it shows and does nothing more.
    static func keepUntilExit(_ state: RunState, _ report: VerificationReport? = nil) {
        _ = Unmanaged.passRetained(KeptState(state, report))
    }

    private final class KeptState {
        let state: RunState
        /// `verify`'s report holds every event of the run (freeing 100,000 of them took a twentieth of it).
        let report: VerificationReport?
        init(_ state: RunState, _ report: VerificationReport?) { (self.state, self.report) = (state, report) }
    }

    /// Why a command that acts does not act on this journal: one sentence, its first bad line.
    static func refusal(_ problem: JournalProblem, path: String) -> String {
        "\(path):\(problem.line): \(problem.message); runsheet does not act on a journal that does not verify ('runsheet verify' shows it)"
    }

    /// The first line of a command that shows a run whose journal does not verify.
    static func warning(_ problem: JournalProblem, path: String) -> String {
        "warning: \(path):\(problem.line): the journal does not verify (\(problem.message)); what follows is read from it as it stands and is no basis for a decision ('runsheet verify' shows it)"
    }

    /// Reads a run's journal with `read`, reporting a torn last line and turning errors into one
    /// sentence. With `warn`, a journal that does not verify is announced first.
    private static func reading<Value>(_ directory: String, repair: Bool, warn: Bool,
                                       _ read: (String) throws -> (Value, TornLine?, JournalProblem?)) throws -> Value {
        let path = journalPath(directory)
        do {
            let (value, torn, problem) = try read(path)
            if warn, let problem { Output.error(warning(problem, path: shownJournalPath(directory))) }
            if let torn {
                Output.error("\(shownJournalPath(directory)): the last line was cut short by a crash (\(torn.bytes) bytes at offset \(torn.offset)); \(repair ? "kept a copy beside the journal and removed it" : "ignored it")")
            }
            return value
        } catch {
            throw CommandFailure(status: .usage, message: (error as? LocalizedError)?.errorDescription ?? "\(path): \(error)")
        }
    }

    /// Walks `engine`'s run on `terminal`: unattended, one screen per step, or one action per line.
    static func drive(_ engine: RunEngine, on terminal: any Terminal, auto: Bool, stillDriving: (() throws -> Void)? = nil) throws -> ExitStatus {
        let walk = WalkThrough(engine: engine, terminal: terminal, style: Style(enabled: terminal.colour))
        walk.stillDriving = stillDriving
        let journal = journalPath(engine.runDirectory)
        // Asked again before each production step: an item may have come to be shared after the start.
        engine.itemHolder = ItemLocking.holder(runsDirectory: (engine.runDirectory as NSString).deletingLastPathComponent, runbook: engine.runbook)
        // Another process's sign-off is taken only from a journal that still verifies.
        walk.reloadState = { (try? JournalFile.verifiedState(at: journal)).flatMap { $0.problem == nil ? $0.state : nil } }
        // Deliveries still in flight are waited for (at most their bound) and their failures recorded, however the session ends.
        defer { finishNotifications(of: walk) }
        if auto { return try walk.runAuto() }
        if terminal.screen { return try walk.runInteractive() }
        return try walk.runScripted()
    }

    /// The roles file, class policy and calendar for a runbook: the one way commands read them.
    /// One that cannot be read, decoded or parsed stops the command.
    static func governance(for runbook: Runbook) throws -> Governance {
        let (governance, problems) = Governance.load(for: runbook)
        try refuseUnreadableRules(problems, runbook: runbook.path)
        return governance
    }

    /// Stops the command, as bad input, when a roles, policy or calendar file has an error: one
    /// sentence naming the file, where, and what is wrong with it.
    static func refuseUnreadableRules(_ diagnostics: [Diagnostic], runbook path: String) throws {
        guard let first = diagnostics.first(where: { $0.severity == .error && $0.code.isRuleFile }) else { return }
        throw CommandFailure(status: .usage, message: "\(first.path):\(first.line):\(first.column): \(first.message) " +
                             "(runsheet does not act on rules it cannot read; 'runsheet check \(path)' lists every problem)")
    }

    /// How a run of `runbook` (with the class it declares) may go under `chosen`: refused, exit 1,
    /// when that is less strict and the repository policy does not permit it to `actor`.
    static func choose(_ chosen: ReleaseClass?, for runbook: Runbook, values: [String: String], governance: Governance,
                       actor: String) throws -> ClassChoice? {
        guard let chosen else { return nil }
        do {
            return try ClassChoice.decide(runbook: runbook, chosen: chosen, values: values, governance: governance, actor: actor)
        } catch {
            throw CommandFailure(status: .findings, message: error.errorDescription ?? "\(error)")
        }
    }

    /// Takes the run's lease for the session about to drive it (`RunLease`), before it writes
    /// anything; another session holding it stops this one, exit 5, with who, where and since when.
    static func lease(_ folder: String, runID: String, actor: Actor) throws -> RunLease {
        let holder = RunLease.Holder(person: actor.name, canonical: actor.canonical ?? PersonName.canonical(actor.name), host: actor.host,
                                     pid: Int(getpid()), since: Timestamp.now())
        do {
            return try RunLease(folder: folder, holder: holder)
        } catch RunLease.Failure.held(_, let holder) {
            throw CommandFailure(status: .leased, message: "run \(runID) is being driven by another session" +
                                 (holder.map { " (\($0.description))" } ?? "") +
                                 "; one session drives a run at a time, so nothing was written: 'runsheet status \(runID)' shows where it stands, and the lease ends when that session does")
        } catch {
            throw CommandFailure(status: .usage, message: (error as? LocalizedError)?.errorDescription ?? "\(error)")
        }
    }

    static func finish(_ status: ExitStatus) throws {
        if status != .success { throw CommandFailure(status: status, message: "") }
    }

    /// The runs of `runbook` in `runsDirectory` that have not ended, oldest first (journals that
    /// do not verify are not counted: they cannot be resumed anyway).
    static func openRuns(of runbook: String, in runsDirectory: String) -> [RunState] {
        RunFolders(runsDirectory).runs(of: runbook).compactMap { $0.events.map(RunState.fold) }
            .filter { !$0.finished }.sorted { ($0.startedAt, $0.runID) < ($1.startedAt, $1.runID) }
    }

    /// Asks for a parameter's value; `problem` says why the last answer was not taken.
    static func prompt(for parameter: Parameter, problem: String?, on terminal: any Terminal) -> String? {
        if let problem { terminal.writeError("runsheet: \(problem); try again\n") }
        let label = parameter.prompt ?? parameter.name
        let choices = parameter.choices.map { " [\($0.joined(separator: "/"))]" } ?? ""
        return terminal.ask("\(label)\(choices): ", secret: parameter.secret)
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Start a run of a runbook and walk through it.",
        discussion: """
            On a terminal: one screen per step with single-key actions (press ? for help; Tab \
            or o lists every step). Without a terminal, one action per line on standard input: \
            done [REASON], run, skip REASON, fail REASON, note TEXT, lesson TEXT, add TITLE, list, \
            commands, back, goto ID, abort REASON, wait, quit. A run that ends or pauses leaves a \
            summary: its steps counted, how long it took, and the commands to report, render or \
            resume it.

            A step whose commands fail, where the runbook names no failure branch, stays \
            open and the run waits for a decision, each choice saying where it leads: run \
            (again), skip REASON, done REASON (recorded as forced), fail REASON (ends the \
            run as failed) or abort REASON. A failure branch or 'On failure: continue' is \
            followed by itself.

            Parameters come from --param, then RUNSHEET_PARAM_<name> in the environment, \
            then the runbook's default, then a prompt on a terminal.

            Under 'signatures: required' in .runsheet/policy.yaml a run needs a key \
            (--key, RUNSHEET_SIGNING_KEY or Git's user.signingkey) to start or resume.

            Exit codes: 0 completed; 1 failed, rolled back or aborted, or refused by a \
            rule (no key where signatures are required); 2 bad input; 3 \
            paused ('runsheet resume RUN' continues it); 5 another session drives the run, \
            or another open run holds the lock on the service and environment this one \
            changes ('runsheet status' lists the locks).

            Examples:
              runsheet run runbooks/blue-green-deploy.md --dry-run --param version=1.4.2
              runsheet run runbooks/blue-green-deploy.md --param version=1.4.2
              printf 'done\\nnote scope agreed\\nquit\\n' | runsheet run \\
                  runbooks/release-plan.md --param release=2026.11 \\
                  --param target_date=2026-11-30 --as alice@example.com
            """
    )

    @Argument(help: "The runbook to run.", completion: Completions.runbook)
    var file: String

    @OptionGroup var parameters: ParameterOptions

    @OptionGroup var actor: ActorOption

    @OptionGroup var runsFolder: RunsFolderOption
    @OptionGroup var storeOption: StoreOption

    @Option(name: .customLong("class"), help: "Run under another release class; a less strict one needs the repository policy's downgrade permission.")
    var releaseClass: ReleaseClass?

    @Option(name: .customLong("change"), help: ArgumentHelp("The change record this run carries out (e.g. CHG0012345); the policy's change-record may require one and its form.", valueName: "REF"))
    var change: String?

    @Flag(help: "Show the resolved plan and the environment lock a real run would take (or why it would be refused); run nothing.")
    var dryRun = false

    @Flag(help: "Run command steps unattended; stop at the first manual step or gate, or at a failed command that waits for a person's decision.")
    var auto = false

    @OptionGroup var key: SigningKeyOption

    func run() throws { try run(on: StandardTerminal()) }

    func run(on terminal: any Terminal) throws {
        let storeURL = try StoreRoute.postgresURL(storeOption.store)
        let (result, bytes) = try RunSupport.compile(file)
        var runbook = result.runbook
        let given = try ParameterInput.parse(parameters.params)
        let claimed = try RunContext.actor(explicit: actor.actorName, atTerminal: terminal.keyboard)
        if !dryRun, storeURL == nil, let refusal = RunBinding.startRefusal(runbook: file, runsDirectory: RunContext.runsDirectory(
            explicit: runsFolder.runsDir, near: (file as NSString).deletingLastPathComponent.isEmpty ? "." : (file as NSString).deletingLastPathComponent)) {
            throw CommandFailure(status: .findings, message: refusal)
        }
        // With a key, who starts is the person the allowed signers name for it; decided before anything is written.
        let (who, signingKey) = dryRun ? (claimed, nil)
            : try SigningIdentity.bind(claimed, explicit: actor.actorName,
                                       key: try SSHKeygenSigner.locate(explicit: key.keyPath, near: FileManager.default.currentDirectoryPath), runbook: file)
        if dryRun {
            let values = try ParameterInput.resolve(runbook, given: given, lenient: true, ask: nil)
            let governance = try RunSupport.governance(for: runbook)
            _ = try RunSupport.notifier(for: runbook)
            if let choice = try RunSupport.choose(releaseClass, for: runbook, values: values, governance: governance, actor: who.name) {
                runbook.releaseClass = choice.chosen
            }
            Output.out(Plan.render(runbook, values: values, policy: governance.policy[runbook.releaseClass]))
            let missing = runbook.params.filter { values[$0.name] == nil }.map(\.name)
            if !missing.isEmpty { Output.line("missing for a real run: " + missing.joined(separator: ", ")) }
            do {
                try RunEngine.requireStarter(who.name, of: runbook, governance: governance)
            } catch let refusal as RunError {
                Output.line("a real run by \(who.name) would be refused: " + (refusal.errorDescription ?? "\(refusal)"))
            }
            do {
                try RunEngine.requireChangeRecord(change, of: runbook, governance: governance)
            } catch let refusal as RunError {
                Output.line("a real run would be refused: " + (refusal.errorDescription ?? "\(refusal)"))
            }
            do {
                try RunEngine.requireInitiator(who.name, of: runbook, governance: governance)
            } catch {
                Output.line("a real run by \(who.name) would be refused: " + (error.errorDescription ?? "\(error)"))
            }
            if governance.policy[runbook.releaseClass].requiresSignatures,
               ((try? SSHKeygenSigner.locate(explicit: key.keyPath, near: FileManager.default.currentDirectoryPath)) ?? nil) == nil {
                Output.line("a real run needs a key: \(Policy.relativePath) requires signatures for \(runbook.releaseClass.rawValue) runs (--key PATH, RUNSHEET_SIGNING_KEY or Git's user.signingkey)")
            }
            let directory = (file as NSString).deletingLastPathComponent.isEmpty ? "." : (file as NSString).deletingLastPathComponent
            let runsDirectory = RunContext.runsDirectory(explicit: runsFolder.runsDir, near: directory)
            EnvironmentLocking.dryRunLines(for: runbook, values: values, runsDirectory: runsDirectory).forEach(Output.line)
            return
        }
        let values = try ParameterInput.resolve(runbook, given: given) { RunSupport.prompt(for: $0, problem: $1, on: terminal) }
        var governance = try RunSupport.governance(for: runbook)
        let notifier = try RunSupport.notifier(for: runbook)
        // Decided before anything is written: a refused class leaves no run behind.
        let choice = try RunSupport.choose(releaseClass, for: runbook, values: values, governance: governance, actor: who.name)
        if let choice { runbook.releaseClass = choice.chosen }
        let directory = (file as NSString).deletingLastPathComponent.isEmpty ? "." : (file as NSString).deletingLastPathComponent
        let runsDirectory = RunContext.runsDirectory(explicit: runsFolder.runsDir, near: directory)
        do {
            try RunEngine.requireStarter(who.name, of: runbook, governance: governance)
        } catch let refusal as RunError {
            throw CommandFailure(status: .findings, message: refusal.errorDescription ?? "\(refusal)")
        }
        do {
            try RunEngine.requireInitiator(who.name, of: runbook, governance: governance)
        } catch {
            throw CommandFailure(status: .findings, message: error.errorDescription ?? "\(error)")
        }
        do {
            try RunEngine.requireChangeRecord(change, of: runbook, governance: governance)
        } catch let refusal as RunError {
            // A reference of the wrong form is bad input (2); a missing one a refusal by the rule (1).
            let status: ExitStatus = if case .badChangeRecord = refusal { .usage } else { .findings }
            throw CommandFailure(status: status, message: refusal.errorDescription ?? "\(refusal)")
        }
        if signingKey == nil, governance.policy[runbook.releaseClass].requiresSignatures {
            throw CommandFailure(status: .findings, message: "\(Policy.relativePath) requires signatures for \(runbook.releaseClass.rawValue) runs, so starting a run of \(file.shown) needs a key, and none is at hand; " +
                                 "give one with --key PATH, RUNSHEET_SIGNING_KEY or Git's user.signingkey (with gpg.format ssh), so nothing was written")
        }
        if !dryRun, governance.policy[runbook.releaseClass].requiresSignatures, let refusal = RecordedCommitCheck.startRefusal(runbook: file) {
            throw CommandFailure(status: .findings, message: refusal)
        }
        if let storeURL {
            return try startOnStore(storeURL, runbook: runbook, bytes: bytes, values: values, who: who, signingKey: signingKey,
                                    governance: governance, notifier: notifier, choice: choice, on: terminal)
        }
        // The halts of the stores the repository's config names stop a run kept in a folder as well.
        let floor = try ConfiguredStoreFloor.of(runbook: file, keptOn: nil)
        defer { floor.close() }
        floor.install(into: &governance, runbook: file)
        // Checked and held from here until the journal records the lock: two starts are decided in turn.
        let lock = try EnvironmentLocking.take(try EnvironmentLocking.claim(for: runbook, values: values), runsDirectory: runsDirectory)
        if lock != nil { try ItemLocking.refuseConflicts(runbook, runsDirectory: runsDirectory) }
        for open in RunSupport.openRuns(of: runbook.id, in: runsDirectory) {
            terminal.writeError("runsheet: run \(open.runID) of this runbook is still open (\(open.cursor.map { "at step '\($0)'" } ?? "at its end"), " +
                                "started \(open.startedAt) by \(open.startedBy)); this starts another one. 'runsheet resume \(open.runID)' continues it\n")
        }
        let runID = RunContext.newRunID(runbookID: runbook.id)
        let runDirectory = (runsDirectory as NSString).appendingPathComponent(runID)
        // The run folder appears under its id only once its first event is on disk, so a crash
        // while starting leaves no half-made run behind (at most a hidden staging folder).
        let staging = (runsDirectory as NSString).appendingPathComponent(".\(runID).starting")
        do {
            try FileManager.default.createDirectory(atPath: runsDirectory, withIntermediateDirectories: true)
            // Run folders are the operator's: other accounts on the host need not read the journal or output.
            try FileManager.default.createDirectory(atPath: staging, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        } catch {
            throw CommandFailure(status: .usage, message: "cannot create the run folder in \(runsDirectory): \((error as NSError).localizedDescription)")
        }
        // The lease is taken in the staging folder and moves with it: no other session can drive
        // the run from the moment its folder appears under its id.
        let lease = try RunSupport.lease(staging, runID: runID, actor: who)
        let engine = try RunEngine.start(
            runbook: runbook, runID: runID, runDirectory: runDirectory, sha256: SHA256Hex.of(bytes),
            gitCommit: RunContext.gitCommit(for: file), values: values, actor: who,
            runsheetVersion: RunsheetCommand.version, governance: governance, choice: choice, lock: lock?.claim, change: change, notifier: notifier
        ) { first in
            let written = try JournalFile.create(at: RunSupport.journalPath(staging), first: try first.signed(by: signingKey, run: runID))
            try FileManager.default.moveItem(atPath: staging, toPath: runDirectory)
            lock?.recorded(runID: runID, person: who.name, since: written.time)
            let journal = try JournalFile(path: RunSupport.journalPath(runDirectory))
            return (signingKey.map { SigningJournal(journal, signer: $0, run: runID) } ?? journal, written)
        }
        terminal.writeError("runsheet: started run \(runID) (journal: \(RunSupport.journalPath(runDirectory)))\n")
        try withExtendedLifetime(lease) { try RunSupport.finish(try RunSupport.drive(engine, on: terminal, auto: auto)) }
    }
}

struct Resume: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume",
        abstract: "Resume a run where it stopped.",
        discussion: """
            RUN is a run id from 'runsheet status', or a unique prefix of one. If the \
            runbook changed since the run started, progress is mapped by step id and the \
            added, removed and changed steps are listed. Secret parameters are asked for \
            again. One session drives a run at a time: while another holds it, resume \
            exits 5 and writes nothing. A run whose environment lock was released \
            ('runsheet unlock') takes it again, or exits 5 while another run holds it. \
            A resume that would change another service or environment than the run \
            locked (a --param, or the runbook edited) exits 1 and writes nothing.

            Examples:
              runsheet resume checkout-deploy-20261122-051200-ab12
              runsheet resume checkout-deploy --param notify_token="$NOTIFY_TOKEN"
              printf 'done\\nquit\\n' | runsheet resume release-plan --as alice@example.com
            """
    )

    @Argument(help: "The run id (or a unique prefix, or the run's folder).", completion: Completions.runID)
    var runID: String

    @OptionGroup var parameters: ParameterOptions

    @OptionGroup var actor: ActorOption

    @OptionGroup var key: SigningKeyOption

    @OptionGroup var runsFolder: RunsFolderOption
    @OptionGroup var storeOption: StoreOption

    @Flag(help: "Run command steps unattended; stop at the first manual step or gate, or at a failed command that waits for a person's decision.")
    var auto = false

    func run() throws { try run(on: StandardTerminal()) }

    func run(on terminal: any Terminal) throws {
        // Who resumes is checked before anything is written (a torn line repaired included).
        let claimed = try RunContext.actor(explicit: actor.actorName, atTerminal: terminal.keyboard)
        if !StoreRoute.names(folder: runID), let url = try StoreRoute.postgresURL(storeOption.store) {
            return try resumeOnStore(url, claimed: claimed, on: terminal)
        }
        let directory = try RunContext.runDirectory(runID, runsDir: runsFolder.runsDir)
        let (who, signingKey) = try RunSupport.bindIdentity(claimed, explicit: actor.actorName, key: key, runDirectory: directory)
        // Before anything is read for writing or repaired: a second session leaves no trace.
        let lease = try RunSupport.lease(directory, runID: (directory as NSString).lastPathComponent, actor: who)
        try withExtendedLifetime(lease) { try proceed(directory: directory, who: who, signingKey: signingKey, on: terminal, store: nil) }
    }

    /// Resumes the run in `directory` (its lease held by the caller): on a run folder, or on the
    /// local copy of a run of the store, whose session and journal `store` gives.
    func proceed(directory: String, who: Actor, signingKey: SSHKeygenSigner?, on terminal: any Terminal,
                 store: (session: StoreRunSession, journal: StoreMirrorJournal)?) throws {
        let state = try RunSupport.verifiedState(in: directory)
        if let outcome = state.outcome {
            throw CommandFailure(status: .usage, message: "run \(state.runID) has already ended (\(outcome.rawValue)); start a new run with 'runsheet run \(state.runbookPath)'")
        }
        let (result, bytes) = try RunSupport.compileRunbook(of: state, runDirectory: directory)
        var runbook = result.runbook
        runbook.releaseClass = state.releaseClass
        let values = try ParameterInput.resolve(runbook, given: try ParameterInput.parse(parameters.params), recorded: state.params) { RunSupport.prompt(for: $0, problem: $1, on: terminal) }
        let sha = SHA256Hex.of(bytes)
        let changes = RunbookChanges(recorded: state.stepHashes, runbook: runbook)
        if sha != state.runbookSHA256 {
            var lines = ["runsheet: \(state.runbookPath) changed since this run started; progress is kept by step id"]
            if !changes.added.isEmpty { lines.append("  added:   " + changes.added.joined(separator: ", ")) }
            if !changes.removed.isEmpty { lines.append("  removed: " + changes.removed.joined(separator: ", ")) }
            if !changes.changed.isEmpty { lines.append("  changed: " + changes.changed.joined(separator: ", ")) }
            terminal.writeError(lines.joined(separator: "\n") + "\n")
        }
        let governance = try RunSupport.governance(for: runbook)
        if let store { try store.session.requireCommitted(runbook, governance: governance) }
        let notifier = try RunSupport.notifier(for: runbook)
        // The runbook may have gained production steps since the run started: its starter must
        // still be someone the roles file names, as at a start.
        do {
            try RunEngine.requireStarter(state.startedBy, of: runbook, governance: governance)
        } catch let refusal as RunError {
            throw CommandFailure(status: .findings, message: "run \(state.runID) cannot go on, as its starter could not start it now: " + (refusal.errorDescription ?? "\(refusal)"))
        }
        // Who resumes must be an initiator of the run's class under today's policy, whoever started it.
        do {
            try RunEngine.requireInitiator(who.name, of: runbook, governance: governance, resuming: state.runID)
        } catch {
            throw CommandFailure(status: .findings, message: error.errorDescription ?? "\(error)")
        }
        // A change record the policy requires now (or in another form) is required of a run that
        // started without one, or under a policy moved aside: today's rules apply from here on.
        do {
            var underItsClass = runbook
            underItsClass.releaseClass = state.releaseClass
            try RunEngine.requireChangeRecord(state.changeRecord, of: underItsClass, governance: governance)
        } catch let refusal as RunError {
            throw CommandFailure(status: .findings, message: "run \(state.runID) cannot go on under today's rules: " + (refusal.errorDescription ?? "\(refusal)")
                                 .replacingOccurrences(of: "name the approved change record with --change", with: "start a new run that names the approved change record with --change"))
        }
        try EnvironmentLocking.requireSameLock(state, now: try EnvironmentLocking.claim(for: runbook, values: values))
        // As the journal records it, or as the policy says now (then recorded from here on).
        if signingKey == nil, state.signaturesRequired || governance.policy[state.releaseClass].requiresSignatures {
            throw CommandFailure(status: .findings, message: SigningKeyOption.required(run: state.runID, act: "resuming it"))
        }
        let journal: JournalWriter = try store?.journal ?? JournalFile(path: RunSupport.journalPath(directory))
        let engine = RunEngine(runbook: runbook, state: state, journal: signingKey.map { SigningJournal(journal, signer: $0, run: state.runID) } ?? journal,
                               actor: who, values: values, runDirectory: directory,
                               governance: governance)
        engine.notifier = notifier
        if let store {
            // The store's halts, and the repository's file as well (a halt there still stops the run).
            engine.governance.alsoHalts = engine.governance.halts
            engine.governance.halts = try store.session.watchHalts(engine.governance, runbook: runbook.path)
        }
        // A run kept in a folder, or on another store than the repository's config names, obeys
        // the halts of the stores the config names as well (ConfiguredStoreFloor).
        let floor = try ConfiguredStoreFloor.of(runbook: runbook.path, keptOn: store?.session.url)
        defer { floor.close() }
        floor.install(into: &engine.governance, runbook: runbook.path)
        if let recorded = state.rules, recorded != engine.governance.ruleFiles {
            terminal.writeError("runsheet: the rule files changed since this run recorded them (" +
                                RunState.ruleDifferences(from: recorded, to: engine.governance.ruleFiles).joined(separator: "; ").shown +
                                "); the rules as they are now apply from here on, and the journal records it\n")
        }
        // On the store, the lock and the items are the session's to hold while it drives the run.
        try store?.session.takeLocks(state.lock, items: runbook.touchedComponents, actor: who,
                                     refused: "run \(state.runID.shown) was not resumed and nothing was written")
        let lock = try EnvironmentLocking.retake(state, runDirectory: directory)
        // The runbook may name items now that an earlier open run changes: the earlier run keeps them.
        try ItemLocking.refuseConflicts(runbook, runsDirectory: (directory as NSString).deletingLastPathComponent, resuming: state)
        do {
            try engine.resume(sha256: sha, changes: changes)
        } catch let refusal as RunError {
            throw CommandFailure(status: .findings, message: "run \(state.runID) cannot go on: " + (refusal.errorDescription ?? "\(refusal)"))
        }
        try EnvironmentLocking.hold(lock, engine: engine, actor: who, writer: store.map { _ in journal })
        try store?.session.keepRecordedFiles(engine.state, runbook: runbook.path)
        if let store {
            store.session.stopsOnSignals(store.journal, directory: directory, terminal: terminal)
            try store.session.follow(store.journal)
            defer { store.session.keepOutputs(of: directory) }
            return try RunSupport.finish(try RunSupport.drive(engine, on: terminal, auto: auto, stillDriving: store.journal.requireWritable))
        }
        try RunSupport.finish(try RunSupport.drive(engine, on: terminal, auto: auto))
    }
}
