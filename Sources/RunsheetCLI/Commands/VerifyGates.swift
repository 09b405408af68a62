import Foundation
import RunsheetCore

/// Gates a run's journal records as done without the sign-offs their rule needed then
/// (`UnapprovedGates`), under the runbook as the run started and the rule files as they are now,
/// every signer counted as holding every role (readiness judges who holds which role).
enum VerifyGates {
    /// A completion the first runbook of the run did not allow under the rule files as they are now:
    /// the event's index and the run as the journal stood just before it.
    struct Unmet {
        var finding: UnapprovedGates.Finding
        var index: Int
        var before: RunState
    }

    /// The runbook file at the run's path as it is now: its SHA-256, and its runbook when it compiles.
    struct RunbookNow {
        var path: String
        var sha256: String
        var runbook: Runbook?

        /// Whether it is the first runbook `runbooks(of:)` lists for the run `state` ended as: the one
        /// the run last recorded, or the only one when the run recorded no commit to read another from.
        func isFirst(for state: RunState) -> Bool {
            runbook != nil && (sha256 == state.runbookSHA256 || VerifyGates.recordedCommit(state) == nil)
        }
    }

    static func runbookNow(of state: RunState, runDirectory: String) -> RunbookNow? {
        let path = RunSupport.runbookPath(of: state, runDirectory: runDirectory)
        guard let bytes = try? FileReader.read(path) else { return nil }
        let result = Compiler().compile(path: path, bytes: bytes)
        return RunbookNow(path: path, sha256: SHA256Hex.of(bytes), runbook: result.hasErrors ? nil : result.runbook)
    }

    /// The commit the run recorded (`+dirty` cut off), when it is a commit name Git takes as one
    /// and nothing else (hex digits, never an option); nil when it recorded none.
    static func recordedCommit(_ state: RunState) -> String? {
        guard let recorded = state.gitCommit, case let commit = String(recorded.prefix { $0 != "+" }), commit.count >= 7,
              commit.allSatisfy(\.isHexDigit) else { return nil }
        return commit
    }

    /// The runbook at `path` as the commit the run recorded held it (`git show`), when it compiles.
    static func runbookAtCommit(_ state: RunState, path: String) -> Runbook? {
        guard let commit = recordedCommit(state) else { return nil }
        let folder = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        guard let text = RunContext.gitOutput(["show", commit + ":./" + name], in: folder.isEmpty ? "." : folder) else { return nil }
        let result = Compiler().compile(path: path, bytes: Array((text + "\n").utf8))
        return result.hasErrors ? nil : result.runbook
    }

    /// The runbooks the run may have followed: the file as it is now when it is the one the run
    /// last recorded, and the file at the commit the run started from. A completion counts as
    /// unapproved only when none of them allowed it (a run changed midway follows the newer one).
    static func runbooks(of state: RunState, runDirectory: String, now: RunbookNow?? = nil) -> [Runbook] {
        let now = now ?? runbookNow(of: state, runDirectory: runDirectory)
        var found: [Runbook] = []
        if let now, now.sha256 == state.runbookSHA256, let runbook = now.runbook { found.append(runbook) }
        if let atCommit = runbookAtCommit(state, path: now?.path ?? RunSupport.runbookPath(of: state, runDirectory: runDirectory)) {
            found.append(atCommit)
        }
        if found.isEmpty, let runbook = now?.runbook { found.append(runbook) }
        return found
    }

