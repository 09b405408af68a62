import ArgumentParser
import Foundation
import RunsheetCore

struct New: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Create a runbook from a skeleton: deployment, upgrade, rollback, review and more.",
        discussion: """
            Fills the skeleton's title, id, owner and service from --param, asking on a \
            terminal for the ones not given (defaults otherwise), writes the file, and \
            checks it. A production skeleton names the configuration items it changes \
            (--param components=ITEM,ITEM, as .runsheet/inventory.yaml names them) or \
            leaves a comment where to. An existing file is never overwritten without --force.

            Examples:
              runsheet new --list
              runsheet new canary runbooks/checkout-canary.md --param service=checkout
              runsheet new db-migration runbooks/migrate.md --param components=primary-database
              runsheet new emergency runbooks/hotfix.md --force \\
                  --param title="Hotfix the login outage"
            """
    )

    @Argument(help: "The kind of runbook (see --list).", completion: .list(RunbookSkeletons.kinds.map(\.name))) var kind: String?
    @Argument(help: "Where to write it.", completion: Completions.runbook) var path: String?
    @Option(name: .customLong("param"), help: ArgumentHelp("title, id, owner, service or components.", valueName: "name=value")) var params: [String] = []
    @Flag(help: "List the kinds with a line each.") var list = false
    @Flag(help: "Overwrite the file if it exists.") var force = false

    func validate() throws {
        if !list && (kind == nil || path == nil) {
            throw ValidationError("name a kind and a path, e.g. 'runsheet new canary runbooks/deploy.md'; 'runsheet new --list' shows the kinds")
        }
    }

    func run() throws {
        if list {
            let kinds = RunbookSkeletons.kinds
            let width = kinds.map(\.name.count).max() ?? 0
            for kind in kinds { Output.line(kind.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + kind.description) }
            return
        }
        guard let kindName = kind, let path else { return }
        guard let kind = RunbookSkeletons.kind(kindName) else {
            throw CommandFailure(status: .usage, message: "there is no runbook kind '\(kindName)'; the kinds are \(RunbookSkeletons.kinds.map(\.name).joined(separator: ", "))")
        }
        if FileManager.default.fileExists(atPath: path) && !force {
            throw CommandFailure(status: .usage, message: "\(path) already exists; pass --force to overwrite it")
        }
        var values = try ParameterInput.parse(params)
        for name in values.keys where !RunbookSkeletons.variables.contains(name) {
            throw CommandFailure(status: .usage, message: "'\(name)' is not a value this skeleton takes; use \(RunbookSkeletons.variables.joined(separator: ", "))")
        }
        let defaults: [(String, String)] = [
            ("title", kind.defaultTitle), ("owner", try RunContext.actor(explicit: nil).name), ("service", "my-service"),
        ]
        for (name, fallback) in defaults where values[name] == nil && (name != "service" || kind.usesService) {
            values[name] = Self.ask(name, default: fallback) ?? fallback
        }
        if values["id"] == nil { values["id"] = Slug.stepID(values["title"] ?? kind.name, limit: 64) }
        let text = try RunbookSkeletons.render(kind: kind.name, values: values)
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        try OutputFile.write(Array(text.utf8), to: path)
        let result = Compiler().compile(path: path, bytes: Array(text.utf8))
        for diagnostic in result.diagnostics { Output.error(diagnostic.formatted) }
        Output.line("created \(path) (\(kind.name), \(result.runbook.steps.count) steps); edit it, then: runsheet check \(path) && runsheet run \(path) --dry-run")
    }

    /// Asks on a terminal; nil without one or when the answer is empty.
    static func ask(_ name: String, default fallback: String) -> String? {
        let answer = StandardTerminal().ask("\(name) [\(fallback)]: ")
        return answer.flatMap { $0.trimmed.isEmpty ? nil : $0.trimmed }
    }
}
