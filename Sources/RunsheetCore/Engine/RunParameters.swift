import Foundation

/// The one owner of a runbook's parameter rules: where a value comes from (`--param`, then the
/// environment, then the run's record, then the default, then a prompt), whether it fits its
/// spec, and which environment variable carries it. Input reads a value from the very variable a
/// command later finds it in (docs/FORMAT.md, "Parameters").
public struct RunParameters: Sendable {
    public let runbookPath: String
    public let runbookTitle: String
    public let declared: [Parameter]
    /// Parameter name → environment variable, e.g. `db-host` → `RUNSHEET_PARAM_db_host`.
    public let variables: [String: String]

    public init(_ runbook: Runbook) {
        runbookPath = runbook.path
        runbookTitle = runbook.title
        declared = runbook.params
        variables = Self.variables(for: runbook.params.map(\.name))
    }

    /// The environment variable that carries parameter `name`, on input and in commands.
    public func variable(for name: String) -> String {
        variables[name] ?? PlaceholderVariables.parameterPrefix + Self.sanitized(name)
    }

    // MARK: - Precedence

    /// Every declared parameter resolved and checked. `given` holds the `--param` values,
    /// `recorded` the run's record (a masked secret there counts as no value), and `ask` prompts
    /// for a value, when there is someone to ask: an answer that does not fit is asked for again,
    /// with the reason (`ask`'s second argument), up to `Self.attempts` times. With `lenient`, a
    /// parameter without a value is left out instead of failing (for `--dry-run`). A required
    /// parameter (one without a default) never takes an empty value, from any source.
    public func resolve(given: [String: String], environment: [String: String], recorded: [String: String] = [:],
                        lenient: Bool = false, ask: ((Parameter, _ problem: String?) -> String?)?) throws(ParameterError) -> [String: String] {
        let names = declared.map(\.name)
        if let unknown = given.keys.sorted().first(where: { !names.contains($0) }) {
            throw .unknown(name: unknown, runbookTitle: runbookTitle, declared: names)
        }
        var values: [String: String] = [:]
        for parameter in declared {
            let name = parameter.name
            let variable = variable(for: name)
            var found: (value: String, source: ParameterSource)?
            if let value = given[name] {
                found = (value, .option)
            } else if let value = environment[variable] {
                found = (value, .environment(variable))
            } else if let value = recorded[name], !(parameter.secret && value == ShellQuoting.mask) {
                found = (value, .recorded)
            } else if let value = parameter.defaultValue {
                found = (value, .defaultValue)
            } else if let ask {
                var problem: String?
                for _ in 0..<Self.attempts {
                    guard let answer = ask(parameter, problem) else { break }
                    found = (answer, .answer)
                    problem = Self.problem(with: answer, for: parameter)
                    if problem == nil { break }
                }
            }
            guard let (value, source) = found else {
                if lenient { continue }
                throw .missing(name: name, prompt: parameter.prompt, runbookPath: runbookPath, variable: variable)
            }
            if let problem = Self.problem(with: value, for: parameter) {
                throw .unfit(name: name, runbookPath: runbookPath, source: source, problem: problem, choices: parameter.choices != nil)
            }
            values[name] = value
        }
        return values
    }

    // MARK: - Validation

    /// How many answers a prompt takes before the command gives up with the last reason.
    public static let attempts = 5

    /// Why `value` is not acceptable for `parameter`, or nil when it is. A secret's value is
    /// never part of the answer: it is shown as the mask.
    public static func problem(with value: String, for parameter: Parameter) -> String? {
        if value.isEmpty, parameter.defaultValue == nil { return "it is empty, and it has no default, so it needs a value" }
        let shown = "'\(parameter.secret ? ShellQuoting.mask : value)'"
        switch parameter.type {
        case .int where Int(value) == nil: return "\(shown) is not a whole number"
        case .number where Double(value) == nil: return "\(shown) is not a number"
        case .bool where !["true", "false", "yes", "no"].contains(value.lowercased()): return "\(shown) is not true or false"
        case .choice where !(parameter.choices ?? []).contains(value):
            return "\(shown) is not one of \((parameter.choices ?? []).joined(separator: ", "))"
        default: break
        }
        if let pattern = parameter.pattern, let regex = try? NSRegularExpression(pattern: "^(?:\(pattern))$") {
            let range = NSRange(value.startIndex..., in: value)
            if regex.firstMatch(in: value, range: range) == nil { return "\(shown) does not match \(pattern)" }
        }
        return nil
    }

    // MARK: - Environment variables

    /// `RUNSHEET_PARAM_` and the name with every character other than an ASCII letter, digit or `_`
    /// written as `_`. A name that is already a valid variable name keeps its spelling; another
    /// name whose spelling collides with a taken one gets `_2`, `_3`, ... in the order of the names.
    public static func variables(for names: some Sequence<String>) -> [String: String] {
        let names = Set(names).sorted()
        let prefix = PlaceholderVariables.parameterPrefix
        var result: [String: String] = [:]
        var taken: Set<String> = []
        for name in names where sanitized(name) == name {
            result[name] = prefix + name
            taken.insert(prefix + name)
        }
        for name in names where result[name] == nil {
            let base = prefix + sanitized(name)
            var candidate = base
            var suffix = 2
            while taken.contains(candidate) {
                candidate = "\(base)_\(suffix)"
                suffix += 1
            }
            result[name] = candidate
            taken.insert(candidate)
        }
        return result
    }

    static func sanitized(_ name: String) -> String {
        String(String.UnicodeScalarView(name.unicodeScalars.map { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "_": scalar
            default: "_"
            }
        }))
    }
}

/// Where a parameter's value came from; named when the value does not fit.
public enum ParameterSource: Sendable, Equatable, CustomStringConvertible {
    case option
    case environment(String)
    case recorded
    case defaultValue
    case answer

    public var description: String {
        switch self {
        case .option: "--param"
        case .environment(let variable): variable
        case .recorded: "the run's record"
        case .defaultValue: "the runbook's default"
        case .answer: "the answer"
        }
    }
}

/// A parameter value that is missing, unknown or does not fit; never quotes a secret.
public enum ParameterError: Error, Equatable, LocalizedError {
    case unknown(name: String, runbookTitle: String, declared: [String])
    case missing(name: String, prompt: String?, runbookPath: String, variable: String)
    /// `choices`: the parameter lists its allowed values, so the message points to them.
    case unfit(name: String, runbookPath: String, source: ParameterSource, problem: String, choices: Bool)

    public var errorDescription: String? {
        switch self {
        case .unknown(let name, let title, let declared):
            "unknown parameter '\(name)'; \(title) declares \(declared.isEmpty ? "no parameters" : declared.joined(separator: ", "))"
        case .missing(let name, let prompt, let path, let variable):
            "missing parameter '\(name)'\(prompt.map { " (\($0))" } ?? "") of \(path): pass --param \(name)=VALUE or set \(variable)"
        case .unfit(let name, let path, let source, let problem, let choices):
            "parameter '\(name)' of \(path) (from \(source)): \(problem); pass \(choices ? "one of those" : "a value that fits") with --param \(name)=VALUE"
        }
    }
}
