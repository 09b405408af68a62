import Foundation
import Yams

/// Files kept in the repository's `.runsheet/` folder, found by walking up from a runbook.
public enum RepositoryFile {
    /// The nearest `relativePath` from `directory` upwards, stopping at a Git root.
    ///
    /// Plain strings and `access(2)`, not `URL` and `FileManager`: `check` asks this for every
    /// runbook it reads, and with Foundation the walk was a sixth of its time on the corpus.
    public static func locate(_ relativePath: String, from directory: String) -> String? {
        var components = absoluteComponents(of: directory)
        while true {
            let prefix = "/" + components.map { $0 + "/" }.joined()
            let candidate = prefix + relativePath
            if access(candidate, F_OK) == 0 { return candidate }
            if components.isEmpty || access(prefix + ".git", F_OK) == 0 { return nil }
            components.removeLast()
        }
    }

    /// The text of the nearest such file for a runbook, with its path, read with `loader` (the
    /// walk asks it for each candidate and each `.git`): what `locate` finds on disk when
    /// `loader` reads the disk. A file that is there but cannot be read or is not UTF-8 ends the
    /// walk with nothing.
    public static func load(_ relativePath: String, forRunbook path: String,
                            loader: Compiler.Loader = Compiler.disk) -> (path: String, text: String)? {
        let directory = (path as NSString).deletingLastPathComponent
        var components = absoluteComponents(of: directory)
        while true {
            let prefix = "/" + components.map { $0 + "/" }.joined()
            let candidate = prefix + relativePath
            switch Lookup(candidate, loader) {
            case .found(let bytes): return text(of: bytes).map { (candidate, $0) }
            case .unreadable: return nil
            case .absent: break
            }
            if components.isEmpty || Lookup(prefix + ".git", loader) != .absent { return nil }
            components.removeLast()
        }
    }

    /// A file's text as `String(contentsOfFile:encoding: .utf8)` reads it: without a leading
    /// byte order mark, and nil when it is not UTF-8.
    static func text(of bytes: [UInt8]) -> String? {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        return bytes.starts(with: bom) ? String(validating: bytes.dropFirst(3), as: UTF8.self) : String(validating: bytes, as: UTF8.self)
    }

    private static func absoluteComponents(of directory: String) -> [Substring] {
        let absolute = directory.hasPrefix("/") ? directory : FileManager.default.currentDirectoryPath + "/" + directory
        return PathText.normalized(absolute).split(separator: "/")
    }

    /// What a loader says about one path: a regular file, nothing there, or something it cannot read.
    private enum Lookup: Equatable {
        case found([UInt8])
        case absent
        case unreadable

        init(_ path: String, _ loader: Compiler.Loader) {
            do {
                self = .found(try loader(path))
            } catch FileReader.ReadError.notFound {
                self = .absent
            } catch {
                self = .unreadable
            }
        }
    }

    /// Composes YAML, turning a syntax error into a diagnostic at its position.
    static func compose(_ text: String, path: String, code: DiagnosticCode, what: String, into diagnostics: inout [Diagnostic]) -> Node? {
        do {
            guard let root = try Yams.compose(yaml: text) else {
                diagnostics.append(Diagnostic(.error, code, "the \(what) is empty", path: path, line: 1, column: 1))
                return nil
            }
            return root
        } catch let error as YamlError {
            let (message, line, column) = FrontMatter.describe(error)
            diagnostics.append(Diagnostic(.error, code, "the \(what) is not valid YAML: \(message)", path: path, line: line, column: column))
        } catch {
            diagnostics.append(Diagnostic(.error, code, "the \(what) is not valid YAML", path: path, line: 1, column: 1))
        }
        return nil
    }
}
