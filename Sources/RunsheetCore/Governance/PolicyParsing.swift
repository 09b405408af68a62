import Foundation
import Yams

extension Policy {
    static let keys = ["gates", "approvers", "follow-up", "follow-up-within", "downgrade", "signatures", "change-record", "initiators"]
    /// The keys of the top level besides the class names.
    static let topLevelKeys = ["allowed-classes", "signatures", "change-record", "criticality"]

    /// Reads a mapping of class names to settings, and `allowed-classes`; `problem` receives each
    /// fault with its node, and `located` each key that was read with its path (`allowed-classes`,
    /// `normal`, `normal.gates`), for the floor check's positions.
    static func parse(_ node: Node, problem: (Node, String) -> Void, located: (String, Node) -> Void = { _, _ in }) -> Policy {
        var policy = Policy()
        var signatureNodes: [String: Node] = [:]
        defer { refuseRelaxedSignatures(policy, at: signatureNodes, problem: problem) }
        guard case .mapping(let mapping) = node else {
            problem(node, "'policy' must map release classes (standard, normal, emergency, major) to their settings")
            return policy
        }
        for (nameNode, settings) in mapping {
            if nameNode.string == "allowed-classes" {
                located("allowed-classes", nameNode)
                policy.allowedClasses = classList(settings, setting: "allowed-classes", problem: problem)
                continue
            }
            if nameNode.string == "signatures" {
                located("signatures", nameNode)
                signatureNodes[""] = nameNode
                policy.signaturesRequired = signatures(settings, problem: problem)
                continue
            }
            if nameNode.string == "criticality" {
                located("criticality", nameNode)
                policy.criticality = CriticalityRule.parse(settings, problem: problem)
                continue
            }
            if nameNode.string == "change-record" {
                located("change-record", nameNode)
                policy.changeRecord = ChangeRecordRule.parse(settings, problem: problem)
                continue
            }
            guard let name = nameNode.string, let releaseClass = ReleaseClass(rawValue: name) else {
                let text = nameNode.string ?? "?"
                let near = EditDistance.closest(to: text, in: topLevelKeys + ReleaseClass.allCases.map(\.rawValue), maximum: 2)
                problem(nameNode, "'\(text)' is not a release class; " +
                        (near.map { "did you mean '\($0)'?" } ?? "use standard, normal, emergency, major, allowed-classes, signatures, change-record or criticality"))
                continue
            }
            located(name, nameNode)
            guard case .mapping(let entries) = settings else {
                problem(settings, "the policy for '\(name)' must be a mapping with \(keys.joined(separator: ", "))")
                continue
            }
            var classPolicy = ClassPolicy()
            for (keyNode, value) in entries {
                let key = keyNode.string ?? ""
                if keys.contains(key) { located("\(name).\(key)", keyNode) }
                switch key {
                case "gates":
                    if value.string == "all" {
                        classPolicy.gates = nil
                    } else if value.string == "none" {
                        classPolicy.gates = []
                    } else if case .sequence(let ids) = value {
                        classPolicy.gates = ids.compactMap(\.string)
                    } else {
                        problem(value, "'gates' is all, none, or a list of gate step ids")
                    }
                case "approvers":
                    if let count = value.int, count >= 1 { classPolicy.approvers = count } else {
                        problem(value, "'approvers' must be a whole number of at least 1")
                    }
                case "follow-up":
                    if value.string == "none" || value.bool == false {
                        classPolicy.noFollowUp = true
                    } else if value.bool == true || value.string == "gate roles" {
                        classPolicy.followUp = []
                    } else if case .sequence(let roles) = value {
                        classPolicy.followUp = roles.compactMap(\.string)
                    } else if let text = value.string {
                        classPolicy.followUp = text.components(separatedBy: " or ").map(\.trimmed).filter { !$0.isEmpty }
                    }
                case "follow-up-within":
                    if let text = value.string, let seconds = DurationText.seconds(text), seconds > 0 {
                        classPolicy.followUpWithin = seconds
                    } else {
                        problem(value, "'follow-up-within' must be a duration such as 2d or 36h")
                    }
                case "downgrade":
                    classPolicy.downgrade = downgrade(value, releaseClass: name, problem: problem)
                case "change-record":
                    classPolicy.changeRecord = ChangeRecordRule.parse(value, problem: problem)
                case "initiators":
                    classPolicy.initiators = ClassPolicy.parseInitiators(value, releaseClass: name, problem: problem)
                    policy.initiatorMarks.record(releaseClass, value)
                case "signatures":
                    signatureNodes[name] = keyNode
                    classPolicy.signaturesRequired = signatures(value, problem: problem)
                default:
                    let hint = EditDistance.closest(to: key, in: keys, maximum: 2).map { "; did you mean '\($0)'?" } ?? "; use \(keys.joined(separator: ", "))"
                    problem(keyNode, "unknown policy setting '\(key)'\(hint)")
                }
            }
            policy.classes[releaseClass] = classPolicy
        }
        return policy
    }

