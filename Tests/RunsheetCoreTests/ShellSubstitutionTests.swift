import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Placeholders in sh-family commands: what each quoting context gets, and hostile values run
/// through real shells to show they stay data.
@Suite struct ShellSubstitutionTests {
    static let reference = "${RUNSHEET_PARAM_x}"

    static func substitute(_ code: String, _ value: String = "VALUE", shell: String = "bash", secret: Bool = false) -> String {
        ShellSubstitution.substitute(code, shell: shell, values: ["x": PlaceholderValue(variable: "RUNSHEET_PARAM_x", value: value, secret: secret)])
    }

    @Test func eachContextGetsItsReference() {
        let cases: [(String, String)] = [
            ("echo {{x}}", #"echo "${RUNSHEET_PARAM_x}""#),
            ("echo {{ x }}-{{x}}", #"echo "${RUNSHEET_PARAM_x}"-"${RUNSHEET_PARAM_x}""#),
            (#"echo "a {{x}}""#, #"echo "a ${RUNSHEET_PARAM_x}""#),
            ("echo 'a {{x}}'", #"echo 'a '"${RUNSHEET_PARAM_x}"''"#),
            ("echo $'a\\'{{x}}'", #"echo $'a\''"${RUNSHEET_PARAM_x}"$''"#),
            (#"echo "say \"{{x}}\"""#, #"echo "say \"${RUNSHEET_PARAM_x}\"""#),
            (#"echo "$(echo '{{x}}')""#, #"echo "$(echo ''"${RUNSHEET_PARAM_x}"'')""#),
            (#"echo "$( (echo {{x}}) )""#, #"echo "$( (echo "${RUNSHEET_PARAM_x}") )""#),
            ("echo `echo '{{x}}'`", #"echo `echo ''"${RUNSHEET_PARAM_x}"''`"#),
            (#"echo "`echo {{x}} '{{x}}'`""#, #"echo "`echo \"${RUNSHEET_PARAM_x}\" ''\"${RUNSHEET_PARAM_x}\"''`""#),
            ("echo a # {{x}}'s", #"echo a # ${RUNSHEET_PARAM_x}'s"#),
            ("echo a#'{{x}}'", #"echo a#''"${RUNSHEET_PARAM_x}"''"#),
            (#"echo ${u-{{x}}} "${u-'{{x}}'}""#, #"echo ${u-"${RUNSHEET_PARAM_x}"} "${u-'${RUNSHEET_PARAM_x}'}""#),
            ("cat <<EOF\n'{{x}}' $(echo '{{x}}')\nEOF\necho {{x}}", "cat <<EOF\n'${RUNSHEET_PARAM_x}' $(echo ''\"${RUNSHEET_PARAM_x}\"'')\nEOF\necho \"${RUNSHEET_PARAM_x}\""),
            ("cat <<-'EOF'\n\t{{x}} $HOME\n\tEOF", "cat <<-'EOF'\n\tVALUE $HOME\n\tEOF"),
            ("cat <<\"EOF\" <<\\END\n{{x}}\nEOF\n{{x}}\nEND", "cat <<\"EOF\" <<\\END\nVALUE\nEOF\nVALUE\nEND"),
            (#"echo "a\{{x}}" \{{x}}"#, #"echo "a\\${RUNSHEET_PARAM_x}" "${RUNSHEET_PARAM_x}""#),
            ("cat <<<{{x}}", #"cat <<<"${RUNSHEET_PARAM_x}""#),
            ("echo {{unknown}} ${{ x }}", "echo {{unknown}} ${{ x }}"),
        ]
        for (code, expected) in cases {
            #expect(Self.substitute(code) == expected, "\(code)")
        }
    }

    @Test func quotedHereDocumentsTakeTheValueOnlyWhenItCannotEndThem() {
        let code = "cat <<'EOF'\n{{x}}\nEOF"
        #expect(Self.substitute(code, "one line") == "cat <<'EOF'\none line\nEOF")
        #expect(Self.substitute(code, "two\nlines") == "cat <<'EOF'\n\(Self.reference)\nEOF")
        #expect(Self.substitute(code, "EOF") == "cat <<'EOF'\n\(Self.reference)\nEOF")
        #expect(Self.substitute("x=$(cat <<'EOF'\n{{x}}\nEOF\n)", "EOF); touch M; (") == "x=$(cat <<'EOF'\n\(Self.reference)\nEOF\n)")
        // Inside an unquoted body the outer body's lines are read first: a value could end or join them.
        #expect(Self.substitute("cat <<OUT\n$(cat <<'IN'\n{{x}}\nIN\n)\nOUT") == "cat <<OUT\n$(cat <<'IN'\n\(Self.reference)\nIN\n)\nOUT")
        #expect(Self.substitute("cat <<-'EOF'\n\t{{x}}\nEOF", "\tEOF") == "cat <<-'EOF'\n\t\(Self.reference)\nEOF")
        #expect(Self.substitute(code, "s3cr3t", secret: true) == "cat <<'EOF'\n\(Self.reference)\nEOF")
        // After text this lexer may misread, no value is written into the command text at all.
        let afterCase = "y=$(case a in a) echo;; esac)\n" + code
        #expect(Self.substitute(afterCase) == "y=$(case a in a) echo;; esac)\ncat <<'EOF'\n\(Self.reference)\nEOF")
        let afterDollarQuote = "echo $'it\\'s'\n" + code
        #expect(Self.substitute(afterDollarQuote, shell: "bash").hasSuffix("\nVALUE\nEOF"))
        #expect(Self.substitute(afterDollarQuote, shell: "sh").hasSuffix("\n\(Self.reference)\nEOF"))
        // In dash `((` is two subshells and `<< 2` a here-document.
        let afterArithmetic = "(( y = 1 << 2 ))\n" + code
        #expect(Self.substitute(afterArithmetic, shell: "bash").hasSuffix("\nVALUE\nEOF"))
        #expect(Self.substitute(afterArithmetic, shell: "dash").hasSuffix("\n\(Self.reference)\nEOF"))
        // Inside `$(...)` bash ends a body at a line that starts with the delimiter, such as `EOF)`.
        #expect(Self.substitute("x=$(cat <<'EOF'\nEOF)\n{{x}}\nEOF\n)") == "x=$(cat <<'EOF'\nEOF)\n\(Self.reference)\nEOF\n)")
        #expect(Self.substitute("cat <<'EOF'\n{{x}}") == "cat <<'EOF'\n\(Self.reference)")
        // The body of an operator outside `$(...)` starts after the line, not at a newline inside it.
        #expect(Self.substitute("cat <<'EOF' $(echo\n)\n{{x}}\nEOF") == "cat <<'EOF' $(echo\n)\nVALUE\nEOF")
        // A backslash-newline before `#` leaves it a comment: its quote opens nothing.
        #expect(Self.substitute("echo a \\\n#it's\n" + code).hasSuffix("\nVALUE\nEOF"))
    }

    @Test func arithmeticTakesOnlyIntegers() throws {
        #expect(Self.substitute("echo $(( {{x}} + 1 ))", "41") == "echo $(( ${RUNSHEET_PARAM_x} + 1 ))")
        #expect(Self.substitute("(( {{x}} > 1 ))", "-3") == "(( ${RUNSHEET_PARAM_x} > 1 ))")
        #expect(Self.substitute("echo $(( {{x}} + 1 ))", "a[$(id)]") == "echo $(( 'x is not an integer' + 1 ))")
        let directory = try Fixtures.temporaryDirectory("arithmetic")
        let marker = directory.appendingPathComponent("M").path
        for shell in ["/bin/bash", "/bin/sh"] {
            let good = try Self.run(shell, "echo $(( {{x}} + 1 ))", value: "41", in: directory)
            #expect(good.stdout == "42\n", "\(shell)")
            let hostile = try Self.run(shell, "echo $(( {{x}} + 1 ))", value: "a[$(touch \(marker))]", in: directory)
            #expect(hostile.status != 0, "\(shell)")
            #expect(!FileManager.default.fileExists(atPath: marker), "\(shell)")
        }
    }

    @Test func otherShellsQuoteByTheirOwnRules() {
        let values = ["x": PlaceholderValue(variable: "RUNSHEET_PARAM_x", value: #"it's \ ‘q’"#)]
        #expect(ShellSubstitution.substitute("echo {{x}}", shell: "fish", values: values) == #"echo 'it\'s \\ ‘q’'"#)
        #expect(ShellSubstitution.substitute("echo {{x}}", shell: "pwsh", values: values) == #"echo 'it''s \ ‘‘q’’'"#)
        #expect(ShellSubstitution.substitute("echo {{x}}", shell: "tclsh", values: values) == #"echo 'it'\''s \ ‘q’'"#)
        #expect(ShellDialect(shell: "/usr/bin/zsh") == .bourne(extended: true))
        #expect(ShellDialect(shell: "dash") == .bourne(extended: false))
        #expect(ShellDialect(shell: "/opt/microsoft/powershell/7/pwsh") == .powerShell)
    }

    // MARK: - Hostile values through real shells

    /// A command with one placeholder and what it must print for a value.
    struct Template: Sendable, CustomTestStringConvertible {
        var name: String
        var code: String
        var bashOnly = false
        var expected: @Sendable (String) -> String

        var testDescription: String { name }
    }

    /// What a quoted here-document shows for a value: the value, or the reference where the value
    /// could end it (more than one line, or the start of a line that starts with the delimiter).
    static func quoted(_ value: String, alone: Bool = false) -> String {
        value.contains("\n") || (alone && value.hasPrefix("EOF")) ? reference : value
    }

    static let templates: [Template] = [
        Template(name: "bare", code: "printf '%s\\n' {{x}}") { $0 + "\n" },
        Template(name: "double quotes", code: "printf '%s\\n' \"hello {{x}}\"") { "hello \($0)\n" },
        Template(name: "single quotes", code: "printf '%s\\n' 'hello {{x}}'") { "hello \($0)\n" },
        Template(name: "dollar quotes", code: "printf '%s\\n' $'hello\\t{{x}}'", bashOnly: true) { "hello\t\($0)\n" },
        Template(name: "dollar quotes with an escaped quote", code: "printf '%s\\n' $'it\\'s {{x}}'", bashOnly: true) { "it's \($0)\n" },
        Template(name: "escaped double quotes", code: "printf '%s\\n' \"say \\\"{{x}}\\\"\"") { "say \"\($0)\"\n" },
        Template(name: "single quotes in $() in double quotes", code: "printf '%s\\n' \"$(printf '%s' '{{x}}')\"") { $0 + "\n" },
        Template(name: "nested parentheses in $()", code: "printf '%s\\n' \"$( (printf '%s' \"{{x}}\") )\"") { $0 + "\n" },
        Template(name: "backquotes in double quotes", code: "printf '%s\\n' \"`printf '%s' {{x}}`\"") { $0 + "\n" },
        Template(name: "single quotes in backquotes in double quotes", code: "printf '%s\\n' \"`printf '%s' 'a {{x}}'`\"") { "a \($0)\n" },
        Template(name: "escaped double quotes in backquotes", code: "printf '%s\\n' \"`printf '%s' \\\"a {{x}}\\\"`\"") { "a \($0)\n" },
        Template(name: "single quotes in backquotes", code: "y=`printf '%s' '{{x}}'`; printf '%s\\n' \"$y\"") { $0 + "\n" },
        Template(name: "comment", code: "printf '%s\\n' \"{{x}}\" # it's {{x}}\nprintf '%s\\n' '{{x}}'") { "\($0)\n\($0)\n" },
        Template(name: "parameter expansion", code: "printf '%s\\n' ${unset-{{x}}} \"${unset-{{x}}}\"") { "\($0)\n\($0)\n" },
        Template(name: "case pattern", code: "case {{x}} in \"{{x}}\") printf '%s\\n' same;; *) printf '%s\\n' other;; esac") { _ in "same\n" },
        Template(name: "test", code: "[ \"{{x}}\" = '{{x}}' ] && [ {{x}} = {{x}} ] && printf '%s\\n' same") { _ in "same\n" },
        Template(name: "here-document", code: "cat <<EOF\nhello {{x}} \"{{x}}\" '{{x}}'\nEOF") { "hello \($0) \"\($0)\" '\($0)'\n" },
        Template(name: "here-document with tabs", code: "cat <<-EOF\n\thello {{x}}\n\tEOF") { "hello \($0)\n" },
        Template(name: "here-document with $()", code: "cat <<EOF\n$(printf '%s' '{{x}}') and `printf '%s' \"{{x}}\"`\nEOF") { "\($0) and \($0)\n" },
        Template(name: "here-document with a continued line", code: "cat <<EOF\na\\\nEOF {{x}}\nEOF") { "aEOF \($0)\n" },
        Template(name: "quoted here-document", code: "cat <<'EOF'\nhello {{x}} $HOME `x`\nEOF") { "hello \(ShellSubstitutionTests.quoted($0)) $HOME `x`\n" },
        Template(name: "double-quoted here-document", code: "cat <<\"EOF\"\n{{x}}\nEOF") { ShellSubstitutionTests.quoted($0, alone: true) + "\n" },
        Template(name: "backslashed here-document", code: "cat <<\\EOF # it's\n{{x}}\nEOF") { ShellSubstitutionTests.quoted($0, alone: true) + "\n" },
        Template(name: "two here-documents", code: "cat <<A; cat <<'B'\n1 {{x}}\nA\n2 {{x}}\nB") { "1 \($0)\n2 \(ShellSubstitutionTests.quoted($0))\n" },
        Template(name: "quoted here-document in $() in double quotes", code: "printf '%s\\n' \"$(cat <<'EOF'\n{{x}}\nEOF\n)\"") { ShellSubstitutionTests.quoted($0, alone: true) + "\n" },
        Template(name: "here-document after a $() across lines", code: "cat <<'EOF' - $(true\n)\n{{x}}\nEOF\nprintf '%s\\n' '{{x}}'") {
            "\(ShellSubstitutionTests.quoted($0, alone: true))\n\($0)\n"
        },
        Template(name: "comment after a continued line", code: "printf '%s\\n' \"{{x}}\" \\\n#it's\nprintf '%s\\n' '{{x}}'") { "\($0)\n\($0)\n" },
        Template(name: "backslash before a placeholder", code: "printf '%s\\n' \"a\\{{x}}\" \\{{x}}") { "a\\\($0)\n\($0)\n" },
        Template(name: "here-string", code: "cat <<<\"{{x}}\"; cat <<<{{x}}", bashOnly: true) { "\($0)\n\($0)\n" },
    ]

    static func hostileValues(marker: String) -> [String] {
        [
            "$(touch \(marker))", "`touch \(marker)`", "\"; touch \(marker); \"", "' ; touch \(marker); '",
            "a\nEOF\ntouch \(marker)", "a\n\tEOF\ntouch \(marker)", "\\", "x\\", "*", "$'\\'' ; touch \(marker) #",
            "EOF", "EOF); touch \(marker); (", "}", ")", "-n", "%s", "", "héllo 日本", "$HOME ${IFS} ~ [a] ?",
        ]
    }

    static func run(_ shell: String, _ code: String, value: String, in directory: URL? = nil) throws -> ProcessResult {
        let script = substitute(code, value, shell: shell)
        return try Fixtures.run(shell, ["-c", script], environment: ["RUNSHEET_PARAM_x": value, "HOME": "/home/nobody"],
                                directory: directory, timeout: 30)
    }

    /// Pieces of shell, many of them unbalanced, that generated scripts are made of.
    static let fragments = [
        "echo {{x}}", "echo \"{{x}}\"", "echo '{{x}}'", "echo $'{{x}}\\''", "# c '{{x}}", "# \"", "cat <<E\n{{x}}\nE",
        "cat <<'E'\n{{x}}\nE", "cat <<-\"E\"\n\t{{x}}\n\tE", "x=$(case a in a) echo '{{x}}';; esac)", "echo \"$(echo \"{{x}}\")\"",
        "echo `echo '{{x}}'`", "echo \"`echo \\\"{{x}}\\\"`\"", "echo $(( 1 << 2 ))", "(( y = 1 << 2 ))", "echo ${u:-'{{x}}'}",
        "echo \"${u:-'{{x}}'}\"", "echo \\'", "echo \\\"", "echo '\\'", "cat <<<'{{x}}'", "echo \"a\\\\\"", ": <<'E' #\n{{x}}\nE",
        "echo \"", "\"", "echo '", "'", "$(", ")", "`", "echo $'", "\\", "{{x}}", "<<'E'", "<<E", "E", "(", "((", "))", "${", "}",
        "#", "case a in a)", ";;", "esac", "cat <<'E' <<F\n{{x}}\nE\n{{x}}\nF", "echo ${#}", "echo $#'", "echo \\`", "<<\\E",
        "cat << 'E'", "x=\"$(cat <<'E'\n{{x}}\nE\n)\"", "\t{{x}}", "$'\\''", "echo \"${u:-\"{{x}}\"}\"", "x=$(cat <<'E'\nhi\nE)",
        "E)", "<<-'E'", "\tE", "x=$(cat <<\\E\n{{x}}\nE\n)", "echo \"`cat <<'E'\n{{x}}\nE\n`\"", "f() { cat <<'E'; }\n{{x}}\nE",
        "EE", "x=`cat <<'E'\n{{x}}\nE`", "cat <<'E'\n", "\n{{x}}\n", "'{{x}}'", "\"{{x}}\"", "cat <<O\n$(cat <<'E'\n{{x}}\nE\n)\nO",
    ]

    /// Scripts joined from random fragments: whatever the lexer makes of them, a value written
    /// into the text (only ever in a quoted here-document) must never be run by the shell.
    @Test func generatedScriptsNeverRunAValue() throws {
        let directory = try Fixtures.temporaryDirectory("shell-substitution-generated")
        let marker = directory.appendingPathComponent("M").path
        // Values that do harm only when parsed as code, not when used as data anywhere.
        let values = ["$(touch \(marker))", "`touch \(marker)`", "' ; touch \(marker) ; '", "\" ; touch \(marker) ; \"",
                      "E); touch \(marker); ("]
        let separators = ["\n", " ", ";", "", "\n\n"]
        var random = SplitMix64(seed: 20_261_122)
        for _ in 0..<150 {
            var script = ""
            for _ in 0..<Int.random(in: 1...7, using: &random) {
                script += Self.fragments.randomElement(using: &random)! + separators.randomElement(using: &random)!
            }
            for shell in ["/bin/bash", "/bin/sh"] {
                for value in values {
                    _ = try Self.run(shell, script, value: value, in: directory)
                    #expect(!FileManager.default.fileExists(atPath: marker), "\(shell) ran \(value.debugDescription) from \(script.debugDescription)")
                    try? FileManager.default.removeItem(atPath: marker)
                }
            }
        }
    }

    @Test(arguments: templates) func hostileValuesStayData(_ template: Template) throws {
        let directory = try Fixtures.temporaryDirectory("shell-substitution")
        let marker = directory.appendingPathComponent("M").path
        for shell in template.bashOnly ? ["/bin/bash"] : ["/bin/bash", "/bin/sh"] {
            for value in Self.hostileValues(marker: marker) {
                let result = try Self.run(shell, template.code, value: value, in: directory)
                let shown = "\(shell) \(value.debugDescription): \(Self.substitute(template.code, value, shell: shell).debugDescription)"
                #expect(!FileManager.default.fileExists(atPath: marker), "\(shown) created the marker")
                #expect(result.stdout == template.expected(value), "\(shown)\n\(result.stderr)")
                #expect(result.status == 0 && result.stderr.isEmpty, "\(shown)\n\(result.stderr)")
                try? FileManager.default.removeItem(atPath: marker)
            }
        }
    }
}

/// A small seeded generator, so generated scripts are the same on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
