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
            if components.isEmpty || isRepositoryRoot(prefix, loader: Compiler.disk) { return nil }
            components.removeLast()
        }
    }

    /// The nearest such file for a runbook, read with `loader` (the walk asks it for each
    /// candidate and each `.git`: what `locate` finds on disk when `loader` reads the disk) and
    /// parsed with `parse`; nil when there is none. A file that is there but cannot be read (a
    /// directory, a broken link, no permission) or is not UTF-8 ends the walk with an error
    /// diagnostic, and `unusable` stands in for its contents: rules that cannot be read are never
    /// taken as no rules.
    static func load<Value>(_ relativePath: String, forRunbook path: String, code: DiagnosticCode, what: String,
                            loader: Compiler.Loader, parse: (_ path: String, _ text: String) -> (Value, [Diagnostic]),
                            unusable: (_ path: String) -> Value) -> (Value, [Diagnostic])? {
        let directory = (path as NSString).deletingLastPathComponent
        var components = absoluteComponents(of: directory)
        // Every such file up to the Git root: the top-most is the repository's; one below it would
        // let a folder override the repository's rules, so it is an error, never read.
        var found: [(path: String, reading: Reading)] = []
        while true {
            let prefix = "/" + components.map { $0 + "/" }.joined()
            let candidate = prefix + relativePath
            if let reading = read(candidate, code: code, what: what, loader: { try refuseLinkedRule($0); return try loader($0) }) { found.append((candidate, reading)) }
            if components.isEmpty || isRepositoryRoot(prefix, loader: loader) { break }
            components.removeLast()
        }
        guard let top = found.last else { return nil }
        let (value, problems) = top.reading.parsed(with: parse, unusable: unusable)
        var diagnostics = problems
        for nested in found.dropLast() {
            diagnostics.append(Diagnostic(.error, code, "this \(what) is below the repository's own \(top.path), which is the one that applies; a folder may not set rules of its own, so move its rules there and remove it",
                                          path: nested.path, line: 1, column: 1))
        }
        return (value, diagnostics)
    }

    /// Whether the folder `prefix` (ending in `/`) is a repository's root as Git sees it: its
    /// `.git` is a Git folder (one that holds `HEAD`), or a file saying `gitdir: PATH` of one (a
    /// worktree, a submodule). An empty or made-up `.git`, which Git itself refuses, makes no root:
    /// otherwise it would let a folder set rules of its own. (Git never commits a path named
    /// `.git`, so only a working copy's own files can try this.)
    static func isRepositoryRoot(_ prefix: String, loader: Compiler.Loader) -> Bool {
        func holdsHEAD(_ folder: String) -> Bool {
            if case .found = Lookup(folder + "/HEAD", loader) { return true }
            return false
        }
        switch Lookup(prefix + ".git", loader) {
        case .absent:
            return false
        case .unreadable:
            return holdsHEAD(prefix + ".git")
        case .found(let bytes):
            guard let text = text(of: bytes), text.hasPrefix("gitdir: ") else { return false }
            let target = text.dropFirst("gitdir: ".count).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !target.isEmpty else { return false }
            return holdsHEAD(target.hasPrefix("/") ? target : prefix + target)
        }
    }

    /// What reading one rule file gave: its text, or the error that says why there is none.
    enum Reading {
        case text(path: String, String)
        case problem(path: String, Diagnostic)

        func parsed<Value>(with parse: (String, String) -> (Value, [Diagnostic]), unusable: (String) -> Value) -> (Value, [Diagnostic]) {
            switch self {
            case .text(let path, let text): parse(path, text)
            case .problem(let path, let diagnostic): (unusable(path), [diagnostic])
            }
        }
    }

    /// Reads the rule file at `path`: nil when nothing is there.
    static func read(_ path: String, code: DiagnosticCode, what: String, loader: Compiler.Loader) -> Reading? {
        func problem(_ message: String, line: Int = 1, column: Int = 1) -> Reading {
            .problem(path: path, Diagnostic(.error, code, message, path: path, line: line, column: column))
        }
        switch Lookup(path, loader) {
        case .absent:
            return nil
        case .unreadable(let error):
            return problem("the \(what) cannot be read: \(reason(error, path: path))")
        case .found(let bytes):
            if let text = text(of: bytes) { return .text(path: path, text) }
            let offset = firstInvalidUTF8(in: bytes)
            let (line, column) = Compiler.position(of: offset, in: bytes)
            return problem(String(format: "the %@ is not UTF-8 (byte 0x%02X at byte offset %d); save it as UTF-8", what, bytes[offset], offset),
                           line: line, column: column)
        }
    }

    /// Why a file could not be read, after "cannot be read: ".
    static func reason(_ error: any Error, path: String) -> String {
        switch error as? FileReader.ReadError {
        case .brokenLink(_, let target)?: "it is a symbolic link to \(target), which does not exist"
        case .notRegularFile?: "it is \(FileReader.kind(of: path) ?? "not a regular file"), not a file"
        case .unreadable(_, let reason)?: reason
        default: (error as? LocalizedError)?.errorDescription ?? "\(error)"
        }
    }

    /// The offset of the first byte that is not UTF-8 (a NUL is UTF-8, so it is passed over).
    static func firstInvalidUTF8(in bytes: [UInt8]) -> Int {
        var start = 0
        while start < bytes.count {
            switch SourceFile.encodingProblem(in: Array(bytes[start...])) {
            case .invalidUTF8(let offset)?: return start + offset
            case .nulByte(let offset)?: start += offset + 1
            case nil: return bytes.count - 1
            }
        }
        return max(bytes.count - 1, 0)
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
    enum Lookup {
        case found([UInt8])
        case absent
        case unreadable(any Error)

        init(_ path: String, _ loader: Compiler.Loader) {
            do {
                self = .found(try loader(path))
            } catch FileReader.ReadError.notFound {
                self = .absent
            } catch {
                self = .unreadable(error)
            }
        }

        var isAbsent: Bool {
            if case .absent = self { return true }
            return false
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
