import Foundation

extension Fixtures {
    /// A copy of the package's folder at `relative` in a temporary folder outside any Git
    /// repository: recorded runs there are checked against no repository's history, as in a
    /// shallow clone of this package the commits they record may be missing (docs/JOURNAL.md,
    /// "The recorded commit").
    public static func outsideRepository(_ relative: String) -> URL {
        let source = packageRoot.appendingPathComponent(relative)
        let copy = URL(fileURLWithPath: temporaryFile("runsheet-fixture")).appendingPathComponent(source.lastPathComponent)
        try? FileManager.default.createDirectory(at: copy.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? FileManager.default.copyItem(at: source, to: copy)
        return copy
    }
}
