import Foundation
import RunsheetCore
import RunsheetPostgres

/// Moving a run between a run folder and the store's form of it (`StoredRun`), verified on both
/// sides with `JournalVerifier`: `store push` reads a folder, `store pull` writes one.
enum FolderRuns {
    /// Command output logs larger than this stay out of the store (docs/TEAMS.md); the event
    /// that names a log keeps its size and SHA-256 either way.
    static let outputLogCap = 16 * 1024 * 1024

    /// The run in `directory` as the store keeps it, after its journal verifies (chain and signatures).
    static func read(_ directory: String) throws -> (run: StoredRun, head: String) {
        let (path, report) = try RunSupport.verification(of: directory)
        let state = RunState.fold(report.events)
        if let problem = report.problem ?? (report.problem == nil ? RunSignatures.problem(state, runDirectory: directory) : nil) {
            throw CommandFailure(status: .findings, message: "\(path):\(problem.line): journal does not verify: \(problem.message); nothing was pushed")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CommandFailure(status: .usage, message: "cannot read \(path)")
        }
        // The intact lines only: a torn last line from a crash is no event.
        let lines = Array(data.split(separator: 0x0A, omittingEmptySubsequences: false).prefix(report.eventCount).map(Array.init))
        guard lines.count == report.eventCount else {
            throw CommandFailure(status: .usage, message: "\(path) changed while it was read; push it again")
        }
        let id = state.runID.isEmpty ? (directory as NSString).lastPathComponent : state.runID
        let run = StoredRun(id: id, lines: lines, files: startedFiles(report.events, state: state, directory: directory) + outputLogs(directory))
        return (run, report.headHash ?? "")
    }

    /// The runbook, its includes and the rule files as the run started: each file as it is now,
    /// kept only when its SHA-256 is still the one `run.started` recorded.
    static func startedFiles(_ events: [RunEvent], state: RunState, directory: String) -> [StoredFile] {
        guard let first = events.first, case .runStarted(let started)? = try? first.payload() else { return [] }
        return recordedFiles(runbook: RunSupport.runbookPath(of: state, runDirectory: directory), recorded: started.runbook, sha256: started.sha256,
                             includes: started.includes ?? [:], rules: started.rules ?? [:])
    }

    /// The runbook at `runbook` (recorded as `recorded`), the includes and the rule files (paths
    /// relative to the runbook's folder), each as it is now and kept only when its SHA-256 is the
    /// one given.
    static func recordedFiles(runbook: String, recorded: String, sha256: String, includes: [String: String], rules: [String: String]) -> [StoredFile] {
        // A runbook named without a folder ("change.md") is in the current one, not at the root.
        let folder = (runbook as NSString).deletingLastPathComponent.isEmpty ? "." : (runbook as NSString).deletingLastPathComponent
        var wanted: [(StoredFile.Kind, String, String, String)] = [(.runbook, recorded, runbook, sha256)]
        for (path, sha) in includes.sorted(by: { $0.key < $1.key }) { wanted.append((.include, path, folder + "/" + path, sha)) }
        for (path, sha) in rules.sorted(by: { $0.key < $1.key }) { wanted.append((.rule, path, folder + "/" + path, sha)) }
        return wanted.compactMap { kind, recorded, location, sha in
            guard !recorded.isEmpty, let data = FileManager.default.contents(atPath: location) else { return nil }
            let content = Array(data)
            guard SHA256Hex.of(content) == sha else { return nil }
            return StoredFile(kind: kind, path: recorded, content: content, sha256: sha)
        }
    }

    /// The command output logs in the run's `output/` folder, regular files up to the cap.
    static func outputLogs(_ directory: String) -> [StoredFile] {
        let folder = directory + "/output"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
        return names.compactMap { name in
            let path = folder + "/" + name
            guard RegularFile.otherKind(at: path) == nil,
                  let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int, size <= outputLogCap,
                  let data = FileManager.default.contents(atPath: path) else { return nil }
            let content = Array(data)
            return StoredFile(kind: .output, path: "output/" + name, content: content, sha256: SHA256Hex.of(content))
        }
    }

