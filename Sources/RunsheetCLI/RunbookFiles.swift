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
                at: base, includingPropertiesForKeys: [.isRegularFileKey, .isDirectoryKey],
                options: [.skipsHiddenFiles],
                errorHandler: { url, error in
                    result.problems.append("\(url.path): cannot read: \((error as NSError).localizedDescription)")
                    return true
                })
            while let url = enumerator?.nextObject() as? URL {
                guard url.pathExtension.lowercased() == "md" else { continue }
                let values = try? url.resourceValues(forKeys: [.isDirectoryKey])
                if values?.isDirectory == true { continue }
                let relative = url.path.hasPrefix(base.path + "/") ? String(url.path.dropFirst(base.path.count + 1)) : url.lastPathComponent
                found.append(argument.hasSuffix("/") ? argument + relative : argument + "/" + relative)
            }
            result.paths += found.sorted()
        }
        return result
    }
}
