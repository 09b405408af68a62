import Foundation
import RunsheetCore

/// `.runsheet/config.yaml` as committed at `HEAD`: the floor for which store's halts a run kept
/// in a folder obeys. nil outside Git, or when no commit holds a config file on the way up from
/// the runbook to the Git root.
enum CommittedConfig {
    /// The `store:` of the nearest config file committed at `HEAD`, from the runbook's folder upwards.
    static func store(forRunbook runbook: String) -> String? {
        let start = (runbook as NSString).deletingLastPathComponent
        var folder = URL(fileURLWithPath: start.isEmpty ? "." : start).resolvingSymlinksInPath().path
        guard let top = GitCommand.output(["rev-parse", "--show-toplevel"], in: folder), !top.isEmpty else { return nil }
        while true {
            if let bytes = GitCommand.bytes(["show", "HEAD:./" + RepositoryConfig.relativePath], in: folder) {
                return RepositoryConfig.parse(path: RepositoryConfig.relativePath, text: String(decoding: bytes, as: UTF8.self)).0.store
            }
            if folder == top || folder == "/" || folder.isEmpty || !folder.hasPrefix(top) { return nil }
            folder = (folder as NSString).deletingLastPathComponent
        }
    }
}