    /// Checks a run as the store returned it: `JournalVerifier` passes it, and it ends at `head`
    /// with `count` events. Throws a sentence otherwise.
    static func verifyStored(_ run: StoredRun, count: Int, head: String, where place: String) throws {
        let folder = try ScratchFolders.make("verify")
        defer { ScratchFolders.remove(folder) }
        let path = folder + "/journal.jsonl"
        try Data(run.journalBytes).write(to: URL(fileURLWithPath: path))
        let report: VerificationReport
        do { report = try JournalVerifier.verify(path: path) } catch {
            throw CommandFailure(status: .findings, message: "run \(run.id) as \(place) holds it does not verify: \((error as? LocalizedError)?.errorDescription ?? "\(error)")")
        }
        if let problem = report.problem {
            throw CommandFailure(status: .findings, message: "run \(run.id) as \(place) holds it does not verify: event line \(problem.line): \(problem.message)")
        }
        guard report.eventCount == count, report.headHash ?? "" == head else {
            throw CommandFailure(status: .findings, message: "run \(run.id) as \(place) holds it has \(report.eventCount) events ending at \(report.headHash ?? "-"), not the \(count) events ending at \(head) that were sent")
        }
    }

    /// Writes a pulled run into `runsDirectory/<id>`: built in a hidden folder beside it, verified
    /// there, then renamed into place, so a failure leaves no partial run.
    static func write(_ run: StoredRun, into runsDirectory: String) throws -> String {
        let manager = FileManager.default
        let target = runsDirectory + "/" + run.id
        if manager.fileExists(atPath: target) {
            throw CommandFailure(status: .usage, message: "\(target) already exists; pull into another runs folder (--runs-dir), or move it away first")
        }
        try manager.createDirectory(atPath: runsDirectory, withIntermediateDirectories: true)
        let staging = runsDirectory + "/.pull-\(run.id)-\(UUID().uuidString)"
        try manager.createDirectory(atPath: staging, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        do {
            try create(staging + "/journal.jsonl", run.journalBytes)
            let report = try JournalVerifier.verify(path: staging + "/journal.jsonl")
            if let problem = report.problem {
                throw CommandFailure(status: .findings, message: "run \(run.id) from the store does not verify: journal line \(problem.line): \(problem.message); nothing was written")
            }
            var index = ""
            for file in run.files {
                guard SHA256Hex.of(file.content) == file.sha256 else {
                    throw CommandFailure(status: .findings, message: "the file \(file.path) of run \(run.id) in the store does not match its SHA-256; nothing was written")
                }
                if file.kind == .output {
                    let name = String(file.path.dropFirst("output/".count))
                    guard file.path.hasPrefix("output/"), !name.isEmpty, !name.contains("/"), !name.hasPrefix(".") else { continue }
                    try manager.createDirectory(atPath: staging + "/output", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                    try create(staging + "/output/" + name, file.content)
                } else {
                    // The runbook and rule files as the run started, by hash; started/files.tsv says which is which.
                    try manager.createDirectory(atPath: staging + "/started", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                    if !manager.fileExists(atPath: staging + "/started/" + file.sha256) { try create(staging + "/started/" + file.sha256, file.content) }
                    index += "\(file.kind.rawValue)\t\(file.sha256)\t\(file.path.replacingOccurrences(of: "\t", with: " ").replacingOccurrences(of: "\n", with: " "))\n"
                }
            }
            if !index.isEmpty { try create(staging + "/started/files.tsv", Array(index.utf8)) }
            guard rename(staging, target) == 0 else {
                throw CommandFailure(status: .usage, message: "cannot move the pulled run into \(target): \(String(cString: strerror(errno)))")
            }
        } catch {
            try? manager.removeItem(atPath: staging)
            throw error
        }
        return target
    }

    /// A new file (never through a link or over a file), mode 0600, synced unless told not to.
    static func create(_ path: String, _ bytes: [UInt8], synced: Bool = true) throws {
        let fd = try RegularFile.descriptor(path, O_WRONLY | O_CREAT | O_EXCL, mode: 0o600)
        defer { close(fd) }
        // Straight from the array (a run's journal can be tens of megabytes: no copy into Data).
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw JournalError.system(path: path, operation: "write", errno: errno) }
            offset += written
        }
        if synced && fsync(fd) != 0 { throw JournalError.system(path: path, operation: "fsync", errno: errno) }
    }
}
