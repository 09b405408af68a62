import Foundation

/// Turns command-line paths into runbook files: directories are searched recursively for `*.md`.
enum RunbookFiles {
    struct Expansion {
        var paths: [String] = []
        /// One sentence per path that could not be used.
        var problems: [String] = []
    }

    static func expand(_ arguments: [String]) -> Expansion {
        var result = Expansion()
        let manager = FileManager.default
        for argument in arguments {
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: argument, isDirectory: &isDirectory) else {
                result.problems.append("\(argument): no such file or directory")
                continue
            }
            guard isDirectory.boolValue else {
                result.paths.append(argument)
                continue
            }
            var found: [String] = []
            let base = URL(fileURLWithPath: argument)
            let enumerator = manager.enumerator(
                at: base, includingPropertiesForKeys: [],
                options: [.skipsHiddenFiles],
                errorHandler: { url, error in
                    result.problems.append("\(url.path): cannot read: \((error as NSError).localizedDescription)")
                    return true
                })
            let prefix = base.path + "/"
            while let url = enumerator?.nextObject() as? URL {
                // The enumerator marks directories (it does not follow symbolic links), so no stat is needed here.
                guard !url.hasDirectoryPath, url.pathExtension.lowercased() == "md" else { continue }
                let path = url.path
                let relative = path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : url.lastPathComponent
                found.append(argument.hasSuffix("/") ? argument + relative : argument + "/" + relative)
            }
            result.paths += found.sorted()
        }
        return result
    }
}
