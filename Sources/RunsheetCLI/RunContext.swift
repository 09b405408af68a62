import Foundation
import RunsheetCore

/// Where runs live, who is acting, and the facts about a runbook file recorded at start.
enum RunContext {
    /// `--as`, then RUNSHEET_USER, then `git config user.email`, then the login name; acting
    /// `atTerminal` (standard input is one) or by script, or under CI. A name holding a line
    /// break or another control character is refused (exit 2) before anything is written.
    static func actor(explicit: String?, atTerminal: Bool = isatty(0) != 0) throws -> Actor {
        let env = ProcessInfo.processInfo.environment
        var name = explicit?.trimmed ?? ""
        var source = "the name given with --as"
        if name.isEmpty { (name, source) = (env["RUNSHEET_USER"]?.trimmed ?? "", "the name in RUNSHEET_USER") }
        if name.isEmpty { (name, source) = (gitOutput(["config", "user.email"], in: FileManager.default.currentDirectoryPath) ?? "", "git config user.email") }
        if name.isEmpty { (name, source) = (loginName(), "the login name") }
        try requireName(name, source)
        let via: String
        if env["CI"].map({ !$0.isEmpty && $0 != "false" }) == true {
            via = "ci"
        } else {
            via = atTerminal ? "terminal" : "script"
        }
        return Actor(name: name, host: hostName(), via: via, canonical: PersonName.canonical(name), uid: Int(getuid()), login: loginName())
    }

    /// Refuses, as bad input, a name or role (`what`: where it came from) that holds a control character.
    static func requireName(_ name: String, _ what: String) throws {
        if let refusal = TypedText.refusal(name, as: .name, what: what) { throw CommandFailure(status: .usage, message: refusal) }
    }

    static func loginName() -> String {
        if let pw = getpwuid(getuid()), let name = pw.pointee.pw_name { return String(cString: name) }
        return ProcessInfo.processInfo.environment["USER"] ?? "unknown"
    }

    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return "unknown" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The Git work tree holding `directory`, if any.
    static func gitRoot(of directory: String) -> String? {
        RepositoryFile.locate(".git", from: directory).map { ($0 as NSString).deletingLastPathComponent }
    }

    /// `--runs-dir`, then RUNSHEET_RUNS_DIR, then `runs/` at the Git root around `near`, else `runs/` in `near`.
    static func runsDirectory(explicit: String?, near: String) -> String {
        if let explicit, !explicit.isEmpty { return explicit }
        if let env = ProcessInfo.processInfo.environment["RUNSHEET_RUNS_DIR"], !env.isEmpty { return env }
        if let root = gitRoot(of: near) { return root + "/runs" }
        return (near as NSString).appendingPathComponent("runs")
    }

    /// The commit of the runbook's repository, with `+dirty` when the runbook has local edits.
    static func gitCommit(for path: String) -> String? {
        let directory = (path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent
        guard gitRoot(of: directory) != nil, let commit = gitOutput(["rev-parse", "HEAD"], in: directory) else { return nil }
        let dirty = gitOutput(["status", "--porcelain", "--", (path as NSString).lastPathComponent], in: directory).map { !$0.isEmpty } ?? false
        return dirty ? commit + "+dirty" : commit
    }

    static func gitOutput(_ arguments: [String], in directory: String) -> String? {
        GitCommand.output(arguments, in: directory)
    }

    /// `<runbook-id>-<yyyymmdd>-<hhmmss>-<4 hex>`: sortable, readable, unique enough per second.
    static func newRunID(runbookID: String) -> String {
        var t = time(nil)
        var parts = tm()
        gmtime_r(&t, &parts)
        let stamp = String(format: "%04d%02d%02d-%02d%02d%02d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                           Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec))
        let suffix = String(format: "%04x", Int.random(in: 0..<0x10000))
        let base = runbookID.isEmpty ? "run" : String(runbookID.prefix(40))
        return "\(base)-\(stamp)-\(suffix)"
    }

    /// The folder of a run named on the command line, looked up in `--runs-dir` or the default runs folder.
    static func runDirectory(_ reference: String, runsDir: String?) throws -> String {
        let runsDirectory = runsDirectory(explicit: runsDir, near: FileManager.default.currentDirectoryPath)
        return try locateRun(reference, runsDirectory: runsDirectory, explicit: runsDir != nil).directory
    }

    /// Finds a run by id, unique id prefix, run folder or journal path. `explicit` says the runs
    /// folder came from --runs-dir, so the hint in a refusal names it too.
    static func locateRun(_ reference: String, runsDirectory: String, explicit: Bool = false) throws -> (id: String, directory: String) {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if reference.hasSuffix(".jsonl"), manager.fileExists(atPath: reference) {
            let directory = (reference as NSString).deletingLastPathComponent
            return ((directory as NSString).lastPathComponent, directory)
        }
        if manager.fileExists(atPath: reference + "/journal.jsonl", isDirectory: &isDirectory), reference.contains("/") {
            return ((reference as NSString).lastPathComponent, reference)
        }
        let exact = (runsDirectory as NSString).appendingPathComponent(reference)
        if manager.fileExists(atPath: exact + "/journal.jsonl") { return (reference, exact) }
        let ids = (try? manager.contentsOfDirectory(atPath: runsDirectory)) ?? []
        let matches = ids.filter { $0.hasPrefix(reference) && manager.fileExists(atPath: runsDirectory + "/" + $0 + "/journal.jsonl") }
        if matches.count == 1 { return (matches[0], runsDirectory + "/" + matches[0]) }
        if matches.count > 1 {
            let sorted = matches.sorted()
            let listed = sorted.prefix(4).joined(separator: ", ") + (sorted.count > 4 ? " and \(sorted.count - 4) more" : "")
            throw CommandFailure(status: .usage, message: "run id '\(reference)' matches \(matches.count) runs in \(runsDirectory) (\(listed)); give more of it, e.g. \(sorted.last!)")
        }
        throw CommandFailure(status: .usage, message: missingRun(reference, runsDirectory: runsDirectory, explicit: explicit))
    }

    /// Why a run was not found, and where to look instead.
    static func missingRun(_ reference: String, runsDirectory: String, explicit: Bool) -> String {
        if reference.lowercased().hasSuffix(".md") && FileManager.default.fileExists(atPath: reference) {
            return "\(reference) is a runbook, not a run; start a run of it with 'runsheet run \(reference)', or name one of its runs ('runsheet status' lists them)"
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: runsDirectory, isDirectory: &isDirectory), isDirectory.boolValue else {
            return "no run '\(reference)': the runs folder \(runsDirectory) does not exist; " +
                (explicit ? "check the --runs-dir path" : "pass --runs-dir (or set RUNSHEET_RUNS_DIR) with the folder your runs are in")
        }
        let list = explicit ? "'runsheet status --runs-dir \(runsDirectory)'" : "'runsheet status'"
        return "no run '\(reference)' in \(runsDirectory); \(list) lists the runs there" + (explicit ? "" : ", or pass --runs-dir for another folder")
    }
}
