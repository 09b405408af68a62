import Foundation
import RunsheetCore
import Testing

@Suite struct PersonNameTests {
    @Test(arguments: [
        ("alice@example.com", "ALICE@example.com"),
        ("alice@example.com", "Alice@Example.com"),
        ("alice@example.com", " alice@example.com\t"),
        ("alice@example.com", "ａｌｉｃｅ@ｅｘａｍｐｌｅ.ｃｏｍ"),  // full-width letters
        ("strasse", "Straße"),
        ("STRASSE", "straße"),
        ("i̇stanbul", "İstanbul"),  // dotted capital I folds to i + U+0307
        ("σας", "ΣΑΣ"),
        ("ǆ", "ǅ"),
        ("e\u{301}", "é"),  // decomposed and precomposed
    ])
    func sameNameInEveryDisguise(_ pair: (String, String)) {
        #expect(PersonName.same(pair.0, pair.1), "\(pair.0) vs \(pair.1)")
        #expect(PersonName.canonical(pair.0) == PersonName.canonical(pair.1))
    }

    @Test(arguments: [
        ("alice@example.com", "alice@example.org"),
        ("alice", "alicé"),
        ("istanbul", "İstanbul"),  // dotless and dotted i stay apart
        ("bob", "b0b"),
    ])
    func differentPeopleStayDifferent(_ pair: (String, String)) {
        #expect(!PersonName.same(pair.0, pair.1), "\(pair.0) vs \(pair.1)")
    }

    @Test func canonicalIsStable() {
        for name in ["Straße", "İstanbul", "ＡＬＩＣＥ", "ǅemal", "ﬀ", "Ω"] {
            let once = PersonName.canonical(name)
            #expect(PersonName.canonical(once) == once, "\(name)")
        }
        #expect(PersonName.canonical("  Alice@Example.COM ") == "alice@example.com")
    }
}
