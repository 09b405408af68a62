import Foundation
import RunsheetCore
import RunsheetPostgres

/// `run` and `resume` on the PostgreSQL store (docs/TEAMS.md, "Running on the store"): the same
/// checks as on a run folder, decided before anything is written, then a session
/// (`StoreRunSession`) that holds the run's lease and locks on its own connection and drives a
/// private local copy of the run that the store feeds.
extension Run {
    func startOnStore(_ url: String, runbook: Runbook, bytes: [UInt8], values: [String: String], who: Actor, signingKey: SSHKeygenSigner?,
                      governance: Governance, notifier: RunNotifier?, choice: ClassChoice?, on terminal: any Terminal) throws {
        let runID = RunContext.newRunID(runbookID: runbook.id)
        let claim = try EnvironmentLocking.claim(for: runbook, values: values)
        let session = try StoreRunSession(url: url, runID: runID)
        defer { session.close() }
        defer { ScratchFolders.clearStop() }
        try session.takeLease(for: who)
        try session.takeLocks(claim, items: runbook.touchedComponents, actor: who, refused: "nothing was started")
        // The store's halts, not the repository's file, stop its runs (docs/TEAMS.md).
        var governance = governance
        governance.alsoHalts = governance.halts
        governance.halts = try session.watchHalts(governance, runbook: file)
        // Kept on another store than the repository's config names: that store's halts stop it too.
        let floor = try ConfiguredStoreFloor.of(runbook: file, keptOn: url)
        defer { floor.close() }
        floor.install(into: &governance, runbook: file)
        let copy = try StoreRunSession.localFolder(store: session.shown)
        defer { copy.remove() }
        let runDirectory = copy.runs + "/" + runID
        do {
            try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        } catch {
            throw CommandFailure(status: .usage, message: "cannot create the run's local folder \(runDirectory): \((error as NSError).localizedDescription)")
        }
        let journalPath = RunSupport.journalPath(runDirectory)
        var mirror: StoreMirrorJournal!
        let engine = try RunEngine.start(
            runbook: runbook, runID: runID, runDirectory: runDirectory, sha256: SHA256Hex.of(bytes),
            gitCommit: RunContext.gitCommit(for: file), values: values, actor: who,
            runsheetVersion: RunsheetCommand.version, governance: governance, choice: choice, lock: claim, change: change, notifier: notifier
        ) { first in
            let written = try JournalFile.create(at: journalPath, first: try first.signed(by: signingKey, run: runID))
            let state = RunState.fold([written])
            // The runbook, its includes and the rule files as the run starts, kept with it by SHA-256.
            let files = FolderRuns.startedFiles([written], state: state, directory: runDirectory)
            // The line byte for byte as the local copy holds it.
            let line = Array(try FileReader.read(journalPath).dropLast())
            let connection = session.connection
            do {
                try StoreAccess.wait(seconds: StoreRunSession.answerWithin, store: session.shown) { try await RunStore.create(connection, runID, first: line, files: files) }
            } catch is RunStore.RunPresence {
                throw CommandFailure(status: .usage, message: "the store \(session.shown) holds a run \(runID) already; start the run again")
            }
            StoreRunView.register(runDirectory, .init(run: runID, shown: "\(session.shown) run \(runID)", runbook: file, signersAnchor: file, store: session.shown))
            let journal = try StoreMirrorJournal(session: session, localPath: journalPath, state: state)
            mirror = journal
            session.stopsOnSignals(journal, directory: runDirectory, terminal: terminal)
            try session.follow(journal)
            return (signingKey.map { SigningJournal(journal, signer: $0, run: runID) } ?? journal, written)
        }
        terminal.writeError("runsheet: started run \(runID) in the store \(session.shown)\n")
        defer { session.keepOutputs(of: runDirectory) }
        try RunSupport.finish(try RunSupport.drive(engine, on: terminal, auto: auto, stillDriving: mirror.requireWritable))
    }
}

