import Foundation
import RunsheetCore
import RunsheetPostgres

/// Which configured store(s) a run must obey the halts of besides the store it is kept on: the
/// repository's `.runsheet/config.yaml` names the team's store, and a flag or a variable choosing
/// another store (`--store postgresql://…/other`, RUNSHEET_STORE) decides where the run is kept,
/// not which halts it obeys (docs/TEAMS.md, "Halts and closures on the store").
extension StoreHaltsFloor {
    /// The floor for a run of `runbook` kept on the PostgreSQL store at `keptOn`: nil when the
    /// repository names no PostgreSQL store, or names the very store the run is kept on (the same
    /// host, port and database once both URLs are parsed; the run already obeys that store's halts).
    static func forStoreRun(of runbook: String, keptOn url: String) throws -> StoreHaltsFloor? {
        // The store config.yaml names as committed at HEAD, else the working copy's, as for a folder run.
        guard let configured = configuredStore(forRunbook: runbook) else { return nil }
        if let kept = place(of: url), let named = place(of: configured), kept == named { return nil }
        // A configured URL that cannot be parsed is not the run's store: its floor fails closed when read.
        return try StoreHaltsFloor(url: configured)
    }

    /// Host (or socket folder), port and database of `url` as libpq reads it; nil when it cannot be parsed.
    static func place(of url: String) -> [String]? {
        let environment = ProcessInfo.processInfo.environment
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        guard let settings = try? ConnectionSettings.parse(url, environment: environment, loginName: RunContext.loginName(), home: home) else { return nil }
        switch settings.endpoint {
        case .tcp(let host, let port): return ["tcp", host.lowercased(), String(port), settings.database]
        case .socket(let directory, let port): return ["socket", directory, String(port), settings.database]
        }
    }

    /// Adds the configured store's halts to those of a run kept on another store, which obeys its
    /// own store's halts (`halts`) and the repository's file (`alsoHalts`) already.
    func installBeside(into governance: inout Governance, runbook: String) {
        var floor = governance
        install(into: &floor, runbook: runbook)
        governance.floorHalts.append(contentsOf: floor.alsoHalts.map { [$0] } ?? [])
    }
}
