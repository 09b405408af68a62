import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// Where parameter values come from, whether they fit, and which variable carries them.
@Suite struct RunParametersTests {
    static let runbook = Fixtures.compile("""
        ---
        params:
          a: {}
          b: { default: from-default }
          db-host: {}
          db_host: { default: plain }
          größe: {}
          token: { secret: true }
        ---
        # P
        - [ ] uses {{a}} {{b}} {{db-host}} {{db_host}} {{größe}} {{token}}
        """, path: "p.md").runbook

    @Test func eachSourceBeatsTheNext() throws {
        let parameters = RunParameters(Self.runbook)
        var asked: [String] = []
        let environment = ["RUNSHEET_PARAM_a": "env", "RUNSHEET_PARAM_b": "env"]
        let recorded = ["a": "recorded", "b": "recorded", "db-host": "recorded", "token": "••••"]
        let values = try parameters.resolve(given: ["a": "option"], environment: environment, recorded: recorded) { parameter, _ in
            asked.append(parameter.name)
            return "answer"
        }
        #expect(values == ["a": "option", "b": "env", "db-host": "recorded", "db_host": "plain", "größe": "answer", "token": "answer"])
        #expect(asked == ["größe", "token"], "a masked secret in the record is no value: it is asked for again")
        let noEnvironment = try parameters.resolve(given: [:], environment: [:], recorded: recorded) { _, _ in "answer" }
        #expect(noEnvironment["a"] == "recorded" && noEnvironment["b"] == "recorded")
        let noRecord = try parameters.resolve(given: [:], environment: [:]) { _, _ in "answer" }
        #expect(noRecord["b"] == "from-default" && noRecord["a"] == "answer")
    }

