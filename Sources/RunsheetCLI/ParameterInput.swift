import Foundation
import RunsheetCore

/// Parameter values from `--param`, RUNSHEET_PARAM_<name>, the recorded run, defaults and prompts.
enum ParameterInput {
    static func parse(_ pairs: [String]) throws -> [String: String] {
        var values: [String: String] = [:]
        for pair in pairs {
            guard let equals = pair.firstIndex(of: "="), equals != pair.startIndex else {
                throw CommandFailure(status: .usage, message: "--param '\(pair)' must be NAME=VALUE")
            }
            values[String(pair[..<equals])] = String(pair[pair.index(after: equals)...])
        }
        return values
    }

    static func environmentName(_ name: String) -> String {
        "RUNSHEET_PARAM_" + name.replacingOccurrences(of: "-", with: "_")
    }

    /// Every parameter resolved and checked. `ask` prompts on a terminal; nil when there is none.
    /// With `lenient`, missing values are left out instead of failing (for `--dry-run`).
    static func resolve(_ runbook: Runbook, given: [String: String], recorded: [String: String] = [:],
                        lenient: Bool = false, ask: ((Parameter) -> String?)?) throws -> [String: String] {
        let declared = Set(runbook.params.map(\.name))
        if let unknown = given.keys.sorted().first(where: { !declared.contains($0) }) {
            let names = runbook.params.map(\.name).joined(separator: ", ")
            throw CommandFailure(status: .usage, message: "unknown parameter '\(unknown)'; \(runbook.title) declares \(names.isEmpty ? "no parameters" : names)")
        }
        let env = ProcessInfo.processInfo.environment
        var values: [String: String] = [:]
        for parameter in runbook.params {
            var value = given[parameter.name] ?? env[environmentName(parameter.name)]
            if value == nil, let old = recorded[parameter.name], !(parameter.secret && old == ShellQuoting.mask) { value = old }
            if value == nil { value = parameter.defaultValue }
            if value == nil, let ask { value = ask(parameter) }
            guard let resolved = value else {
                if lenient { continue }
                let what = parameter.prompt.map { " (\($0))" } ?? ""
                throw CommandFailure(status: .usage, message: "missing parameter '\(parameter.name)'\(what): pass --param \(parameter.name)=VALUE or set \(environmentName(parameter.name))")
            }
            if let problem = parameter.problem(with: resolved) {
                throw CommandFailure(status: .usage, message: "parameter '\(parameter.name)': \(problem)")
            }
            values[parameter.name] = resolved
        }
        return values
    }
}
