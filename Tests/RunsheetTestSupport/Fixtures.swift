import Foundation
import RunsheetCore

/// Paths to the repository, the shared corpus and the built binary, for tests.
public enum Fixtures {
    /// The package root (the folder holding Package.swift).
    public static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }()

    /// `Tests/Corpus`: real-world checklists and runbooks, byte-identical copies (see its README).
    public static let corpus: URL = packageRoot.appendingPathComponent("Tests/Corpus")

    public static func corpusFiles() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: corpus, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "md" && $0.lastPathComponent != "README.md" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    /// Compiles Markdown text as if read from `path`.
    public static func compile(_ text: String, path: String = "test.md") -> CompileResult {
        Compiler().compile(path: path, bytes: Array(text.utf8))
    }
}