    /// The completions no runbook of the run allowed, under the rule files as they are now nor as
    /// they were at the commit the run started from (a policy asking more approvers since does not
    /// make older gates unapproved); empty when its runbook cannot be read. Nothing is compiled
    /// when the journal records no step done, Git is asked only when the runbook as it is now
    /// cannot settle it, and the journal is replayed once, up to the last gate completion, only
    /// when it records one.
    static func findings(_ state: RunState, events: [RunEvent], runDirectory: String) -> [UnapprovedGates.Finding] {
        let completions = events.indices.dropFirst().filter { UnapprovedGates.isCompletion(events[$0]) }
        guard !completions.isEmpty else { return [] }
        let now = runbookNow(of: state, runDirectory: runDirectory)
        // The runbook as it is now is listed first: a completion of none of its gates is unapproved under no list.
        if let now, now.isFirst(for: state), let runbook = now.runbook {
            let gates = UnapprovedGates.gateIDs(of: runbook)
            guard completions.contains(where: { UnapprovedGates.isCompletion(events[$0], ofOneOf: gates) }) else { return [] }
        }
        let runbooks = runbooks(of: state, runDirectory: runDirectory, now: .some(now))
        guard let first = runbooks.first else { return [] }
        let gates = runbooks.map(UnapprovedGates.gateIDs(of:))
        let judged = completions.filter { index in gates.allSatisfy { UnapprovedGates.isCompletion(events[index], ofOneOf: $0) } }
        guard let last = judged.last else { return [] }
        let governance = signersHoldingRoles(Governance.load(for: first).0, events)
        var unmet: [Unmet] = []
        var replayed = RunState()
        var next = judged.startIndex
        for index in 0...last {
            if index == judged[next] {
                if let finding = UnapprovedGates.finding(for: events[index], before: replayed, runbook: first, governance: governance) {
                    unmet.append(Unmet(finding: finding, index: index, before: replayed))
                }
                next += 1
            }
            replayed.apply(events[index])
        }
        return confirmed(unmet, runbooks: runbooks, governance: governance, state: state, events: events)
    }

    /// Of the completions the first of `runbooks` did not allow under `governance`, those none of
    /// the others allowed either, nor any of them under the rule files at the recorded commit.
    static func confirmed(_ unmet: [Unmet], runbooks: [Runbook], governance: Governance, state: RunState, events: [RunEvent]) -> [UnapprovedGates.Finding] {
        guard let first = runbooks.first else { return [] }
        func unapproved(_ completion: Unmet, under governance: Governance) -> Bool {
            runbooks.allSatisfy { UnapprovedGates.finding(for: events[completion.index], before: completion.before, runbook: $0, governance: governance) != nil }
        }
        var common = unmet.filter { unapproved($0, under: governance) }
        if !common.isEmpty, let loader = loaderAtRecordedCommit(state, runbook: first.path) {
            let then = signersHoldingRoles(Governance.load(for: first, loader: loader).0, events)
            common = common.filter { unapproved($0, under: then) }
        }
        return common.map(\.finding)
    }

    /// Whether a signer held the role is readiness's question, under the roles as they are now
    /// (docs/JOURNAL.md): a sign-off counts here whoever holds the role, so an approver who left a
    /// role later does not turn the runs they approved into journals that fail.
    static func signersHoldingRoles(_ governance: Governance, _ events: [RunEvent]) -> Governance {
        var governance = governance
        if var roles = governance.roles {
            let signers = Set(events.lazy.filter { $0.type == .signOff }.map(\.actor))
            for role in roles.members.keys { roles.members[role, default: []] += signers.filter { !roles.holds($0, role) }.sorted() }
            governance.roles = roles
        }
        return governance
    }

    /// Reads the rule files as the repository held them at the commit the run recorded (Git's
    /// own files, which find the repository's root, from disk); nil without a recorded commit or
    /// outside Git. A file the commit does not hold reads as missing.
    private static func loaderAtRecordedCommit(_ state: RunState, runbook: String) -> Compiler.Loader? {
        guard let commit = recordedCommit(state) else { return nil }
        let folder = (runbook as NSString).deletingLastPathComponent
        guard let root = RunContext.gitRoot(of: folder.isEmpty ? "." : folder) else { return nil }
        let top = RunBinding.resolved(root)
        return { path in
            let name = (path as NSString).lastPathComponent
            let resolved = RunBinding.resolved(path)
            if name == ".git" || name == "HEAD" || path.contains("/.git/") || !resolved.hasPrefix(top + "/") { return try Compiler.disk(path) }
            let relative = String(resolved.dropFirst(top.count + 1))
            guard let bytes = GitCommand.bytes(["show", commit + ":" + relative], in: top) else { throw CocoaError(.fileReadNoSuchFile) }
            return bytes
        }
    }
}
