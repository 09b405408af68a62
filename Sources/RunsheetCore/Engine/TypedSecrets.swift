/// Secret parameter values in what a person types (a note, a reason, a comment, an added step's
/// title), masked before any event holds them, as command output is (`ShellQuoting.mask`).
///
/// The session that drives a run holds the values and masks each of them. `sign` and `reject` run
/// in another process and know a secret only when it is given to them, in the environment variable
/// the run reads it from (`RUNSHEET_PARAM_<name>`), or by the digest the run recorded
/// (`SecretDigest`): each word of the text is checked against it, so a secret typed into a
/// comment is masked although the signer's process never had it.
public enum TypedSecrets {
    /// Shorter secrets are not masked in typed text: they would blot out ordinary words.
    public static let minimumLength = 4
    /// Words of one text checked against the digests, at most: each check is one scrypt (tens of
    /// milliseconds in a release build), and a comment longer than this is rare.
    public static let wordLimit = 32

    /// `text` with each of `values` (of at least `minimumLength` characters) masked, and each
    /// word that matches one of `digests`.
    public static func mask(_ text: String, values: [String], digests: [String] = []) -> String {
        var secrets = values.filter { $0.count >= minimumLength }
        if !digests.isEmpty {
            // One scrypt per word and digest, on all cores.
            let checks = words(in: ShellQuoting.mask(text, secrets: secrets)).prefix(wordLimit).flatMap { word in digests.map { (word, $0) } }
            let found = checks.parallelMap { SecretDigest.matches($0.0, $0.1) }
            secrets += zip(checks, found).filter(\.1).map(\.0.0)
        }
        return ShellQuoting.mask(text, secrets: secrets)
    }

    /// The words a secret could be, once each, in order: the text split at white space, each
    /// also without the quotes and punctuation around it, and the parts of `name=value` or
    /// `name: value`; none shorter than `minimumLength`.
    static func words(in text: String) -> [String] {
        var seen = Set<String>()
        var words: [String] = []
        func add(_ candidate: Substring) {
            let word = String(candidate)
            if word.count >= minimumLength, seen.insert(word).inserted { words.append(word) }
        }
        let edges: Set<Character> = ["\"", "'", "`", ".", ",", ";", ":", "!", "?", "(", ")", "[", "]", "{", "}", "<", ">"]
        func stripped(_ word: Substring) -> Substring {
            guard let first = word.firstIndex(where: { !edges.contains($0) }), let last = word.lastIndex(where: { !edges.contains($0) }) else { return "" }
            return word[first...last]
        }
        // Invisible characters, and non-ASCII punctuation and symbols (an em dash, a word joiner),
        // separate words too: a secret glued to one is still a word of its own.
        let separated = String(String.UnicodeScalarView(text.unicodeScalars.map { scalar -> Unicode.Scalar in
            let properties = scalar.properties
            let separates = properties.isDefaultIgnorableCodePoint
                || (scalar.value > 0x7F && !properties.isAlphabetic && properties.numericType == nil)
            return separates ? " " : scalar
        }))
        for word in separated.split(whereSeparator: \.isWhitespace) {
            add(word)
            let inner = stripped(word)
            add(inner)
            for part in inner.split(whereSeparator: { $0 == "=" || $0 == ":" }) where part.count < inner.count {
                add(part)
                add(stripped(part))
            }
        }
        return words
    }
}
