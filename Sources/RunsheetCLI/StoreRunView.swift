import Foundation
import RunsheetCore
import RunsheetPostgres
import Synchronization

/// A run of the PostgreSQL store laid out for the commands that read run folders (`status`,
/// `verify`, `audit`, `report`): its journal and output logs in a private temporary folder named
/// for the run (the store's key), and the runbook, includes and rule files as the run started,
/// each only when its SHA-256 is the one `run.started` records. Removed when the command ends,
/// or when SIGINT, SIGTERM or SIGHUP stops it (`ScratchFolders`).
///
/// What binds it (docs/TEAMS.md, "Reading a run from the store"): the folder is named for the
/// store's run id, so `RunBinding` still refuses a journal of another run; the runbook and rules
/// are those the run started with; signatures are checked against the current allowed signers of
/// the run's repository when the command runs inside it, else against none (the store keeps no
/// allowed signers), so a signature is never taken as verified without a repository's word.
struct StoreRunView {
    /// What the commands' shared code asks of a laid-out run, by its folder.
    struct Layout: Sendable {
        /// The store's id of the run, which its journal's run id must be (`RunBinding`).
        var run: String
        /// How the journal is named in what a command prints: the store and the run id.
        var shown: String
        /// The runbook as the run started.
        var runbook: String
        /// Where the allowed signers, and the repository of the recorded commit, are looked for
        /// from: the run's runbook in the current repository (`repositoryRunbook`); nil when the
        /// run is not that repository's, and then its signatures are checked against none.
        var signersAnchor: String?
        /// The store's URL (redacted: it never holds a password), for the commands a summary suggests.
        var store: String? = nil
    }

    private static let layouts = Mutex<[String: Layout]>([:])

    /// The layout of the run folder `directory`, if it is a store run's.
    static func layout(of directory: String) -> Layout? {
        layouts.withLock { $0.isEmpty ? nil : $0[directory] }
    }

    /// Whether `directory` is a store run's that no repository here anchors: no allowed signers
    /// are looked for, so none planted beside its files can vouch for its signatures.
    static func unanchored(_ directory: String) -> Bool {
        layout(of: directory).map { $0.signersAnchor == nil } ?? false
    }

    /// Registers the layouts of runs read in memory (`StoreRuns`), by the name each stands under.
    static func register(_ entries: [(String, Layout)]) {
        layouts.withLock { for (directory, layout) in entries { $0[directory] = layout } }
    }

    /// Names `directory` as a store run's local folder (`StoreRunSession`): messages name the store.
    static func register(_ directory: String, _ layout: Layout) {
        layouts.withLock { $0[directory] = layout }
    }

    /// Forgets the layouts of `directories`.
    static func forget(_ directories: [String]) {
        layouts.withLock { for directory in directories { $0.removeValue(forKey: directory) } }
    }

    let root: String
    /// The journal folded as it was fetched (`open(…, fold: true)`), for `status`.
    let fetchedFold: StoreJournalFold?
    /// The journal, while it is not yet written into the folder: with a fold, only when the fold
    /// gives nothing (then the laid-out journal is read, as without one).
    private let unwrittenJournal: [[UInt8]]?
    /// The run folder: `root/runs/<id>`.
    let directory: String
    let origins: [EventOrigin]
    /// The records `store void` took out of the run, by act (`status` and `audit` name them).
    var voidings: [Voiding] = []
    let store: String
    /// Where the runbook and rule files as the run started are written: `root/tree`, or for runs
    /// laid out together (`StoreRuns`), one tree per run.
    var tree: String
    /// The repository whose copy of the runbook anchors the allowed signers: the one around the
    /// current folder, or the release's for `readiness`.
    var repository: String?

    init(root: String, directory: String, origins: [EventOrigin], store: String, tree: String? = nil,
         repository: String? = RunContext.gitRoot(of: FileManager.default.currentDirectoryPath), fold: StoreJournalFold? = nil, unwrittenJournal: [[UInt8]]? = nil) {
        (self.root, self.directory, self.origins, self.store, self.fetchedFold) = (root, directory, origins, store, fold)
        self.unwrittenJournal = unwrittenJournal
        (self.tree, self.repository) = (tree ?? root + "/tree", repository)
    }

