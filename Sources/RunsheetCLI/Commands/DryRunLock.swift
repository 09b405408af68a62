import Foundation
import RunsheetCore

extension EnvironmentLocking {
    /// What `run --dry-run` says of the environment lock a real run would take (docs/FORMAT.md,
    /// "Environment locks"): that it would take it, or that it would be refused, exit 5, while
    /// another open run holds it, naming the lock, that run, who took it and since when. A look,
    /// not a decision: no guard is taken and nothing is written. No line for a runbook without
    /// production steps, which takes no lock.
    static func dryRunLines(for runbook: Runbook, values: [String: String], runsDirectory: String) -> [String] {
        let claim: LockClaim?
        do {
            claim = try self.claim(for: runbook, values: values)
        } catch let failure as CommandFailure {
            return ["a real run would be refused (exit \(failure.status.rawValue)): \(failure.message)"]
        } catch {
            return []
        }
        guard let claim else { return [] }
        // A lock parameter not given yet: which lock a real run takes depends on its value.
        let unknown = ["service", "environment"].filter { name in values[name] == nil && runbook.params.contains { $0.name == name } }
        if !unknown.isEmpty {
            return ["a real run would take the environment lock on the \(unknown.joined(separator: " and ")) its parameters name; give " +
                    unknown.map { "--param \($0)=…" }.joined(separator: " and ") + " to see whether another open run holds it"]
        }
        if let holder = LockFolder(runsDirectory: runsDirectory).conflicts(with: claim).first {
            return ["a real run would be refused (exit 5): " + refusal(claim, holder: holder, runsDirectory: runsDirectory, what: "it would start nothing")]
        }
        let shared = claim.mode == .shared ? ", shared with other concurrent runs," : ""
        return ["a real run would take the environment lock on \(claim.shownName)\(shared) and hold it until it ends: no other run with production steps on it may start meanwhile"]
    }
}