extension Resume {
    /// Resumes a run of the store: laid out from the store, its lease taken, the events committed
    /// since it was read taken in, then continued as on a run folder, from the runbook and rules
    /// of the run's repository as they are now (the checkout the command runs in).
    func resumeOnStore(_ url: String, claimed: Actor, on terminal: any Terminal) throws {
        // Removed by SIGTERM and SIGHUP, not by Ctrl-C: in a session that stops a command, not the session.
        let view = try StoreRunView.open(runID, url: url, signals: ScratchFolders.session)
        defer { view.close() }
        guard let started = view.started, let runbook = StoreRunView.repositoryRunbook(started, in: RunContext.gitRoot(of: FileManager.default.currentDirectoryPath) ?? FileManager.default.currentDirectoryPath) else {
            throw CommandFailure(status: .usage, message: "run \(runID.shown) of the store \(view.store) goes on under its repository's rules as they are now, so resume it in a checkout of that repository " +
                                 "(its runbook \((view.started?.runbook ?? "?").shown) is not here\(view.started?.gitCommit.map { ", or its commit \($0.prefix(12)) is not in this checkout's history" } ?? "")); nothing was written")
        }
        view.useRunbook(runbook)
        let session = try StoreRunSession(url: url, runID: runID)
        defer { session.close() }
        defer { ScratchFolders.clearStop() }
        let (who, signingKey) = try RunSupport.bindIdentity(claimed, explicit: actor.actorName, key: key, runDirectory: view.directory)
        try session.takeLease(for: who)
        // What others committed between the read and the lease joins the local copy first.
        let path = RunSupport.journalPath(view.directory)
        let journal = try StoreMirrorJournal(session: session, localPath: path, state: try JournalFile.verifiedState(at: path, repair: false).state)
        journal.catchUp()
        try proceed(directory: view.directory, who: who, signingKey: signingKey, on: terminal, store: (session, journal))
    }
}

extension StoreRunSession {
    /// For `resume` on the store: the runbook, the files it includes and the rule files it goes on
    /// under must be as the checkout's commit has them. A resume in a clone whose roles or policy
    /// were edited and not committed would otherwise carry the run on under rules nobody else has
    /// (found by the adversary). Exit 1, naming the files; where Git cannot say, refused too.
    func requireCommitted(_ runbook: Runbook, governance: Governance) throws {
        let folder = (runbook.path as NSString).deletingLastPathComponent.isEmpty ? "." : (runbook.path as NSString).deletingLastPathComponent
        let paths = [(runbook.path as NSString).lastPathComponent] + governance.ruleFiles.keys.sorted() + runbook.includedSHA256.keys.sorted()
        guard let changed = RunContext.gitOutput(["status", "--porcelain", "--untracked-files=all", "--"] + paths, in: folder) else {
            throw CommandFailure(status: .findings, message: "run \(runID.shown) of the store \(shown) goes on under its repository's rules as committed, and Git cannot say here whether \(runbook.path.shown) and its rule files are; resume it in a Git checkout of the repository; nothing was written")
        }
        // "XY path" lines (the first may have lost its leading space to trimming).
        let files = changed.split(separator: "\n").map { $0.drop(while: { $0 != " " }).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard files.isEmpty else {
            throw CommandFailure(status: .findings, message: "run \(runID.shown) of the store \(shown) goes on under its repository's rules as committed, and \(files.joined(separator: ", ").shown) \(files.count == 1 ? "has" : "have") changes not committed in this checkout; commit and share them, or undo them, then resume; nothing was written")
        }
    }

    /// After a resume that recorded another runbook, includes or rule files than the run had
    /// (`run.changed`, `run.resumed`): keeps their contents in the store by SHA-256, so a signer on
    /// another machine reads the run with the files it goes on under (StoreRunView).
    func keepRecordedFiles(_ state: RunState, runbook: String) throws {
        let files = FolderRuns.recordedFiles(runbook: runbook, recorded: state.runbookPath, sha256: state.runbookSHA256,
                                             includes: state.includes, rules: state.rules ?? [:])
        let connection = connection, kept = Dictionary(files.map { ($0.sha256, $0.content) }, uniquingKeysWith: { first, _ in first })
        try StoreAccess.wait(seconds: Self.answerWithin, store: shown) { try await RunStore.keepBlobs(connection, kept) }
    }

    /// A private folder (0700) for a session's local copy of a run, removed when the session ends.
    struct LocalFolder {
        let root: String
        var runs: String { root + "/runs" }

        func remove() {
            if let names = try? FileManager.default.contentsOfDirectory(atPath: runs) {
                for name in names { StoreRunView(root: root, directory: runs + "/" + name, origins: [], store: "", repository: nil).forget() }
            }
            ScratchFolders.remove(root)
        }
    }

    static func localFolder(store: String) throws -> LocalFolder {
        var made: String?
        do {
            let root = try ScratchFolders.make("session", signals: ScratchFolders.session)
            made = root
            try FileManager.default.createDirectory(atPath: root + "/runs", withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            return LocalFolder(root: root)
        } catch {
            if let made { ScratchFolders.remove(made) }
            throw CommandFailure(status: .usage, message: "cannot make a local folder for a run of the store \(store) in \(NSTemporaryDirectory()): \((error as NSError).localizedDescription)")
        }
    }
}
