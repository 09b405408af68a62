import Foundation

extension Lowering {
    /// Configuration items (`Inventory`): each item a runbook names (`components:`, `Components:`)
    /// is one the inventory lists; each owner role is declared; and an item whose criticality
    /// asks its owner's sign-off has a gate before the first production step that changes it.
    mutating func checkItems(_ runbook: Runbook, governance: Governance, declared: Set<String>) {
        let inventory = governance.inventory
        func unknown(_ name: String) -> String? {
            guard inventory?.item(name) == nil else { return nil }
            guard let inventory else {
                return "configuration item '\(name)' is not listed: no \(Inventory.relativePath) applies to this runbook; add one listing it (docs/FORMAT.md, \"Configuration items\")"
            }
            let names = inventory.items.values.map(\.name).sorted()
            let near = EditDistance.closest(to: name, in: names, maximum: 2).map { "; did you mean '\($0)'?" } ?? ""
            return "configuration item '\(name)' is not listed in \(inventory.path)\(near)"
        }
        if let position = front.componentsPosition {
            for name in runbook.components { if let message = unknown(name) { report(.error, .unknownItem, message, line: position.line, column: position.column) } }
        }
        for draft in steps {
            for raw in draft.annotations where raw.knownKey == .components {
                for name in Inventory.names(raw.value) { if let message = unknown(name) { report(.error, .unknownItem, message, line: raw.line, column: raw.column) } }
            }
        }
        guard let inventory else { return }
        let known = governance.roles.map { Set($0.roles) } ?? declared
        for item in inventory.items.values.sorted(by: { ($0.line, $0.column) < ($1.line, $1.column) }) where !known.contains(item.owner) {
            diagnostics.append(Diagnostic(.error, .inventoryFile, "the owner role '\(item.owner)' of configuration item '\(item.name)' is not declared in \(RolesFile.relativePath), so nobody owns it",
                                          path: inventory.path, line: item.line, column: item.column))
        }
        guard let demands = governance.policy.demands else { return }
        let firstGate = runbook.steps.firstIndex(where: \.isGate)
        for owner in demands.owners {
            for name in owner.items {
                guard let step = runbook.productionSteps(touching: name).first,
                      let index = runbook.steps.firstIndex(where: { $0.id == step.id }) else { continue }
                if let firstGate, firstGate < index { continue }
                report(.error, .unknownItem, "step '\(step.id)' changes configuration item '\(name)', whose owner (\(owner.role)) must sign off first under \(Policy.relativePath)'s criticality rule, " +
                       "but no gate comes before it; add a gate (Sign-off: 1 of \(owner.role)) before the step", line: step.line, column: step.column)
            }
        }
    }
}
