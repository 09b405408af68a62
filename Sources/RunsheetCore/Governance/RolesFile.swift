import Foundation
import Yams

/// Who holds which role: `.runsheet/roles.yaml`, found by walking up from a runbook.
///
/// ```yaml
/// roles:
///   release-manager: [alice@example.com]
///   sre: [carol@example.com, group:oncall]
/// groups:
///   oncall: [dave@example.com, erin@example.com]
/// ```
public struct RolesFile: Sendable, Equatable {
    public static let relativePath = ".runsheet/roles.yaml"

    public var path: String
    /// Role name to the people holding it (groups expanded).
    public var members: [String: [String]]

    public var roles: [String] { members.keys.sorted() }

    public func holds(_ person: String, _ role: String) -> Bool {
        members[role]?.contains { PersonName.same($0, person) } ?? false
    }

    public func roles(of person: String) -> [String] {
        roles.filter { holds(person, $0) }
    }

    /// The nearest roles file from `directory` upwards, stopping at a Git root.
    public static func locate(from directory: String) -> String? {
        RepositoryFile.locate(relativePath, from: directory)
    }

    /// Parses a roles file; problems are diagnostics at their position in it.
    public static func parse(path: String, text: String) -> (RolesFile, [Diagnostic]) {
        var diagnostics: [Diagnostic] = []
        func problem(_ message: String, _ node: Node?) {
            diagnostics.append(Diagnostic(.error, .rolesFile, message, path: path,
                                          line: node?.mark?.line ?? 1, column: node?.mark?.column ?? 1))
        }
        var file = RolesFile(path: path, members: [:])
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            let (message, line, column) = FrontMatter.describe(error)
            diagnostics.append(Diagnostic(.error, .rolesFile, "the roles file is not valid YAML: \(message)", path: path, line: line, column: column))
            return (file, diagnostics)
        } catch {
            diagnostics.append(Diagnostic(.error, .rolesFile, "the roles file is not valid YAML", path: path, line: 1, column: 1))
            return (file, diagnostics)
        }
        guard let root, case .mapping(let top) = root else {
            problem("the roles file must be a mapping with 'roles' (and optionally 'groups')", root)
            return (file, diagnostics)
        }
        var groups: [String: [String]] = [:]
        if let groupNode = top["groups"] {
            guard case .mapping(let mapping) = groupNode else {
                problem("'groups' must map group names to lists of people", groupNode)
                return (file, diagnostics)
            }
            for (name, list) in mapping {
                guard let key = name.string, case .sequence(let people) = list else {
                    problem("group '\(name.string ?? "?")' must be a list of people", list)
                    continue
                }
                groups[key] = people.compactMap(\.string)
            }
        }
        guard let rolesNode = top["roles"] else {
            problem("the roles file has no 'roles' key", root)
            return (file, diagnostics)
        }
        guard case .mapping(let roles) = rolesNode else {
            problem("'roles' must map role names to lists of people", rolesNode)
            return (file, diagnostics)
        }
        for (name, list) in roles {
            guard let role = name.string else { continue }
            guard case .sequence(let entries) = list else {
                problem("role '\(role)' must be a list of people (or group:NAME)", list)
                continue
            }
            var people: [String] = []
            for entry in entries {
                guard let value = entry.string, !value.isEmpty else {
                    problem("each member of '\(role)' must be a name or group:NAME", entry)
                    continue
                }
                if value.hasPrefix("group:") {
                    let group = String(value.dropFirst(6))
                    guard let members = groups[group] else {
                        problem("role '\(role)' names group '\(group)', which is not declared under 'groups'", entry)
                        continue
                    }
                    people += members
                } else {
                    people.append(value)
                }
            }
            file.members[role] = people
        }
        return (file, diagnostics)
    }

    /// Loads the roles file that applies to a runbook, if any, with `loader`. One that cannot be
    /// read or decoded is an error, and stands in as a file in which nobody holds any role.
    public static func load(forRunbook path: String, loader: Compiler.Loader = Compiler.disk) -> (RolesFile, [Diagnostic])? {
        RepositoryFile.load(relativePath, forRunbook: path, code: .rolesFile, what: "roles file", loader: loader,
                            parse: parse, unusable: { RolesFile(path: $0, members: [:]) })
    }
}
