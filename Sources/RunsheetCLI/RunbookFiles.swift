import Foundation
import RunsheetCore

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
                result.problems.append("\(argument): no such file or directory" + hint(forMissing: argument))
                continue
            }
            guard isDirectory.boolValue else {
                result.paths.append(argument)
                continue
            }
            var found: [String] = []
            let base = URL(fileURLWithPath: argument)
            let prefix = base.path + "/"
            // Paths are shown the way the user named the folder, not as absolute URLs.
            let shown = { (url: URL) -> String in
                let path = url.path
                guard path.hasPrefix(prefix) else { return path }
                let relative = String(path.dropFirst(prefix.count))
                return argument.hasSuffix("/") ? argument + relative : argument + "/" + relative
            }
            let enumerator = manager.enumerator(
                at: base, includingPropertiesForKeys: [],
                options: [.skipsHiddenFiles],
                errorHandler: { url, error in
                    result.problems.append("\(shown(url)): cannot read: \(reason(opening: url.path, error))")
                    return true
                })
            while let url = enumerator?.nextObject() as? URL {
                // The enumerator marks directories (it does not follow symbolic links), so no stat is needed here.
                guard !url.hasDirectoryPath, url.pathExtension.lowercased() == "md" else { continue }
                found.append(shown(url))
            }
            result.paths += found.sorted()
        }
        return result
    }

    /// Why a folder the search met could not be read, in the system's words ("Permission
    /// denied"), as the compiler says it for files; Foundation's sentence when the folder opens now.
    private static func reason(opening path: String, _ error: any Error) -> String {
        guard let directory = opendir(path) else { return String(cString: strerror(errno)) }
        closedir(directory)
        return (error as NSError).localizedDescription
    }

    /// One sentence for a runbook that could not be read: what is wrong, and what to name instead.
    static func describe(_ error: any Error, path: String) -> String {
        switch error as? FileReader.ReadError {
        case .notFound?:
            // A broken symbolic link is its own error, which says where the link points.
            return "\(path): no such file" + hint(forMissing: path)
        case .notRegularFile?:
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { break }
            let example = runbooks(in: path).first.map { ", e.g. \(joined(path, $0))" } ?? ""
            return "\(path) is a folder; name one runbook file in it\(example) ('runsheet check \(path)' lints them all)"
        default:
            break
        }
        if let error = error as? LocalizedError, let description = error.errorDescription { return description }
        return "\(path): \(error)"
    }

    /// What to try instead of a path that does not exist: the runbook beside it with a close
    /// name, else what its folder holds, else that the folder is missing too.
    static func hint(forMissing path: String) -> String {
        let parent = (path as NSString).deletingLastPathComponent
        let folder = parent.isEmpty ? "this folder" : joined(parent, "")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: parent.isEmpty ? "." : parent, isDirectory: &isDirectory), isDirectory.boolValue else {
            return "; there is no folder \(folder) either (paths are relative to \(FileManager.default.currentDirectoryPath))"
        }
        let candidates = runbooks(in: parent.isEmpty ? "." : parent)
        if let near = closest(to: (path as NSString).lastPathComponent, in: candidates) {
            return "; did you mean \(joined(parent, near))?"
        }
        guard !candidates.isEmpty else { return "; \(folder) holds no *.md files" }
        let listed = candidates.prefix(6).joined(separator: ", ") + (candidates.count > 6 ? " and \(candidates.count - 6) more" : "")
        return "; \(folder) holds \(listed)"
    }

    /// The `*.md` files directly in a folder, sorted.
    static func runbooks(in folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { !$0.hasPrefix(".") && $0.lowercased().hasSuffix(".md") }
            .sorted()
    }

    /// A file name a typo away, with the same words in another order, or the only one holding every word.
    static func closest(to name: String, in candidates: [String]) -> String? {
        func words(_ text: String) -> Set<String> {
            Set(text.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init)).subtracting(["md"])
        }
        if let near = EditDistance.closest(to: name, in: candidates, maximum: max(2, name.count / 5)) { return near }
        let wanted = words(name)
        if let same = candidates.first(where: { words($0) == wanted }) { return same }
        let containing = candidates.filter { wanted.isSubset(of: words($0)) }
        return !wanted.isEmpty && containing.count == 1 ? containing[0] : nil
    }

    static func joined(_ folder: String, _ name: String) -> String {
        folder.isEmpty ? name : folder.hasSuffix("/") ? folder + name : folder + "/" + name
    }
}
