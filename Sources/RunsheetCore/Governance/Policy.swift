import Foundation
import Yams

/// What one release class changes about a runbook's gates.
///
/// ```yaml
/// policy:
///   standard: {gates: none}
///   major: {approvers: 2}
///   emergency:
///     approvers: 1
///     follow-up: release-manager or cab
///     follow-up-within: 2d
/// ```
public struct ClassPolicy: Sendable, Equatable {
    /// Which gates apply: nil for all, else the ids listed (empty for none).
    public var gates: [String]?
    /// Replaces the count of every `Sign-off` line.
    public var approvers: Int?
    /// Roles whose members may record the follow-up review; an empty list means the roles of the
    /// runbook's gates. nil when the class needs no follow-up.
    public var followUp: [String]?
    /// How long the follow-up review may take, in seconds.
    public var followUpWithin: Int?

    public init(gates: [String]? = nil, approvers: Int? = nil, followUp: [String]? = nil, followUpWithin: Int? = nil) {
        self.gates = gates
        self.approvers = approvers
        self.followUp = followUp
        self.followUpWithin = followUpWithin
    }

    /// Settings of `other` win where it has them.
    func overlaid(by other: ClassPolicy) -> ClassPolicy {
        ClassPolicy(gates: other.gates ?? gates, approvers: other.approvers ?? approvers,
                    followUp: other.followUp ?? followUp, followUpWithin: other.followUpWithin ?? followUpWithin)
    }

    /// Whether the gate applies under this class.
    public func applies(to step: Step) -> Bool {
        guard step.isGate, let gates else { return true }
        return gates.contains(step.id)
    }

    /// The gate's sign-off rules with this class's approver count.
    public func rules(for step: Step) -> [SignOffRule] {
        guard let approvers else { return step.signOffs }
        return step.signOffs.map { SignOffRule(count: approvers, roles: $0.roles) }
    }

    /// The roles that may sign the follow-up review of a run of `runbook`.
    public func followUpRoles(in runbook: Runbook) -> [String] {
        guard let followUp else { return [] }
        if !followUp.isEmpty { return followUp }
        var roles: [String] = []
        for role in runbook.steps.flatMap({ $0.signOffs.flatMap(\.roles) }) where !roles.contains(role) { roles.append(role) }
        return roles
    }
}

/// Class policies: built-in defaults, overlaid by the repository's policy file, then by the runbook.
public struct Policy: Sendable, Equatable {
    public static let relativePath = ".runsheet/policy.yaml"

    public var classes: [ReleaseClass: ClassPolicy]

    public init(classes: [ReleaseClass: ClassPolicy] = [:]) { self.classes = classes }

    /// The break-glass path: an emergency gate needs one approver now and a follow-up review
    /// within five days by someone holding one of the runbook's gate roles.
    public static let builtIn = Policy(classes: [.emergency: ClassPolicy(approvers: 1, followUp: [], followUpWithin: 5 * 86400)])

    public func overlaid(by other: Policy) -> Policy {
        var merged = classes
        for (name, policy) in other.classes { merged[name] = (merged[name] ?? ClassPolicy()).overlaid(by: policy) }
        return Policy(classes: merged)
    }

    public subscript(releaseClass: ReleaseClass) -> ClassPolicy { classes[releaseClass] ?? ClassPolicy() }

    /// The policy in force for a runbook: built-in, then `.runsheet/policy.yaml`, then its front matter.
    public static func effective(for runbook: Runbook, repository: Policy?) -> Policy {
        builtIn.overlaid(by: repository ?? Policy()).overlaid(by: runbook.policy)
    }

    static let keys = ["gates", "approvers", "follow-up", "follow-up-within"]

    /// Reads a mapping of class names to settings; `problem` receives each fault with its node.
    static func parse(_ node: Node, problem: (Node, String) -> Void) -> Policy {
        var policy = Policy()
        guard case .mapping(let mapping) = node else {
            problem(node, "'policy' must map release classes (standard, normal, emergency, major) to their settings")
            return policy
        }
        for (nameNode, settings) in mapping {
            guard let name = nameNode.string, let releaseClass = ReleaseClass(rawValue: name) else {
                problem(nameNode, "'\(nameNode.string ?? "?")' is not a release class; use standard, normal, emergency or major")
                continue
            }
            guard case .mapping(let entries) = settings else {
                problem(settings, "the policy for '\(name)' must be a mapping with \(keys.joined(separator: ", "))")
                continue
            }
            var classPolicy = ClassPolicy()
            for (keyNode, value) in entries {
                let key = keyNode.string ?? ""
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
                        classPolicy.followUp = nil
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
                default:
                    let hint = EditDistance.closest(to: key, in: keys, maximum: 2).map { "; did you mean '\($0)'?" } ?? "; use \(keys.joined(separator: ", "))"
                    problem(keyNode, "unknown policy setting '\(key)'\(hint)")
                }
            }
            policy.classes[releaseClass] = classPolicy
        }
        return policy
    }

    /// Parses `.runsheet/policy.yaml`: the same mapping as the front matter's `policy`, at the top level.
    public static func parse(path: String, text: String) -> (Policy, [Diagnostic]) {
        var diagnostics: [Diagnostic] = []
        guard let root = RepositoryFile.compose(text, path: path, code: .policyFile, what: "policy file", into: &diagnostics) else {
            return (Policy(), diagnostics)
        }
        let policy = parse(root) { node, message in
            diagnostics.append(Diagnostic(.error, .policyFile, message, path: path, line: node.mark?.line ?? 1, column: node.mark?.column ?? 1))
        }
        return (policy, diagnostics)
    }

    /// The repository's `.runsheet/policy.yaml` for a runbook, if there is one, read with `loader`;
    /// one that cannot be read or decoded is an error diagnostic.
    public static func load(forRunbook path: String, loader: Compiler.Loader = Compiler.disk) -> (Policy, [Diagnostic])? {
        RepositoryFile.load(relativePath, forRunbook: path, code: .policyFile, what: "policy file", loader: loader,
                            parse: parse, unusable: { _ in Policy() })
    }

    /// Problems that need the compiled runbook: gates that do not exist, follow-up roles never declared.
    func check(against runbook: Runbook, declaredRoles: Set<String>, report: (String) -> Void) {
        for releaseClass in ReleaseClass.allCases {
            guard let classPolicy = classes[releaseClass] else { continue }
            for id in classPolicy.gates ?? [] where runbook.step(id)?.isGate != true {
                report("the \(releaseClass.rawValue) policy names gate '\(id)', but no gate step has that id")
            }
            for role in classPolicy.followUp ?? [] where !declaredRoles.isEmpty && !declaredRoles.contains(role) {
                report("the \(releaseClass.rawValue) policy's follow-up role '\(role)' is not declared in 'roles' or the roles file")
            }
        }
    }
}
