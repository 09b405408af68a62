import Foundation

/// How runsheet compares the names of people: one rule, used wherever a rule depends on who
/// someone is (role membership, starter and executor separation, distinct signers, "already
/// signed", calendar exceptions, follow-up reviews).
///
/// The canonical form is `NFKC(caseFold(NFKC(trimmed)))`: surrounding whitespace removed,
/// Unicode compatibility composition (full-width `ＡＬＩＣＥ` is `ALICE`), then Unicode full
/// default case folding (`ß` is `ss`, dotted `İ` is `i̇`, `Σ` is `σ`) as Foundation's
/// `folding(options: .caseInsensitive, locale: nil)` does it, then NFKC again so the result is
/// stable. Two names are the same person when their canonical forms are equal.
public enum PersonName {
    public static func canonical(_ name: String) -> String {
        // Invisible characters (zero-width spaces and joiners, soft hyphens, bidi marks, blank
        // look-alikes such as the Braille blank: `drawsNothing`) would make one person look like two.
        var visible = String.UnicodeScalarView()
        visible.append(contentsOf: name.unicodeScalars.filter { !$0.drawsNothing })
        let composed = String(visible).trimmed.precomposedStringWithCompatibilityMapping
        return composed.folding(options: [.caseInsensitive], locale: nil).precomposedStringWithCompatibilityMapping
    }

    public static func same(_ a: String, _ b: String) -> Bool {
        a == b || canonical(a) == canonical(b)
    }
}