    /// A prompt that keeps getting answers that do not fit asks `attempts` times, each time with
    /// the reason, then gives up with it; an empty value never fits a parameter without a default.
    @Test func aPromptAsksAgainWithTheReasonThenGivesUp() throws {
        let parameters = RunParameters(Self.runbook)
        var problems: [String?] = []
        #expect(throws: ParameterError.unfit(name: "a", runbookPath: "p.md", source: .answer,
                                             problem: "it is empty, and it has no default, so it needs a value", choices: false)) {
            try parameters.resolve(given: [:], environment: [:]) { parameter, problem in
                guard parameter.name == "a" else { return "x" }
                problems.append(problem)
                return ""
            }
        }
        #expect(problems.count == RunParameters.attempts)
        #expect(problems.first == .some(nil) && problems.dropFirst().allSatisfy { $0 == "it is empty, and it has no default, so it needs a value" })
        #expect(throws: ParameterError.self) { try parameters.resolve(given: ["a": ""], environment: [:], ask: nil) }
        #expect(try parameters.resolve(given: ["b": ""], environment: [:], lenient: true, ask: nil)["b"] == "", "a parameter with a default may be empty")
    }

    /// Input reads a value from the variable a command finds it in, even where names collide.
    @Test func inputReadsTheVariableCommandsSee() throws {
        let parameters = RunParameters(Self.runbook)
        #expect(parameters.variables["db-host"] == "RUNSHEET_PARAM_db_host_2")
        #expect(parameters.variables["db_host"] == "RUNSHEET_PARAM_db_host")
        #expect(parameters.variables["größe"] == "RUNSHEET_PARAM_gr__e")
        let environment = ["RUNSHEET_PARAM_db_host_2": "hyphen", "RUNSHEET_PARAM_db_host": "underscore", "RUNSHEET_PARAM_gr__e": "42",
                           "RUNSHEET_PARAM_größe": "old spelling", "RUNSHEET_PARAM_a": "x", "RUNSHEET_PARAM_token": "t"]
        let values = try parameters.resolve(given: [:], environment: environment, ask: nil)
        #expect(values["db-host"] == "hyphen" && values["db_host"] == "underscore" && values["größe"] == "42")
        #expect(throws: ParameterError.missing(name: "größe", prompt: nil, runbookPath: "p.md", variable: "RUNSHEET_PARAM_gr__e")) {
            try parameters.resolve(given: [:], environment: environment.filter { $0.key != "RUNSHEET_PARAM_gr__e" }, ask: nil)
        }
        let lenient = try parameters.resolve(given: [:], environment: [:], lenient: true, ask: nil)
        #expect(lenient == ["b": "from-default", "db_host": "plain"])
    }

    @Test func unknownAndMissingParametersAreSentences() {
        let parameters = RunParameters(Self.runbook)
        let unknown = ParameterError.unknown(name: "zz", runbookTitle: "P", declared: ["a", "b", "db-host", "db_host", "größe", "token"])
        #expect(throws: unknown) { try parameters.resolve(given: ["zz": "1"], environment: [:], ask: nil) }
        #expect(unknown.errorDescription == "unknown parameter 'zz'; P declares a, b, db-host, db_host, größe, token")
        #expect(ParameterError.missing(name: "db-host", prompt: "Database", runbookPath: "p.md", variable: "RUNSHEET_PARAM_db_host_2").errorDescription
            == "missing parameter 'db-host' (Database) of p.md: pass --param db-host=VALUE or set RUNSHEET_PARAM_db_host_2")
    }

    /// A secret's value is never part of a message, whichever check it fails; another value is.
    @Test func aSecretNeverAppearsInAValidationError() throws {
        let runbook = Fixtures.compile("""
            ---
            params:
              count: { type: int, secret: true }
              ratio: { type: number, secret: true }
              flag: { type: bool, secret: true }
              pick: { choices: [red, blue], secret: true }
              code: { pattern: '[0-9]+', secret: true }
              plain: { type: int }
            ---
            # S
            - [ ] uses {{count}} {{ratio}} {{flag}} {{pick}} {{code}} {{plain}}
            """, path: "s.md").runbook
        let parameters = RunParameters(runbook)
        let valid = ["count": "1", "ratio": "0.5", "flag": "yes", "pick": "red", "code": "7", "plain": "2"]
        #expect(try parameters.resolve(given: valid, environment: [:], ask: nil) == valid)
        let secret = "hunter2-S3CRET"
        for name in ["count", "ratio", "flag", "pick", "code"] {
            var given = valid
            given[name] = secret
            for (option, environment) in [(given, [String: String]()), (valid.filter { $0.key != name }, ["RUNSHEET_PARAM_\(name)": secret])] {
                do {
                    _ = try parameters.resolve(given: option, environment: environment, ask: nil)
                    Issue.record("\(name): \(secret) was accepted")
                } catch {
                    let message = error.errorDescription ?? ""
                    #expect(message.hasPrefix("parameter '\(name)' of s.md (from "), "\(message)")
                    #expect(message.contains("'••••'") && !message.contains(secret) && !message.contains("S3CRET"), "\(message)")
                }
            }
            #expect(RunParameters.problem(with: secret, for: try #require(runbook.params.first { $0.name == name }))?.contains(secret) == false)
        }
        #expect(throws: ParameterError.unfit(name: "plain", runbookPath: "s.md", source: .option, problem: "'x1' is not a whole number", choices: false)) {
            try parameters.resolve(given: valid.merging(["plain": "x1"]) { $1 }, environment: [:], ask: nil)
        }
        #expect(ParameterError.unfit(name: "pick", runbookPath: "s.md", source: .environment("RUNSHEET_PARAM_pick"), problem: "'••••' is not one of red, blue", choices: true)
            .errorDescription == "parameter 'pick' of s.md (from RUNSHEET_PARAM_pick): '••••' is not one of red, blue; pass one of those with --param pick=VALUE")
    }

    @Test func aSecretDefaultThatDoesNotFitIsMaskedToo() {
        let result = Fixtures.compile("""
            ---
            params:
              pin: { type: int, secret: true, default: not-a-pin }
            ---
            # D
            - [ ] uses {{pin}}
            """, path: "d.md")
        let messages = result.diagnostics.map(\.message)
        #expect(messages.contains("the default of 'pin' is invalid: '••••' is not a whole number"), "\(messages)")
    }
}
