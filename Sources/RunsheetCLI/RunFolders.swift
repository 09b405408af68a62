import Foundation
import RunsheetCore

/// The run folders of a runs folder, for decisions: each journal's first line is read up front
/// (which runbook it names), and a whole journal is read and verified (`JournalVerifier`: every
/// line, the hash chain) when a runbook's runs are asked for, so a release does not pay for
/// verifying the runs of runbooks it does not require. A run folder is a visible entry holding a
/// `journal.jsonl` of any kind, or one named like a run id whose journal is gone.
final class RunFolders {
    private let directory: String
    private let folders: [(id: String, runbookID: String?)]
    /// The runs of the PostgreSQL store read in memory, by id, when these are not a folder's.
    private let stored: [String: StoreRuns.Run]?
    private var verified: [String: RunRecord] = [:]
    private var claimed: Set<String> = []

    init(_ directory: String) {
        self.directory = directory
        let manager = FileManager.default
        let ids = ((try? manager.contentsOfDirectory(atPath: directory)) ?? []).filter { id in
            !id.hasPrefix(".") && (RunRecord.runbookPart(ofFolder: id) != nil
                || (try? manager.attributesOfItem(atPath: Self.journal(directory, id))) != nil)
        }.sorted()
        folders = ids.parallelMap { id in (id, Self.startingRunbookID(Self.journal(directory, id))) }
        stored = nil
    }

    /// The runs of the PostgreSQL store, read as a runs folder's are (`StoreRuns`).
    init(_ runs: StoreRuns) {
        directory = ""
        folders = runs.runs.sorted { $0.id < $1.id }.map { ($0.id, Self.startingRunbookID($0.journal)) }
        stored = Dictionary(runs.runs.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The runs of `runbook` (`RunRecord.belongs(to:)`), each journal verified: those whose first
    /// line names it, and those in a folder named like its runs.
    func runs(of runbook: String) -> [RunRecord] {
        let part = runbook.isEmpty ? "run" : String(runbook.prefix(40))
        let candidates = folders.filter { $0.runbookID == runbook || RunRecord.runbookPart(ofFolder: $0.id) == part }.map(\.id)
        let runs = records(candidates).filter { $0.belongs(to: runbook) }
        claimed.formUnion(runs.map(\.id))
        return runs
    }

    /// Runs whose journal cannot be used and that no runbook of the release claimed, with why.
    func leftOut() -> [RunRecord] {
        records(folders.filter { $0.runbookID == nil && !claimed.contains($0.id) }.map(\.id)).filter { $0.fault != nil }
    }

    private func records(_ ids: [String]) -> [RunRecord] {
        let missing = ids.filter { verified[$0] == nil }
        let directory = directory
        if let stored {
            for record in missing.compactMap({ stored[$0] }).parallelMap(Self.record) { verified[record.id] = record }
            return ids.compactMap { verified[$0] }
        }
        for record in missing.parallelMap({ id in Self.record(id, path: Self.journal(directory, id)) }) { verified[record.id] = record }
        return ids.compactMap { verified[$0] }
    }

    private static func journal(_ directory: String, _ id: String) -> String {
        (directory as NSString).appendingPathComponent(id) + "/journal.jsonl"
    }

    /// What is at `path`, not followed through a link (nil when nothing is). Journals are read
    /// only when they are regular files: a FIFO would block, and a link or a directory is not
    /// the file runsheet wrote.
    private static func fileType(_ path: String) -> FileAttributeType? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.type] as? FileAttributeType
    }

