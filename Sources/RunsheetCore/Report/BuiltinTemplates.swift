import RunsheetSkeletons

/// The default layouts of run, readiness and metrics reports by format: the files in
/// `templates/reports/`, embedded in the binary by SwiftPM (`.embedInCode`, through the
/// `Report/Layouts` link), and the runbook skeletons of `templates/runbooks/` by kind.
public enum BuiltinTemplates {
    public static let run: [String: String] = [
        "csv": text(PackageResources.run_csv_mustache),
        "html": text(PackageResources.run_html_mustache),
        "junit": text(PackageResources.run_junit_mustache),
        "md": text(PackageResources.run_md_mustache),
    ]

    public static let readiness: [String: String] = [
        "html": text(PackageResources.readiness_html_mustache),
        "md": text(PackageResources.readiness_md_mustache),
    ]

    public static let metrics: [String: String] = [
        "csv": text(PackageResources.metrics_csv_mustache),
        "html": text(PackageResources.metrics_html_mustache),
        "md": text(PackageResources.metrics_md_mustache),
    ]

    /// Skeletons by kind; partials (file names starting with `_`) are in `runbookPartials`.
    public static var runbooks: [String: String] { SkeletonFiles.kinds }
    /// Partials the skeletons share, by name (`{{> _front-matter}}`).
    public static var runbookPartials: [String: String] { SkeletonFiles.partials }

    private static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}
