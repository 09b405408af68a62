import Foundation
import RunsheetCore
import Testing

/// `sign` and `reject` know a secret only by the run's digest: they find it as a word. Found by
/// the adversary: glued to an invisible character or an em dash, it was no word, and stayed in clear.
@Suite struct TypedSecretsTests {
    @Test(arguments: ["\u{200B}zq9-hunter2-secret", "\u{2060}zq9-hunter2-secret\u{200D}", "x\u{2014}zq9-hunter2-secret", "«zq9-hunter2-secret»",
                      "token=zq9-hunter2-secret.", "zq9-hunter2-secret"])
    func aSecretGluedToInvisibleOrForeignPunctuationIsStillFound(text: String) throws {
        let digest = try SecretDigest.make("zq9-hunter2-secret")
        let masked = TypedSecrets.mask("see \(text) here", values: [], digests: [digest])
        #expect(!masked.contains("zq9-hunter2-secret"), "\(masked)")
        #expect(masked.contains("••••") && masked.hasPrefix("see ") && masked.hasSuffix(" here"), "\(masked)")
    }

    @Test func wordsOfOtherScriptsStayWhole() {
        let digest = try? SecretDigest.make("пароль-секрет")
        let masked = TypedSecrets.mask("код пароль-секрет готов", values: [], digests: [digest ?? ""])
        #expect(masked == "код •••• готов", "\(masked)")
    }
}