    private static func record(_ id: String, path: String) -> RunRecord {
        let type = fileType(path)
        guard type == .typeRegular else {
            let what = switch type {
            case nil: "there is no journal.jsonl, so the run's record is gone"
            case .typeDirectory?: "not a regular file (a directory)"
            case .typeSymbolicLink?: "not a regular file (a symbolic link, which runsheet does not follow)"
            default: "not a regular file"
            }
            return RunRecord(id: id, fault: .init(location: path, message: what, read: false), runbookID: nil)
        }
        do {
            let report = try JournalVerifier.verify(path: path)
            let runDirectory = (path as NSString).deletingLastPathComponent
            guard let problem = report.problem ?? RunSignatures.problem(RunState.fold(report.events), runDirectory: runDirectory)
            else { return RunRecord(id: id, events: report.events) }
            return RunRecord(id: id, fault: .init(location: "\(RunSupport.shownJournalPath(runDirectory)):\(problem.line)", message: problem.message, read: true),
                             runbookID: startingRunbookID(path))
        } catch {
            // JournalError descriptions start with the path (and a line) and end with a full stop.
            var message = (error as? LocalizedError)?.errorDescription ?? "\(error)"
            var location = path
            if message.hasPrefix(path) {
                var rest = Substring(message.dropFirst(path.count))
                if rest.hasPrefix(":"), let colon = rest.dropFirst().firstIndex(of: ":"),
                   let line = Int(rest[rest.index(after: rest.startIndex)..<colon]) {
                    location += ":\(line)"
                    rest = rest[rest.index(after: colon)...]
                }
                message = String(rest.drop { $0 == ":" || $0 == " " })
            }
            if message.hasSuffix(".") { message.removeLast() }
            // A run of the PostgreSQL store is named by the store and its id, not its laid-out path.
            if let shown = StoreRunView.layout(of: (path as NSString).deletingLastPathComponent)?.shown { location = shown + location.dropFirst(path.count) }
            return RunRecord(id: id, fault: .init(location: location, message: message, read: false), runbookID: startingRunbookID(path))
        }
    }

    /// `record(_:path:)` of a store run read in memory: its journal verified by the same code,
    /// its problems named by the store and the run id.
    private static func record(_ run: StoreRuns.Run) -> RunRecord {
        do {
            let report = try JournalBytes.verify(run.journal, name: run.shown)
            guard let problem = report.problem ?? RunSignatures.problem(RunState.fold(report.events), runDirectory: run.directory)
            else { return RunRecord(id: run.id, events: report.events) }
            return RunRecord(id: run.id, fault: .init(location: "\(run.shown):\(problem.line)", message: problem.message, read: true),
                             runbookID: startingRunbookID(run.journal))
        } catch {
            // JournalError descriptions start with the name (and a line) and end with a full stop.
            var message = (error as? LocalizedError)?.errorDescription ?? "\(error)"
            var location = run.shown
            if message.hasPrefix(run.shown) {
                var rest = Substring(message.dropFirst(run.shown.count))
                if rest.hasPrefix(":"), let colon = rest.dropFirst().firstIndex(of: ":"),
                   let line = Int(rest[rest.index(after: rest.startIndex)..<colon]) {
                    location += ":\(line)"
                    rest = rest[rest.index(after: colon)...]
                }
                message = String(rest.drop { $0 == ":" || $0 == " " })
            }
            if message.hasSuffix(".") { message.removeLast() }
            return RunRecord(id: run.id, fault: .init(location: location, message: message, read: false), runbookID: startingRunbookID(run.journal))
        }
    }

    /// The runbook id in a journal's first line, as `startingRunbookID(_:)` reads it from a file.
    private static func startingRunbookID(_ journal: [UInt8]) -> String? {
        let end = journal.firstIndex(of: 0x0A) ?? journal.count
        guard end < 1 << 26, let event = try? JSONDecoder().decode(RunEvent.self, from: Data(journal[..<end])),
              case .runStarted(let started)? = try? event.payload() else { return nil }
        return started.runbookId
    }

    /// The runbook id in a journal's first line, if that line is a `run.started` event at all;
    /// only that line is read.
    private static func startingRunbookID(_ path: String) -> String? {
        guard let fd = try? RegularFile.descriptor(path, O_RDONLY) else { return nil }
        let file = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        defer { try? file.close() }
        var line = Data()
        while line.count < 1 << 26, let chunk = try? file.read(upToCount: 1 << 16), !chunk.isEmpty {
            if let end = chunk.firstIndex(of: 0x0A) {
                line += chunk[chunk.startIndex..<end]
                break
            }
            line += chunk
        }
        guard let event = try? JSONDecoder().decode(RunEvent.self, from: line),
              case .runStarted(let started)? = try? event.payload() else { return nil }
        return started.runbookId
    }
}
