/// What a placeholder stands for when a command runs: its value and the environment variable
/// that carries the value into the shell.
public struct PlaceholderValue: Sendable, Equatable {
    /// A valid shell variable name, e.g. `RUNSHEET_PARAM_version`.
    public var variable: String
    public var value: String
    /// A secret value is never written into the command text, only into the environment.
    public var secret: Bool

    public init(variable: String, value: String, secret: Bool = false) {
        self.variable = variable
        self.value = value
        self.secret = secret
    }
}

/// The environment variable names that carry placeholder values into commands.
public enum PlaceholderVariables {
    /// Built-in placeholders have names of their own, so no parameter can take them.
    public static let builtins: [String: String] = [
        "run.id": "RUNSHEET_RUN_ID", "run.dir": "RUNSHEET_RUN_DIR", "runbook.dir": "RUNSHEET_RUNBOOK_DIR",
        "runbook.path": "RUNSHEET_RUNBOOK_PATH", "class": "RUNSHEET_CLASS", "actor": "RUNSHEET_ACTOR",
    ]

    public static let parameterPrefix = "RUNSHEET_PARAM_"

    /// `RUNSHEET_PARAM_` and the name with every character other than an ASCII letter, digit or `_`
    /// written as `_` (so `db-host` is `RUNSHEET_PARAM_db_host`, as `--param` reads it from the
    /// environment). A name that is already a valid variable name keeps its spelling; another name
    /// whose spelling collides with a taken one gets `_2`, `_3`, ... in the order of the names.
    public static func forParameters(_ names: some Sequence<String>) -> [String: String] {
        let names = Set(names).sorted()
        var result: [String: String] = [:]
        var taken: Set<String> = []
        for name in names where sanitized(name) == name {
            result[name] = parameterPrefix + name
            taken.insert(parameterPrefix + name)
        }
        for name in names where result[name] == nil {
            let base = parameterPrefix + sanitized(name)
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

extension RunEngine {
    /// Every placeholder that has a value, with the variable that carries it; built-ins win over a
    /// parameter of the same name, as they do on screen.
    var placeholderValues: [String: PlaceholderValue] {
        let variables = PlaceholderVariables.forParameters(values.keys)
        let secrets = Set(runbook.params.filter(\.secret).map(\.name))
        var result: [String: PlaceholderValue] = [:]
        for (name, variable) in variables {
            if let value = values[name] { result[name] = PlaceholderValue(variable: variable, value: value, secret: secrets.contains(name)) }
        }
        for (name, variable) in PlaceholderVariables.builtins {
            if let value = builtin(name) { result[name] = PlaceholderValue(variable: variable, value: value) }
        }
        return result
    }

    /// The variables a command's placeholders refer to, every parameter's included.
    var placeholderEnvironment: [String: String] {
        var environment: [String: String] = [:]
        for (name, variable) in PlaceholderVariables.forParameters(values.keys) { environment[variable] = values[name] }
        for (name, variable) in PlaceholderVariables.builtins { environment[variable] = builtin(name) }
        return environment
    }
}