    /// Fetches run `id` from the store at `url` (with each event's database user and server time
    /// when `origins`, for `audit`) and lays it out; an unknown id is one sentence, exit 2.
    /// `signals`: those that remove the folder as they stop the command (`ScratchFolders`); a
    /// session (`resume`) handles Ctrl-C itself.
    /// `outputs` false leaves the command output logs in the store (`status` reads none).
    /// `fold`: fold the journal while it is fetched (`folded`), for a command that only shows the run.
    static func open(_ id: String, url: String, origins: Bool = false, outputs: Bool = true, fold: Bool = false,
                     signals: [Int32] = ScratchFolders.all) throws -> StoreRunView {
        guard !id.isEmpty, !id.hasPrefix("."), !id.contains("/"), !id.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw CommandFailure(status: .usage, message: "'\(id.shown)' is not a run id: a run in the store is named by its whole id")
        }
        let fetched: (run: (journal: [[UInt8]], files: [StoredFile]), origins: [EventOrigin], voidings: [Voiding])
        var revisions: [String: [UInt8]] = [:]
        let current: RecordedFiles
        let folding = fold ? StoreJournalFold(name: "\(ConnectionSettings.redacted(url)) run \(id)") : nil
        let piece: (@Sendable ([UInt8]?) -> Void)? = folding.map { folding in { @Sendable piece in folding.take(piece) } }
        do {
            fetched = try StoreAccess.run(url) { store in
                (try await RunStore.journal(store, id, outputs: outputs, piece: piece),
                 origins ? try await RunStore.origins(store, id) : [], try await RunStore.voidings(store, .run(id)))
            }
            // Files the run recorded after it started (a resume on a changed runbook): kept by hash.
            current = Self.recordedFiles(pieces: fetched.run.journal)
            let hashes = Self.revisionHashes(current, files: fetched.run.files)
            if !hashes.isEmpty { revisions = try StoreAccess.run(url) { store in try await RunStore.blobs(store, hashes) } }
        } catch is RunStore.RunPresence {
            throw CommandFailure(status: .usage, message: "the store \(ConnectionSettings.redacted(url)) holds no run '\(id.shown)' (a run in the store is named by its whole id)")
        }
        // Removed also when a signal stops the command before it closes the view.
        let root: String
        do { root = try ScratchFolders.make("run", signals: signals) } catch {
            throw CommandFailure(status: .usage, message: "cannot make a private folder for run \(id.shown) of the store in \(NSTemporaryDirectory()): \((error as NSError).localizedDescription)")
        }
        // With a fold the journal is written only if the fold gives nothing (`folded`): 39 MB for a
        // long run, left in the pieces it came in until then.
        var view = StoreRunView(root: root, directory: root + "/runs/" + id, origins: fetched.origins, store: ConnectionSettings.redacted(url),
                                fold: folding, unwrittenJournal: folding == nil ? nil : fetched.run.journal)
        view.voidings = fetched.voidings
        do {
            try view.lay(id, pieces: fetched.run.journal, files: fetched.run.files, current: revisions.isEmpty ? nil : current, revisions: revisions,
                         writesJournal: folding == nil)
        } catch {
            view.close()
            throw error
        }
        return view
    }

    /// Removes the folder and forgets its layout.
    func close() {
        forget()
        ScratchFolders.remove(root)
    }

    /// Forgets the layout of this run's folder.
    func forget() {
        _ = Self.layouts.withLock { $0.removeValue(forKey: directory) }
    }

    /// The layout of this run's folder.
    var layout: Layout? { Self.layout(of: directory) }

    /// The state folded from the journal as it was fetched, when every line of it verified (the
    /// fold `RunSupport.shownState` makes, from the same bytes); nil when it was not asked for or
    /// does not verify: then the journal is written into the folder and read from there, which
    /// says why in the words a folder run's journal gets.
    func folded() throws -> JournalFold? {
        guard let fetchedFold else { return nil }
        if let fold = fetchedFold.result() { return fold }
        if let unwrittenJournal { try Self.create(directory + "/journal.jsonl", Self.joined(unwrittenJournal)) }
        return nil
    }

    /// Has the commands read the runbook at `path` (the run's repository's) instead of the copy
    /// the run started with: `resume` goes on under the rules as they are now.
    func useRunbook(_ path: String) {
        Self.layouts.withLock { layouts in
            layouts[directory]?.runbook = path
            layouts[directory]?.signersAnchor = path
        }
    }

    /// The run's `run.started`, from the first line of its laid-out journal.
    var started: RunStarted? {
        guard let bytes = try? FileReader.read(directory + "/journal.jsonl"), let end = bytes.firstIndex(of: 0x0A),
              let event = try? JSONDecoder().decode(RunEvent.self, from: Data(bytes[..<end])),
              case .runStarted(let started)? = try? event.payload() else { return nil }
        return started
    }

    /// The runbook, includes and rule files as the run last recorded them (`run.changed` and
    /// `run.resumed` after a resume on another runbook or other rules): the runbook's SHA-256 and
    /// path → SHA-256 of the others. Where nothing changed, those of `run.started`.
    typealias RecordedFiles = (runbook: String?, includes: [String: String], rules: [String: String])

    static func recordedFiles(pieces: [[UInt8]]) -> RecordedFiles {
        // Only run.started and the events that record other files are decoded (a long run stays cheap).
        let marks = [Array(#""type":"run.changed""#.utf8), Array(#""type":"run.resumed""#.utf8)]
        let events = JournalLineSearch.firstAndContaining(marks, in: pieces).compactMap { line in
            try? JSONDecoder().decode(RunEvent.self, from: Data(line))
        }
        guard !events.isEmpty else { return (nil, [:], [:]) }
        let state = RunState.fold(events)
        return (state.runbookSHA256.isEmpty ? nil : state.runbookSHA256, state.includes, state.rules ?? [:])
    }

    /// The SHA-256 of the files the run recorded after it started (a resume on a changed runbook
    /// or changed rules), which the run's files do not hold: fetched from the store's contents.
    /// `current`: the files as the run last recorded them (`recordedFiles`).
    static func revisionHashes(_ current: RecordedFiles, files: [StoredFile]) -> [String] {
        let kept = Set(files.map(\.sha256))
        return Array(Set([current.runbook].compactMap { $0 } + Array(current.includes.values) + Array(current.rules.values)).subtracting(kept)).sorted()
    }

    /// A journal read in pieces (`RunStore.journal`) as one array.
    static func joined(_ pieces: [[UInt8]]) -> [UInt8] {
        pieces.count == 1 ? pieces[0] : Array(pieces.joined())
    }

    /// Writes run `id`'s journal (`pieces` of its lines, each with a newline, as `RunStore.journal`
    /// read them) and `files` into the folder. `writesJournal` false: all but the journal (`folded`
    /// writes it when it is read after all). `current`: the files as the run last recorded them
    /// (`recordedFiles`), whose contents not among `files` are in `revisions`; nil: those it started with.
    func lay(_ id: String, pieces: [[UInt8]], files: [StoredFile], current: RecordedFiles? = nil, revisions: [String: [UInt8]] = [:],
             writesJournal: Bool = true) throws {
        let manager = FileManager.default
        for folder in [root, root + "/runs", directory] where !(folder != directory && manager.fileExists(atPath: folder)) {
            try manager.createDirectory(atPath: folder, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        }
        if writesJournal { try Self.create(directory + "/journal.jsonl", Self.joined(pieces)) }
        for file in files where file.kind == .output && SHA256Hex.of(file.content) == file.sha256 {
            let name = String(file.path.dropFirst("output/".count))
            guard file.path.hasPrefix("output/"), !name.isEmpty, !name.contains("/"), !name.hasPrefix(".") else { continue }
            if !manager.fileExists(atPath: directory + "/output") {
                try manager.createDirectory(atPath: directory + "/output", withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
            }
            try Self.create(directory + "/output/" + name, file.content)
        }
        let runbook = try layStartedFiles(id, first: (pieces.first ?? []).prefix { $0 != 0x0A }, files: files, current: current, revisions: revisions)
        let layout = Layout(run: id, shown: "\(store) run \(id)", runbook: runbook.tree, signersAnchor: runbook.repository, store: store)
        Self.layouts.withLock { $0[directory] = layout }
    }

    /// Writes the runbook, includes and rule files as `run.started` recorded them under
    /// `root/tree`, in the same places relative to each other; returns where the runbook is, and
    /// the runbook in the current folder's repository when that repository is the run's.
    /// With `current` (the files as the run last recorded them) and their `revisions` (contents
    /// by hash), those instead of the ones it started with.
    private func layStartedFiles(_ id: String, first: ArraySlice<UInt8>, files: [StoredFile],
                                 current: RecordedFiles? = nil,
                                 revisions: [String: [UInt8]] = [:]) throws -> (tree: String, repository: String?) {
        guard !first.isEmpty, let event = try? JSONDecoder().decode(RunEvent.self, from: Data(first)),
              case .runStarted(let started)? = try? event.payload() else {
            throw CommandFailure(status: .findings, message: "run \(id.shown) in the store \(store) does not begin with run.started, so it cannot be read")
        }
        let includes = current?.includes ?? started.includes ?? [:]
        let rules = current.map { $0.rules.isEmpty ? started.rules ?? [:] : $0.rules } ?? started.rules ?? [:]
        let runbookSHA = current?.runbook ?? started.sha256
        // The runbook's folder sits deep enough in the tree for every "../" a rule path climbs.
        let climbs = (Array(includes.keys) + Array(rules.keys)).map { path in path.split(separator: "/").prefix { $0 == ".." }.count }.max() ?? 0
        let recordedFolder = (started.runbook as NSString).deletingLastPathComponent.split(separator: "/").filter { $0 != "." && $0 != ".." }.map(String.init)
        let padding = Array(recordedFolder.suffix(climbs))
        let folder = ([tree] + Array(repeating: "_", count: climbs - padding.count) + padding).joined(separator: "/")
        let name = (started.runbook as NSString).lastPathComponent
        let runbook = folder + "/" + (name.isEmpty ? "runbook.md" : name)
        // The tree is a repository of its own (a Git folder with a HEAD), so the walk for rule files
        // and allowed signers stops at its top: nothing planted above it in the temporary folder is read.
        try FileManager.default.createDirectory(atPath: tree + "/.git", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try Self.create(tree + "/.git/HEAD", Array("ref: refs/heads/main\n".utf8))
        var wanted: [(StoredFile.Kind, String, String, String)] = [(.runbook, started.runbook, runbook, runbookSHA)]
        for (path, sha) in includes { wanted.append((.include, path, folder + "/" + path, sha)) }
        for (path, sha) in rules { wanted.append((.rule, path, folder + "/" + path, sha)) }
        for (kind, recorded, location, sha) in wanted {
            let target = URL(fileURLWithPath: location).standardizedFileURL.path
            let content = files.first(where: { $0.kind == kind && $0.path == recorded && $0.sha256 == sha && SHA256Hex.of($0.content) == sha })?.content
                ?? revisions[sha].flatMap { SHA256Hex.of($0) == sha ? $0 : nil }
            guard target.hasPrefix(tree + "/"), !FileManager.default.fileExists(atPath: target), let content else { continue }
            try FileManager.default.createDirectory(atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
            try Self.create(target, content)
        }
        return (runbook, repository.flatMap { Self.repositoryRunbook(started, in: $0) })
    }

    /// The run's runbook in the repository `root`, when that repository is
    /// the run's: the runbook is there at the path the run recorded, and the commit it recorded
    /// (if any) is in that repository's history. nil otherwise.
    static func repositoryRunbook(_ started: RunStarted, in root: String) -> String? {
        let path = started.runbook.hasPrefix("/") ? started.runbook : root + "/" + started.runbook
        guard FileManager.default.fileExists(atPath: path), RunBinding.inside(path, repository: root) else { return nil }
        if let recorded = started.gitCommit, !RecordedCommitCheck.inHistory(String(recorded.prefix { $0 != "+" }), in: root) { return nil }
        return path
    }

    /// A new file, mode 0600, never through a link; not synced (the folder is gone when the command ends).
    private static func create(_ path: String, _ bytes: [UInt8]) throws {
        try FolderRuns.create(path, bytes, synced: false)
    }
}
