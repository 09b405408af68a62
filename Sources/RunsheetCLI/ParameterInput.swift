import Foundation
import RunsheetCore

/// `--param NAME=VALUE` on the command line; `RunParameters` decides the rest.
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

    /// Every parameter resolved and checked, from `--param`, this process's environment, the
    /// run's record, defaults and `ask` (nil when there is no terminal). With `lenient`, missing
    /// values are left out instead of failing (for `--dry-run`).
    static func resolve(_ runbook: Runbook, given: [String: String], recorded: [String: String] = [:],
                        lenient: Bool = false, ask: ((Parameter, String?) -> String?)?) throws -> [String: String] {
        do {
            return try RunParameters(runbook).resolve(given: given, environment: ProcessInfo.processInfo.environment,
                                                      recorded: recorded, lenient: lenient, ask: ask)
        } catch {
            throw CommandFailure(status: .usage, message: error.errorDescription ?? "\(error)")
        }
    }
}
