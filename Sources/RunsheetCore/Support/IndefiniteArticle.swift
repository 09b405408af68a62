import Foundation

/// "a" or "an" before a role name in a sentence, by its first letter: "an operator", "a release-manager".
enum IndefiniteArticle {
    static func before(_ word: String) -> String {
        guard let first = word.lowercased().first else { return "a" }
        return "aeiou".contains(first) ? "an" : "a"
    }

    /// "a release-manager or sre", "an operator": the article and the roles joined with "or".
    static func roles(_ roles: [String]) -> String {
        before(roles.first ?? "") + " " + roles.joined(separator: " or ")
    }
}