    /// `signatures: required` or `optional`, as plain text: another spelling, case or a YAML tag
    /// (`!!str required`) is an error, since a rule misread would drop the requirement.
    private static func signatures(_ node: Node, problem: (Node, String) -> Void) -> Bool? {
        let tag = node.scalar?.tag.description ?? ""
        guard let text = node.scalar?.string, ["", "!", "?"].contains(tag), text == "required" || text == "optional" else {
            let what = ["", "!", "?"].contains(tag) ? "" : " (it has the YAML tag \(tag))"
            problem(node, "'signatures' must be required or optional, written as plain lower-case text\(what)")
            return nil
        }
        return text == "required"
    }

    /// A class that says `signatures: optional` under a top level that requires them would relax
    /// the rule for its runs: an error at the class's key. A class can only add the requirement.
    private static func refuseRelaxedSignatures(_ policy: Policy, at nodes: [String: Node], problem: (Node, String) -> Void) {
        guard policy.signaturesRequired == true, let top = nodes[""] else { return }
        for (releaseClass, classPolicy) in policy.classes where classPolicy.signaturesRequired == false {
            guard let node = nodes[releaseClass.rawValue] else { continue }
            problem(node, "the \(releaseClass.rawValue) policy says 'signatures: optional', but the top level (line \(top.mark?.line ?? 1)) requires them for every class; a class can only add the requirement, never take it back")
        }
    }

    /// `downgrade: {to: [standard], roles: [release-manager]}`.
    private static func downgrade(_ node: Node, releaseClass: String, problem: (Node, String) -> Void) -> ClassPolicy.Downgrade? {
        let shape = "'downgrade' under \(releaseClass) must be a mapping with 'to' (the classes a run may choose instead) and 'roles' (who may choose them)"
        guard case .mapping(let entries) = node else {
            problem(node, shape)
            return nil
        }
        for (keyNode, _) in entries where !["to", "roles"].contains(keyNode.string ?? "") {
            problem(keyNode, "unknown key '\(keyNode.string ?? "?")' in 'downgrade'; use to and roles")
        }
        guard let toNode = entries["to"], let rolesNode = entries["roles"] else {
            problem(node, shape)
            return nil
        }
        guard let to = classList(toNode, setting: "to", problem: problem) else { return nil }
        let roles: [String]
        if case .sequence(let items) = rolesNode { roles = items.compactMap(\.string) } else { roles = rolesNode.string.map { [$0] } ?? [] }
        guard !roles.isEmpty, !roles.contains(where: { $0.trimmed.isEmpty }) else {
            problem(rolesNode, "'roles' in 'downgrade' must name the roles whose members may choose the class")
            return nil
        }
        return ClassPolicy.Downgrade(to: to, roles: roles)
    }

    /// A class name or a list of them.
    private static func classList(_ node: Node, setting: String, problem: (Node, String) -> Void) -> [ReleaseClass]? {
        let items: [Node]
        if case .sequence(let list) = node { items = Array(list) } else { items = [node] }
        var classes: [ReleaseClass] = []
        for item in items {
            guard let name = item.string, let releaseClass = ReleaseClass(rawValue: name) else {
                problem(item, "'\(item.string ?? "?")' in '\(setting)' is not a release class; use standard, normal, emergency or major")
                return nil
            }
            if !classes.contains(releaseClass) { classes.append(releaseClass) }
        }
        guard !classes.isEmpty else {
            problem(node, "'\(setting)' names no release class")
            return nil
        }
        return classes
    }

    /// Parses `.runsheet/policy.yaml`: the same mapping as the front matter's `policy`, at the top
    /// level. Settings that would take emergency off the break-glass path are errors here.
    public static func parse(path: String, text: String) -> (Policy, [Diagnostic]) {
        var diagnostics: [Diagnostic] = []
        guard let root = RepositoryFile.compose(text, path: path, code: .policyFile, what: "policy file", into: &diagnostics) else {
            return (Policy(), diagnostics)
        }
        func problem(_ node: Node, _ message: String) {
            diagnostics.append(Diagnostic(.error, .policyFile, message, path: path, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1))
        }
        var keyNodes: [String: Node] = [:]
        var policy = parse(root, problem: problem) { keyNodes[$0] = $1 }
        policy.initiatorMarks.path = path
        if let emergency = policy.classes[.emergency] {
            if emergency.gates != nil, let node = keyNodes["emergency.gates"] {
                problem(node, "the emergency class is the break-glass path and all its gates apply; set 'approvers' instead of 'gates'")
            }
            if emergency.noFollowUp, let node = keyNodes["emergency.follow-up"] {
                problem(node, "the emergency class always owes a follow-up review; name who records it (follow-up: ROLE) instead of none")
            }
        }
        return (policy, diagnostics + ChangeRecordRule.digitWarnings(in: root, path: path))
    }
}
