extension ShownText {
    /// The fields of run and readiness reports that hold a person's name: shown with the code
    /// points of look-alike letters in every format (Markdown, HTML, JSON, CSV, JUnit), as in
    /// `check`, `audit` and refusals (`PersonName.shownWithCodePoints`).
    static let personNameKeys: Set<String> = ["actor", "actors", "startedBy", "by", "owner", "signer"]
}
