import Foundation
import RunsheetCore

/// Parameter values from `--param`, RUNSHEET_PARAM_<name>, the recorded run, defaults and prompts.
enum ParameterInput {
    static func parse(_ pairs: [String]) throws -> [String: String] {
        var values: [String: String] = [:]
        for pair in pairs {
            guard let equals = pair.firstIndex(of: "=") else {
                throw CommandFailure(status: .usage, message: "--param '\(pair)' has no value; write it as --param \(pair)=VALUE")
            }
            guard equals != pair.startIndex else {
                throw CommandFailure(status: .usage, message: "--param '\(pair)' has no name; write it as --param NAME=VALUE")
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
            let name = parameter.name
            // Where the value came from, named in the message when it is not acceptable.
            var (value, source): (String?, String) = (given[name], "--param")
            if value == nil { (value, source) = (env[environmentName(name)], environmentName(name)) }
            if value == nil, let old = recorded[name], !(parameter.secret && old == ShellQuoting.mask) { (value, source) = (old, "the run's record") }
            if value == nil { (value, source) = (parameter.defaultValue, "the runbook's default") }
            if value == nil, let ask { (value, source) = (ask(parameter), "the answer") }
            guard let resolved = value else {
                if lenient { continue }
                let what = parameter.prompt.map { " (\($0))" } ?? ""
                throw CommandFailure(status: .usage, message: "missing parameter '\(name)'\(what) of \(runbook.path): pass --param \(name)=VALUE or set \(environmentName(name))")
            }
            if let problem = parameter.problem(with: resolved) {
                let wanted = parameter.choices == nil ? "a value that fits" : "one of those"
                throw CommandFailure(status: .usage, message: "parameter '\(name)' of \(runbook.path) (from \(source)): \(problem); pass \(wanted) with --param \(name)=VALUE")
            }
            values[parameter.name] = resolved
        }
        return values
    }
}
