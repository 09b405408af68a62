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

    /// What every parameter's variable starts with; `RunParameters` owns the rest of the name.
    public static let parameterPrefix = "RUNSHEET_PARAM_"
}

extension RunEngine {
    /// Every placeholder that has a value, with the variable that carries it (the one a value is
    /// read from on input); built-ins win over a parameter of the same name, as they do on screen.
    var placeholderValues: [String: PlaceholderValue] {
        let variables = RunParameters(runbook).variables
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
        for (name, variable) in RunParameters(runbook).variables { environment[variable] = values[name] }
        for (name, variable) in PlaceholderVariables.builtins { environment[variable] = builtin(name) }
        return environment
    }
}
