import Foundation

/// Paths as text, without touching the file system.
public enum PathText {
    /// `a/../b/./c.md` as `b/c.md`: `.` dropped and `..` taken back where it can be (at the root
    /// of an absolute path it is the root itself), symbolic links left alone. The path a person
    /// would type; `.` when nothing is left of a relative path.
    public static func normalized(_ path: String) -> String {
        let absolute = path.hasPrefix("/")
        var parts: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            if part == "." { continue }
            if part == ".." {
                if let last = parts.last, last != ".." {
                    parts.removeLast()
                    continue
                }
                if absolute { continue }
            }
            parts.append(part)
        }
        let joined = parts.joined(separator: "/")
        return absolute ? "/" + joined : joined.isEmpty ? "." : joined
    }

    /// `path` as seen from `folder` (`../.runsheet/roles.yaml`), both taken from the current
    /// folder when relative; `path` itself when it is `folder`.
    public static func relative(_ path: String, from folder: String) -> String {
        func components(_ text: String) -> [Substring] {
            let absolute = text.hasPrefix("/") ? text : FileManager.default.currentDirectoryPath + "/" + text
            return normalized(absolute).split(separator: "/")
        }
        let target = components(path), base = components(folder.isEmpty ? "." : folder)
        let shared = zip(target, base).prefix { $0 == $1 }.count
        let parts = Array(repeating: Substring(".."), count: base.count - shared) + target.dropFirst(shared)
        return parts.isEmpty ? "." : parts.joined(separator: "/")
    }
}
