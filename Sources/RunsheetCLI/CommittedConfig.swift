import Foundation
import RunsheetCore

/// `.runsheet/config.yaml` as committed at `HEAD`: the floor for which store's halts a run obeys
/// besides those of where it is kept. nil outside Git, or when no commit holds a config file on
/// the way up from the runbook to the Git root.
enum CommittedConfig {
    /// The nearest config file committed at `HEAD`, from the runbook's folder upwards, parsed; its
    /// path is from the Git root. One committed as something other than a file (a folder, a link),
    /// or whose bytes are not UTF-8 or not a valid config, comes with an error diagnostic.
    static func read(forRunbook runbook: String) -> (path: String, config: RepositoryConfig, problems: [Diagnostic])? {
        let start = (runbook as NSString).deletingLastPathComponent
        var folder = URL(fileURLWithPath: start.isEmpty ? "." : start).resolvingSymlinksInPath().path
        guard let top = GitReading.of(folder).top else { return nil }
        while true {
            // "MODE TYPE OBJECT\tPATH": what HEAD holds at the path, a file or not.
            if let entry = GitCommand.output(["ls-tree", "HEAD", "--", RepositoryConfig.relativePath], in: folder), !entry.isEmpty {
                let path = PathText.relative(folder + "/" + RepositoryConfig.relativePath, from: top)
                let fields = entry.split(separator: "\t", maxSplits: 1)[0].split(separator: " ")
                guard fields.count == 3, fields[1] == "blob", fields[0] == "100644" || fields[0] == "100755",
                      let bytes = GitCommand.bytes(["cat-file", "blob", String(fields[2])], in: folder) else {
                    let kind = fields.count == 3 && fields[0] == "120000" ? "a symbolic link" : fields.count == 3 && fields[1] == "tree" ? "a folder" : "something other than a file"
                    return (path, RepositoryConfig(path: path), [Diagnostic(.error, .configFile, "the config file is committed as \(kind), not a file", path: path, line: 1, column: 1)])
                }
                let (config, problems) = RepositoryConfig.parse(path: path, bytes: bytes)
                return (path, config, problems)
            }
            if folder == top || folder == "/" || folder.isEmpty || !folder.hasPrefix(top) { return nil }
            folder = (folder as NSString).deletingLastPathComponent
        }
    }
}
