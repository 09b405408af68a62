import Foundation
import Yams

/// `criticality: {critical: {approvers: 1, owner-sign-off: true}}` in `.runsheet/policy.yaml`:
/// what a run whose production steps change an item of that criticality (`Inventory`) owes.
public struct CriticalityRule: Sendable, Equatable {
    /// More approvers on every sign-off line of every gate of such a run.
    public var approvers: Int = 0
    /// A sign-off by a member of the item's owner role on every gate of such a run; `check`
    /// wants a gate before the first production step that changes the item.
    public var ownerSignOff = false

    public init(approvers: Int = 0, ownerSignOff: Bool = false) {
        self.approvers = approvers
        self.ownerSignOff = ownerSignOff
    }

    static func parse(_ node: Node, problem: (Node, String) -> Void) -> [Inventory.Criticality: CriticalityRule] {
        let levels = Inventory.Criticality.allCases.map(\.rawValue).joined(separator: ", ")
        guard case .mapping(let entries) = node else {
            problem(node, "'criticality' must map criticality levels (\(levels)) to {approvers: N, owner-sign-off: true|false}")
            return [:]
        }
        var rules: [Inventory.Criticality: CriticalityRule] = [:]
        for (levelNode, value) in entries {
            guard let level = levelNode.string.flatMap(Inventory.Criticality.init(rawValue:)) else {
                problem(levelNode, "'\(levelNode.string ?? "?")' under 'criticality' is not a criticality level; use \(levels)")
                continue
            }
            guard case .mapping(let settings) = value else {
                problem(value, "'criticality.\(level.rawValue)' must be a mapping with approvers and owner-sign-off")
                continue
            }
            var rule = CriticalityRule()
            for (keyNode, setting) in settings {
                switch keyNode.string ?? "" {
                case "approvers":
                    if let count = setting.int, count >= 0, count <= 20 { rule.approvers = count } else {
                        problem(setting, "'approvers' under 'criticality.\(level.rawValue)' is how many more approvers every gate needs: a whole number from 0 to 20")
                    }
                case "owner-sign-off":
                    let tag = setting.scalar?.tag.description ?? ""
                    if let text = setting.scalar?.string, ["", "!", "?"].contains(tag), text == "true" || text == "false" {
                        rule.ownerSignOff = text == "true"
                    } else {
                        problem(setting, "'owner-sign-off' under 'criticality.\(level.rawValue)' must be true or false, written as plain lower-case text")
                    }
                default:
                    problem(keyNode, "unknown key '\(keyNode.string ?? "?")' under 'criticality.\(level.rawValue)'; use approvers and owner-sign-off")
                }
            }
            rules[level] = rule
        }
        return rules
    }
}

/// What the configuration items a run changes add to every gate of it (`ClassPolicy.rules(for:)`).
public struct ItemDemands: Sendable, Equatable {
    /// Added to every sign-off line.
    public var extraApprovers = 0
    /// One line per owner role whose sign-off is required, with the items that ask it.
    public var owners: [(role: String, items: [String])] = []

    public var isEmpty: Bool { extraApprovers == 0 && owners.isEmpty }

    public static func == (lhs: ItemDemands, rhs: ItemDemands) -> Bool {
        lhs.extraApprovers == rhs.extraApprovers && lhs.owners.map(\.role) == rhs.owners.map(\.role) && lhs.owners.map(\.items) == rhs.owners.map(\.items)
    }

    /// What `runbook`'s production steps owe under `rules` for the items `inventory` lists.
    public static func of(_ runbook: Runbook, inventory: Inventory?, rules: [Inventory.Criticality: CriticalityRule]) -> ItemDemands {
        var demands = ItemDemands()
        guard let inventory, !rules.isEmpty else { return demands }
        for name in runbook.touchedComponents {
            guard let item = inventory.item(name), let rule = rules[item.criticality] else { continue }
            demands.extraApprovers = max(demands.extraApprovers, rule.approvers)
            guard rule.ownerSignOff else { continue }
            if let index = demands.owners.firstIndex(where: { $0.role == item.owner }) {
                demands.owners[index].items.append(item.name)
            } else {
                demands.owners.append((item.owner, [item.name]))
            }
        }
        return demands
    }

    /// A gate's lines with these demands: every line needs `extraApprovers` more, and each owner
    /// role one sign-off of its own (unless the gate already asks that role alone).
    func raise(_ rules: [SignOffRule]) -> [SignOffRule] {
        guard !isEmpty, !rules.isEmpty else { return rules }
        var raised = rules.map { SignOffRule(count: $0.count + extraApprovers, roles: $0.roles) }
        for owner in owners where !raised.contains(where: { $0.roles == [owner.role] }) {
            raised.append(SignOffRule(count: 1, roles: [owner.role]))
        }
        return raised
    }
}
