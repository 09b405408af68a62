// The skeletons sit in a target of their own because SwiftPM names embedded files by file name
// alone, and templates/runbooks/readiness.md.mustache would collide with the readiness layout.

/// The runbook skeletons of `templates/runbooks/`, embedded by SwiftPM (`.embedInCode`, through
/// the `Skeletons` link). A new skeleton is a file there and a line here; a test checks the two agree.
public enum SkeletonFiles {
    /// Skeletons by kind (the file name without `.md.mustache`).
    public static let kinds: [String: String] = [
        "blue-green": text(PackageResources.blue_green_md_mustache),
        "canary": text(PackageResources.canary_md_mustache),
        "db-migration": text(PackageResources.db_migration_md_mustache),
        "emergency": text(PackageResources.emergency_md_mustache),
        "pir": text(PackageResources.pir_md_mustache),
        "readiness": text(PackageResources.readiness_md_mustache),
        "release-plan": text(PackageResources.release_plan_md_mustache),
        "rollback": text(PackageResources.rollback_md_mustache),
        "rolling": text(PackageResources.rolling_md_mustache),
        "upgrade": text(PackageResources.upgrade_md_mustache),
    ]

    /// Partials the skeletons include, by name (the file name without `.mustache`).
    public static let partials: [String: String] = [
        "_front-matter": text(PackageResources._front_matter_mustache),
    ]

    private static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
}
