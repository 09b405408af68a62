import Foundation
import RunsheetCore

/// Gates a run's journal records as done without the sign-offs their rule needed then
/// (`UnapprovedGates`), under the runbook as the run started and the rule files as they are now,
/// every signer counted as holding every role (readiness judges who holds which role).
enum VerifyGates {
    /// The runbooks the run may have followed: the file as it is now when it is the one the run
    /// last recorded, and the file at the commit the run started from. A completion counts as
    /// unapproved only when none of them allowed it (a run changed midway follows the newer one).
    static func runbooks(of state: RunState, runDirectory: String) -> [Runbook] {
        let path = RunSupport.runbookPath(of: state, runDirectory: runDirectory)
        var found: [Runbook] = []
        if let bytes = try? FileReader.read(path), SHA256Hex.of(bytes) == state.runbookSHA256 {
            let result = Compiler().compile(path: path, bytes: bytes)
            if !result.hasErrors { found.append(result.runbook) }
        }
        if let recorded = state.gitCommit, case let commit = String(recorded.prefix { $0 != "+" }), !commit.isEmpty {
            let folder = (path as NSString).deletingLastPathComponent
            let name = (path as NSString).lastPathComponent
            if let text = RunContext.gitOutput(["show", commit + ":./" + name], in: folder.isEmpty ? "." : folder) {
                let result = Compiler().compile(path: path, bytes: Array((text + "\n").utf8))
                if !result.hasErrors { found.append(result.runbook) }
            }
        }
        if found.isEmpty, let bytes = try? FileReader.read(path) {
            let result = Compiler().compile(path: path, bytes: bytes)
            if !result.hasErrors { found.append(result.runbook) }
        }
        return found
    }

    /// The completions no runbook of the run allowed, under the rule files as they are now nor as
    /// they were at the commit the run started from (a policy asking more approvers since does not
    /// make older gates unapproved); empty when its runbook cannot be read.
    static func findings(_ state: RunState, events: [RunEvent], runDirectory: String) -> [UnapprovedGates.Finding] {
        let runbooks = runbooks(of: state, runDirectory: runDirectory)
        guard let first = runbooks.first else { return [] }
        var common = findings(events, runbooks: runbooks, governance: signersHoldingRoles(Governance.load(for: first).0, events))
        if !common.isEmpty, let loader = loaderAtRecordedCommit(state, runbook: first.path) {
            let then = signersHoldingRoles(Governance.load(for: first, loader: loader).0, events)
            let allowedThen = findings(events, runbooks: runbooks, governance: then)
            common = common.filter { finding in allowedThen.contains { $0.seq == finding.seq } }
        }
        return common
    }

    /// The completions none of `runbooks` allowed under `governance`.
    private static func findings(_ events: [RunEvent], runbooks: [Runbook], governance: Governance) -> [UnapprovedGates.Finding] {
        guard let first = runbooks.first else { return [] }
        var common = UnapprovedGates.find(events: events, runbook: first, governance: governance)
        for other in runbooks.dropFirst() where !common.isEmpty {
            let more = UnapprovedGates.find(events: events, runbook: other, governance: governance)
            common = common.filter { finding in more.contains { $0.seq == finding.seq } }
        }
        return common
    }

    /// Whether a signer held the role is readiness's question, under the roles as they are now
    /// (docs/JOURNAL.md): a sign-off counts here whoever holds the role, so an approver who left a
    /// role later does not turn the runs they approved into journals that fail.
    private static func signersHoldingRoles(_ governance: Governance, _ events: [RunEvent]) -> Governance {
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
        guard let recorded = state.gitCommit, case let commit = String(recorded.prefix { $0 != "+" }), commit.count >= 7,
              commit.allSatisfy(\.isHexDigit) else { return nil }
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
