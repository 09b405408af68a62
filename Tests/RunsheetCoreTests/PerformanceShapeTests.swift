import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// The fast paths must not change a byte: each is compared with the straightforward code it replaced.
@Suite struct PerformanceShapeTests {
    static let fixture = Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/runbooks/checkout-deploy.md")

    static func foundationJSON(_ runbook: Runbook) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(runbook), as: UTF8.self) + "\n"
    }

    static func chunkedJSON(_ runbook: Runbook, chunkSize: Int) -> String {
        var bytes: [UInt8] = []
        RunbookJSON.write(runbook, chunkSize: chunkSize) { bytes.append(contentsOf: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test(arguments: try Fixtures.corpusFiles() + [fixture])
    func jsonWriterMatchesJSONEncoder(file: URL) throws {
        let runbook = try Compiler().compile(path: file.path).runbook
        let expected = try Self.foundationJSON(runbook)
        #expect(try RunbookJSON.encode(runbook) == expected)
        #expect(Self.chunkedJSON(runbook, chunkSize: 1) == expected)
        #expect(Self.chunkedJSON(runbook, chunkSize: 4096) == expected)
    }

    @Test(arguments: try Fixtures.corpusFiles() + [fixture])
    func diagnosticsAloneMatchACompile(file: URL) throws {
        let compiler = Compiler()
        #expect(try compiler.diagnostics(path: file.path) == (try compiler.compile(path: file.path).diagnostics))
    }

    @Test func jsonWriterMatchesJSONEncoderWithEveryFieldSet() throws {
        let awkward = "quote \" backslash \\ slash / tab \t cr \r nl \n bell \u{7} nul \u{0} esc \u{1B} us \u{1F} del \u{7F} bs \u{8} ff \u{C} é ✓ 🚀 \u{2028}"
        var runbook = try Compiler().compile(path: Self.fixture.path).runbook
        var condition = try Condition.parse("region not in a, b and class is major")
        condition.text = awkward
        condition.clauses[0].values.append(awkward)
        (runbook.title, runbook.version, runbook.description, runbook.releaseClass) = (awkward, "1.2", awkward, .emergency)
        runbook.roles.append(awkward)
        // Every special byte at every offset of short strings: the escaper skips clean runs eight bytes at a time.
        for length in 1...20 {
            for offset in 0..<length {
                for special in ["\"", "\\", "\n", "\u{1}", "\u{1F}", "\u{7F}", "é", "/"] {
                    runbook.roles.append(String(repeating: "a", count: offset) + special + String(repeating: "b", count: length - offset - 1))
                }
            }
        }
        runbook.params[0].description = awkward
        runbook.params[1].defaultValue = nil
        runbook.params[1].choices = []
        runbook.sections[1].when = condition
        (runbook.sections[1].onFailure, runbook.sections[1].next, runbook.sections[1].parent) = (.continue, .section("x"), awkward)
        var step = runbook.steps[1]
        (step.id, step.title, step.body, step.checked, step.depth, step.boxOffset) = ("a/b", awkward, awkward, true, 3, 1234567)
        (step.section, step.parent, step.estimateSeconds, step.timeoutSeconds, step.when) = ("s", "p", 0, Int.max, condition)
        step.commands = [Command(language: "bash", shell: "bash", code: awkward, run: true, line: 9), Command(language: nil, shell: "sh", code: "", run: false, line: 10)]
        (step.retries, step.poll) = (Retries(count: 3, delaySeconds: 10), Poll(intervalSeconds: 5, limitSeconds: 120))
        (step.expectExit, step.expectOutput) = ([0, 3, 255], .contains(awkward))
        step.signOffs = [SignOffRule(count: 2, roles: ["sre", "dba"]), SignOffRule(count: 1, roles: [])]
        step.separation = [.starter, .executor]
        (step.onFailure, step.onReject, step.next, step.role) = (.section("rollback"), .abort, .end, "sre")
        (step.production, step.include, step.origin) = (true, "other.md", "x.md")
        (step.endLine, step.estimateLine, step.lessons) = (40, 38, [awkward, "drain first"])
        step.annotationAnchor = AnnotationAnchor(line: 39, prefixLine: 38, column: 5, verbatim: true)
        var plain = runbook.steps[0]
        (plain.expectOutput, plain.onReject, plain.expectExit, plain.commands) = (.regex("(ok|done)"), .continue, [], [])
        runbook.steps += [step, plain]
        runbook.edges.append(Edge(from: "a/b", to: nil, kind: .jump))
        let expected = try Self.foundationJSON(runbook)
        #expect(try RunbookJSON.encode(runbook) == expected)
        #expect(Self.chunkedJSON(runbook, chunkSize: 7) == expected)
        #expect(try RunbookJSON.decode(expected) == runbook)

        var empty = Fixtures.compile("").runbook
        empty.start = nil
        #expect(try RunbookJSON.encode(empty) == (try Self.foundationJSON(empty)))
    }

    // MARK: - Slugs

    /// `Slug` as it was before its ASCII fast paths.
    enum ReferenceSlug {
        static func githubAnchor(_ text: String) -> String {
            var out = String.UnicodeScalarView()
            for scalar in text.lowercased().unicodeScalars {
                switch scalar {
                case " ": out.append("-")
                case "-", "_": out.append(scalar)
                default:
                    switch scalar.properties.generalCategory {
                    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
                         .nonspacingMark, .spacingMark, .enclosingMark,
                         .decimalNumber, .letterNumber, .otherNumber:
                        out.append(scalar)
                    default:
                        break
                    }
                }
            }
            return String(out)
        }

        static func stepID(_ text: String, limit: Int = 48) -> String {
            var folded = ""
            for ch in githubAnchor(text) {
                if ch == "-" && (folded.isEmpty || folded.last == "-") { continue }
                folded.append(ch)
            }
            while folded.last == "-" { folded.removeLast() }
            guard folded.count > limit else { return folded }
            let cut = String(folded.prefix(limit + 1))
            if let hyphen = cut.lastIndex(of: "-"), cut.distance(from: cut.startIndex, to: hyphen) >= limit / 2 {
                return String(cut[..<hyphen])
            }
            var result = String(folded.prefix(limit))
            while result.last == "-" { result.removeLast() }
            return result
        }
    }

    /// Deterministic strings mixing ASCII with characters that lowercase, combine or count oddly.
    static func awkwardStrings(count: Int, asciiOnly: Bool = false) -> [String] {
        let all = ["a", "Z", "0", " ", "  ", "-", "--", "_", ".", "/", "(", "`", "\t", "\r\n", "\n", "é", "e\u{301}", " \u{301}",
                      "İ", "ß", "Σ", "ǅ", "Ⅻ", "½", "٣", "\u{A0}", "\u{3000}", "\u{85}", "\u{600}", "✓", "🚀", "🇩🇪", "👩‍👩‍👧",
                      "中文", "\u{200D}", "\u{FE0F}", "x", "Deploy", "the", "WORLD"]
        let pieces = asciiOnly ? all.filter { $0.utf8.allSatisfy { $0 < 0x80 } } : all
        var state: UInt64 = 0x9E3779B97F4A7C15
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        return (0..<count).map { _ in (0..<next(40)).map { _ in pieces[next(pieces.count)] }.joined() }
    }

    @Test func slugsMatchTheCharacterBasedOnes() throws {
        var texts = Self.awkwardStrings(count: 3000) + Self.awkwardStrings(count: 2000, asciiOnly: true)
        for file in try Fixtures.corpusFiles() {
            let runbook = try Compiler().compile(path: file.path).runbook
            texts += runbook.steps.map(\.title) + runbook.sections.map(\.title)
        }
        texts += ["ΟΔΟΣ ΣΑΣ", "ΣΑΣ-Σ.", "İstanbul Kelvin \u{212A}", "ǅemal ﬁx ẞ", "", "-", "---", String(repeating: "a", count: 49), String(repeating: "ab-", count: 40), "a" + String(repeating: "-b", count: 30)]
        for text in texts {
            #expect(Slug.githubAnchor(text) == ReferenceSlug.githubAnchor(text), "\(text.debugDescription)")
            for limit in [48, 32, 64, 5, 1] {
                #expect(Slug.stepID(text, limit: limit) == ReferenceSlug.stepID(text, limit: limit), "\(text.debugDescription) limit \(limit)")
            }
        }
    }
}
