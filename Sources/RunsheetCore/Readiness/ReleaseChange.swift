/// What a release file's `change` key may not be.
enum ReleaseChange {
    /// `change: ~` (or `null`, or nothing after the colon): YAML's null. Read as text it became a
    /// reference "~" that no run names; read as no change record it would let every run count, so
    /// the release that meant to name one is refused instead.
    static let nullChange = "'change' is null, which names no change record; write the change record reference the release carries out, or leave the 'change' key out when it has none"
}
