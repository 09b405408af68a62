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

    /// The completions no runbook of the run allowed; empty when its runbook cannot be read.
    static func findings(_ state: RunState, events: [RunEvent], runDirectory: String) -> [UnapprovedGates.Finding] {
        let runbooks = runbooks(of: state, runDirectory: runDirectory)
        guard let first = runbooks.first else { return [] }
        var governance = Governance.load(for: first).0
        // Whether a signer held the role is readiness's question, under the roles as they are now
        // (docs/JOURNAL.md): a sign-off counts here whoever holds the role today, so an approver
        // who left a role later does not turn the runs they approved into journals that fail.
        if var roles = governance.roles {
            let signers = Set(events.lazy.filter { $0.type == .signOff }.map(\.actor))
            for role in roles.members.keys { roles.members[role, default: []] += signers.filter { !(roles.holds($0, role)) }.sorted() }
            governance.roles = roles
        }
        var common = UnapprovedGates.find(events: events, runbook: first, governance: governance)
        for other in runbooks.dropFirst() where !common.isEmpty {
            let more = UnapprovedGates.find(events: events, runbook: other, governance: governance)
            common = common.filter { finding in more.contains { $0.seq == finding.seq } }
        }
        return common
    }
}
