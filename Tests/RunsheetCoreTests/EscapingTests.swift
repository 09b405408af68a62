import Foundation
@testable import RunsheetCore
import RunsheetTestSupport
import Testing

/// The one escaping function, the Markdown escapes built on it, the input check and the
/// masking of secrets in typed text, value by value.
@Suite struct EscapingTests {
    @Test func controlCharactersAreWrittenOut() {
        #expect(ShownText.escaped("a\u{1B}[8mb") == "a\\x1b[8mb")
        #expect(ShownText.escaped("one\ntwo\tthree\rfour\u{7F}\u{0}") == "one\\ntwo\\tthree\\rfour\\x7f\\x00")
        #expect(ShownText.escaped("csi\u{9B}31m nel\u{85}") == "csi\\u009b31m nel\\u0085")
        #expect(ShownText.escaped("one\ntwo\tthree\u{1B}", keepingLineBreaks: true) == "one\ntwo\tthree\\x1b")
        // Text without control characters is the same string; other Unicode is left alone.
        #expect(ShownText.escaped("Ålesund → 発布 🚀 \\x1b") == "Ålesund → 発布 🚀 \\x1b")
        #expect("mallory\nforged".shown == "mallory\\nforged")
    }

    @Test func bidirectionalOverridesAndIsolatesAreWrittenOut() {
        #expect(ShownText.escaped("\u{202E}moc.elpmaxe@ecila") == "\\u202emoc.elpmaxe@ecila")
        #expect(ShownText.escaped("a\u{2066}b\u{2069}c\u{202A}") == "a\\u2066b\\u2069c\\u202a")
        #expect(ShownText.escaped("שלום \u{200F}ok") == "שלום \u{200F}ok", "a right-to-left mark reorders nothing and is left alone")
        #expect(TypedText.refusal("\u{202E}x", as: .name, what: "the name") != nil)
    }

    @Test func markdownCellsShowHTMLAndTableSyntaxAsText() {
        #expect(MarkdownText.cell("<script>alert(1)</script> | x") == "&lt;script&gt;alert(1)&lt;/script&gt; \\| x")
        #expect(MarkdownText.cell("a & b\\|c\nd\u{1B}") == "a &amp; b\\\\\\|c d\\\\x1b")
        #expect(MarkdownText.inline("<img src=x onerror=alert(1)> | \u{1B}[8m") == "&lt;img src=x onerror=alert(1)&gt; | \\x1b[8m")
    }

    @Test func typedTextIsCheckedByKind() {
        #expect(TypedText.refusal("Alice Ørsted <alice@example.com>", as: .name, what: "x") == nil)
        #expect(TypedText.refusal("a\nb", as: .name, what: "the name given with --as")?.hasPrefix("the name given with --as holds a line break;") == true)
        #expect(TypedText.refusal("a\tb", as: .title, what: "the step's title")?.hasPrefix("the step's title holds a tab;") == true)
        #expect(TypedText.refusal("line one\n\tline two", as: .text, what: "the note") == nil)
        #expect(TypedText.refusal("bell\u{7}", as: .text, what: "the note")?.hasPrefix("the note holds the control character \\x07;") == true)
        #expect(TypedText.refusal("\u{9B}2J", as: .text, what: "the note")?.hasPrefix("the note holds the control character \\u009b;") == true)
    }

    @Test func typedSecretsAreMaskedByValueOrByDigest() throws {
        #expect(TypedSecrets.mask("token abcd and abc", values: ["abcd", "abc"]) == "token •••• and abc")
        let digest = try SecretDigest.make("s3cr3t-T0ken")
        #expect(TypedSecrets.mask("set token=s3cr3t-T0ken, then \"s3cr3t-T0ken\".", values: [], digests: [digest])
                    == "set token=••••, then \"••••\".")
        #expect(TypedSecrets.mask("nothing secret here", values: [], digests: [digest]) == "nothing secret here")
    }

    @Test func aReportWithoutControlCharactersIsUnchangedByEscaping() throws {
        let runbook = Fixtures.compile("# T\n\n- [ ] One\n- [ ] Two\n").runbook
        let started = try RunEvent(time: "2026-11-22T04:55:01.123Z", by: Actor(name: "alice\u{1B}[8m", host: "h", via: "script"),
                                   .runStarted(RunStarted(runId: "r", runbook: "t.md", runbookId: "t", title: "T\u{7}", sha256: "x",
                                                          params: ["p": "v\nw"], runsheetVersion: "0", start: "one")))
        let (sealed, _) = try JournalFile.seal(started, seq: 1, after: "")
        let report = RunReport.make(events: [sealed], runbook: runbook, currentSHA256: "x")
        // A name also shows the code points of what is not printable ASCII, as everywhere names are compared.
        #expect(report.run.startedBy == "alice\\x1b[8m (U+001B at 6)")
        #expect(report.run.title == "T\\x07")
        #expect(report.run.params == ["p": "v\\nw"])
        #expect(report.steps.map(\.title) == ["One", "Two"])
    }
}
