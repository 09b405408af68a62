import Foundation
import RunsheetCore
import Testing

/// The environment variables that carry placeholder values into commands.
@Suite struct PlaceholderVariablesTests {
    @Test func namesAreValidDistinctAndStable() throws {
        let names = ["version", "db-host", "db_host", "größe", "a_b_2", "a-b", "a_b", "_x"]
        let variables = RunParameters.variables(for: names)
        #expect(variables == [
            "version": "RUNSHEET_PARAM_version", "db_host": "RUNSHEET_PARAM_db_host", "db-host": "RUNSHEET_PARAM_db_host_2",
            "größe": "RUNSHEET_PARAM_gr__e", "a_b": "RUNSHEET_PARAM_a_b", "a_b_2": "RUNSHEET_PARAM_a_b_2",
            "a-b": "RUNSHEET_PARAM_a_b_3", "_x": "RUNSHEET_PARAM__x",
        ])
        #expect(RunParameters.variables(for: names.reversed()) == variables)
        let all = Array(variables.values) + Array(PlaceholderVariables.builtins.values)
        #expect(Set(all).count == all.count)
        let valid = try NSRegularExpression(pattern: "^[A-Za-z_][A-Za-z0-9_]*$")
        for name in all {
            #expect(valid.firstMatch(in: name, range: NSRange(name.startIndex..., in: name)) != nil, "\(name)")
        }
        #expect(Set(PlaceholderVariables.builtins.keys) == Set(Placeholders.builtins))
    }
}
