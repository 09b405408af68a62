import Foundation
import Yams

/// The YAML header of a runbook, validated.
struct FrontMatter {
    var id: String?
    var title: String?
    var version: String?
    var owner: String?
    var description: String?
    var releaseClass: ReleaseClass = .normal
    var service: String?
    var environment: String?
    var shell: String = "bash"
    /// `command-timeout`: how long a command of a step without its own `Timeout` may run.
    var commandTimeoutSeconds: Int?
    var production = false
    /// `concurrent: true`: runs share the environment lock with other concurrent runs.
    var concurrent = false
    /// `components:` and where it was written.
    var components: [String] = []
    var componentsPosition: (line: Int, column: Int)?
    var params: [Parameter] = []
    /// Declared params by name, with where each was declared.
    var paramLines: [String: (line: Int, column: Int)] = [:]
    var roles: [String] = []
    /// True when the file has a `params` key, which turns on placeholders.
    var declaresParams = false
    var policy = Policy()
    var policyPosition = (line: 1, column: 1)
    /// Where each key under `policy` was written (`allowed-classes`, `normal`, `normal.gates`).
    var policyKeys: [String: (line: Int, column: Int)] = [:]
    /// Where `class` and `calendar` were written; nil when they were not.
    var classPosition: (line: Int, column: Int)?
    var calendarPosition: (line: Int, column: Int)?
    var calendarPath: String?
    var inlineCalendar: ChangeCalendar?

    static let knownKeys = [
        "runsheet", "id", "title", "version", "owner", "description", "class", "service", "environment",
        "shell", "command-timeout", "params", "roles", "policy", "calendar", "windows", "freezes", "production", "concurrent", "signing",
        "tags", "requires", "components",
    ]
    /// Keys that carry a rule: who may do what, what is production, when it may change, and what
    /// a run locks (`service`, `environment`: a misspelt one would lock something else).
    static let governanceKeys: Set<String> = ["class", "roles", "policy", "calendar", "windows", "freezes", "production",
                                              "service", "environment", "concurrent", "components"]
    static let paramKeys = ["type", "default", "choices", "pattern", "secret", "prompt", "description"]
}

/// Where the front matter sits in the file.
struct FrontMatterBlock {
    /// The YAML text between the fences.
    var yaml: String
    /// 1-based line of the first YAML line.
    var firstLine: Int
    /// Byte offset where the Markdown body starts, and its first line.
    var bodyOffset: Int
    var bodyLine: Int

    /// Finds a `---` fenced block at the very top of the file; nil when there is none or it is not closed.
    static func locate(in source: SourceFile) -> FrontMatterBlock? {
        guard source.lineCount >= 2, isFence(source, 1, opening: true) else { return nil }
        var line = 2
        while line <= source.lineCount {
            if isFence(source, line, opening: false) {
                let yamlStart = source.lineRange(2).lowerBound
                let yamlEnd = source.lineRange(line).lowerBound
                let yaml = String(decoding: source.bytes[yamlStart..<max(yamlStart, yamlEnd)], as: UTF8.self)
                let bodyOffset = line < source.lineCount ? source.lineRange(line + 1).lowerBound : source.bytes.count
                return FrontMatterBlock(yaml: yaml, firstLine: 2, bodyOffset: bodyOffset, bodyLine: line + 1)
            }
            line += 1
        }
        return nil
    }

    private static func isFence(_ source: SourceFile, _ line: Int, opening: Bool) -> Bool {
        var text = source.bytes[source.lineRange(line)]
        while let last = text.last, last == 0x20 || last == 0x09 { text = text.dropLast() }
        return text.elementsEqual("---".utf8) || (!opening && text.elementsEqual("...".utf8))
    }
}

extension FrontMatter {
    /// Parses and checks the YAML; problems go to `report` with file positions.
    static func parse(_ block: FrontMatterBlock, report: (Severity, DiagnosticCode, String, Int, Int) -> Void) -> FrontMatter {
        var result = FrontMatter()
        let base = block.firstLine - 1
        func at(_ node: Node) -> (Int, Int) {
            guard let mark = node.mark else { return (block.firstLine, 1) }
            return (base + mark.line, mark.column)
        }
        func problem(_ node: Node, _ message: String, code: DiagnosticCode = .frontMatter, severity: Severity = .error) {
            let (line, column) = at(node)
            report(severity, code, message, line, column)
        }

        let root: Node?
        do {
            root = try composeKeepingLastDuplicate(block.yaml) { key, line in
                report(.warning, .frontMatter, "front matter key '\(key)' is repeated; the last value is used, as on GitHub", base + line, 1)
            }
        } catch let error as YamlError {
            let (message, line, column) = describe(error)
            report(.error, .frontMatter, "front matter is not valid YAML: \(message)", base + line, column)
            return result
        } catch {
            report(.error, .frontMatter, "front matter is not valid YAML: \(error)", block.firstLine, 1)
            return result
        }
        guard let root, case .mapping(let mapping) = root else {
            if root != nil {
                report(.error, .frontMatter, "front matter must be a mapping of keys to values", block.firstLine, 1)
            }
            return result
        }

        func string(_ node: Node, _ key: String) -> String? {
            guard case .scalar(let scalar) = node else {
                problem(node, "'\(key)' must be a single value, not a list or mapping")
                return nil
            }
            return scalar.string
        }

        for (keyNode, value) in mapping {
            guard let key = keyNode.string else { continue }
            switch key {
            case "runsheet":
                if value.int != 1 { problem(value, "'runsheet' is the dialect version and must be 1") }
            case "id": result.id = string(value, key)
            case "title": result.title = string(value, key)
            case "version": result.version = string(value, key)
            case "owner": result.owner = string(value, key)
            case "description": result.description = string(value, key)
            case "service", "environment":
                // What a run with production steps locks: an empty or null one would lock something else.
                guard let text = string(value, key) else { break }
                if value.null != nil || EnvironmentLock.Key.canonical(text).isEmpty {
                    problem(value, "'\(key)' is empty; a run with production steps locks the \(key) it names, so name one, or leave the key out")
                } else if let tag = value.scalar?.tag.description, !["", "tag:yaml.org,2002:str", "?", "!"].contains(tag) {
                    // `!!binary cHJvZA==` reads as its base64 text, not as what it encodes: another lock.
                    problem(value, "'\(key)' has the YAML tag \(tag); write the name as plain text, since a run with production steps locks the \(key) it names")
                } else if key == "service" {
                    result.service = text
                } else {
                    result.environment = text
                }
            case "<<":
                // YAML's merge key is not merged here: the keys it brings (a service, an environment...) would be dropped.
                problem(keyNode, "front matter may not use the YAML merge key '<<': runsheet does not merge it, so the keys it brings would be dropped without a word; write them out")
            case "shell":
                if let shell = string(value, key) {
                    if shell.trimmed.isEmpty { problem(value, "'shell' must name a program") } else { result.shell = shell }
                }
            case "command-timeout":
                // A number alone is not a duration here either: say the unit, as for `Timeout`.
                if let text = string(value, key) {
                    if let seconds = DurationText.seconds(text), seconds > 0 {
                        result.commandTimeoutSeconds = seconds
                    } else {
                        problem(value, "'command-timeout' is '\(text)', not a duration longer than 0; write e.g. 90s, 10m, 1h30m", code: .badDuration)
                    }
                }
            case "class":
                result.classPosition = at(keyNode)
                if let text = string(value, key) {
                    if let cls = ReleaseClass(rawValue: text.lowercased()) {
                        result.releaseClass = cls
                    } else {
                        problem(value, "release class '\(text)' is not one of standard, normal, emergency, major", code: .badClass)
                    }
                }
            case "production":
                if let flag = value.bool { result.production = flag } else { problem(value, "'production' must be true or false") }
            case "concurrent":
                if let flag = value.bool { result.concurrent = flag } else { problem(value, "'concurrent' must be true or false") }
            case "components":
                result.componentsPosition = at(keyNode)
                if let names = Inventory.names(value) { result.components = names } else {
                    problem(value, "'components' must be a list of configuration item names from \(Inventory.relativePath), such as [payments-db]")
                }
            case "roles":
                result.roles = parseRoles(value, problem: problem)
            case "params":
                result.declaresParams = true
                parseParams(value, into: &result, at: at, problem: problem)
            case "policy":
                result.policyPosition = at(keyNode)
                var keys: [String: (line: Int, column: Int)] = [:]
                result.policy = Policy.parse(value, problem: { problem($0, $1, code: .badPolicy) }, located: { keys[$0] = at($1) })
                result.policyKeys = keys
            case "calendar":
                result.calendarPosition = at(keyNode)
                result.calendarPath = string(value, key)
            case "windows", "freezes":
                var calendar = result.inlineCalendar ?? ChangeCalendar()
                let periods = ChangeCalendar.periods(value, list: key, zone: TimeZone(identifier: "UTC")!) { problem($0, $1, code: .badCalendar) }
                if key == "windows" { calendar.windows += periods } else { calendar.freezes += periods }
                result.inlineCalendar = calendar
            case "signing", "tags", "requires":
                break  // Reserved: read by later features.
            default:
                if key.count >= 3,
                   let near = EditDistance.closest(to: key.lowercased(), in: knownKeys, maximum: key.count >= 6 ? 2 : 1)
                    ?? EditDistance.closest(to: key, in: knownKeys, maximum: key.count >= 6 ? 2 : 1) {
                    // A misspelt key that carries a rule would drop it without a word: an error.
                    if Self.governanceKeys.contains(near) {
                        problem(keyNode, "unknown front matter key '\(key)'; did you mean '\(near)'? A misspelt governance key would drop its rule", code: .unknownKey, severity: .error)
                    } else {
                        problem(keyNode, "unknown front matter key '\(key)'; did you mean '\(near)'?", code: .unknownKey, severity: .warning)
                    }
                }
            }
        }
        return result
    }

    /// Yams works its default encoding out from a copy of the whole environment on every parse;
    /// it cannot change while runsheet runs, so it is worked out once. With YAMS_DEFAULT_ENCODING
    /// set, Yams still decides each time (it also prints a note then).
    private static let yamlEncodingName: String? = getenv("YAMS_DEFAULT_ENCODING") == nil ? Parser.Encoding.default.rawValue : nil
    private static var yamlEncoding: Parser.Encoding { yamlEncodingName.flatMap(Parser.Encoding.init(rawValue:)) ?? .default }

    /// Composes YAML; a repeated top-level key that runsheet does not read is dropped in favour of
    /// its last occurrence (GitHub's issue templates tolerate this), and reported through `repeated`.
    static func composeKeepingLastDuplicate(_ yaml: String, repeated: (String, Int) -> Void) throws -> Node? {
        do {
            return try Yams.compose(yaml: yaml, .default, .default, yamlEncoding)
        } catch YamlError.duplicatedKeysInMapping(let duplicates, let context) {
            guard duplicates.allSatisfy({ !knownKeys.contains($0) }) else {
                throw YamlError.duplicatedKeysInMapping(duplicates: duplicates, context: context)
            }
            var lines = yaml.components(separatedBy: "\n")
            var blanked = false
            for key in duplicates {
                let indices = lines.indices.filter { lines[$0].hasPrefix(key + ":") }
                for index in indices.dropLast() {
                    repeated(key, index + 1)
                    lines[index] = "#"
                    blanked = true
                }
            }
            guard blanked else { throw YamlError.duplicatedKeysInMapping(duplicates: duplicates, context: context) }
            return try Yams.compose(yaml: lines.joined(separator: "\n"), .default, .default, yamlEncoding)
        }
    }

    private static func parseRoles(_ value: Node, problem: (Node, String, DiagnosticCode, Severity) -> Void) -> [String] {
        switch value {
        case .sequence(let sequence):
            return sequence.compactMap { item in
                guard let name = item.string, !name.isEmpty else {
                    problem(item, "each role must be a name", .frontMatter, .error)
                    return nil
                }
                return name
            }
        case .mapping(let mapping):
            for (name, description) in mapping {
                if case .scalar = description { continue }
                // Who holds a role is the roles file's to say; a runbook that lists people here grants nothing.
                problem(description, "'roles' in the front matter declares role names with a description; who holds '\(name.string ?? "?")' is said only in \(RolesFile.relativePath)",
                        .weakensGovernance, .error)
            }
            return mapping.compactMap { $0.key.string }
        case .scalar(let scalar):
            return scalar.string.split(separator: ",").map { String($0).trimmed }.filter { !$0.isEmpty }
        default:
            problem(value, "'roles' must be a list of role names", .frontMatter, .error)
            return []
        }
    }

    private static func parseParams(
        _ value: Node, into result: inout FrontMatter, at: (Node) -> (Int, Int),
        problem: (Node, String, DiagnosticCode, Severity) -> Void
    ) {
        guard case .mapping(let mapping) = value else {
            if case .scalar(let s) = value, s.string.isEmpty || s.string == "~" || s.string == "null" { return }
            problem(value, "'params' must map parameter names to their settings", .frontMatter, .error)
            return
        }
        for (nameNode, spec) in mapping {
            guard let name = nameNode.string else { continue }
            guard Placeholders.isParameterName(name) else {
                problem(nameNode, "parameter name '\(name)' must start with a letter or '_' and hold only letters, digits, '_' and '-'", .frontMatter, .error)
                continue
            }
            var parameter = Parameter(name: name, type: .string, defaultValue: nil, choices: nil, pattern: nil,
                                      secret: false, prompt: nil, description: nil)
            switch spec {
            case .scalar(let scalar):
                parameter.defaultValue = scalar.string
            case .mapping(let settings):
                var typeNode: Node?
                for (settingNode, settingValue) in settings {
                    guard let setting = settingNode.string else { continue }
                    switch setting {
                    case "type":
                        typeNode = settingValue
                        if let text = settingValue.string, let kind = Parameter.Kind(rawValue: text) {
                            parameter.type = kind
                        } else {
                            problem(settingValue, "parameter '\(name)' has type '\(settingValue.string ?? "?")'; use string, int, number, bool or choice", .frontMatter, .error)
                        }
                    case "default":
                        guard case .scalar(let s) = settingValue else {
                            problem(settingValue, "the default of '\(name)' must be a single value", .frontMatter, .error)
                            continue
                        }
                        parameter.defaultValue = s.string
                    case "choices":
                        guard case .sequence(let items) = settingValue else {
                            problem(settingValue, "the choices of '\(name)' must be a list", .frontMatter, .error)
                            continue
                        }
                        parameter.choices = items.compactMap(\.string)
                    case "pattern":
                        guard let pattern = settingValue.string else { continue }
                        if (try? NSRegularExpression(pattern: pattern)) == nil {
                            problem(settingValue, "the pattern of '\(name)' is not a valid regular expression", .frontMatter, .error)
                        }
                        parameter.pattern = pattern
                    case "secret":
                        guard let flag = settingValue.bool else {
                            problem(settingValue, "'secret' of '\(name)' must be true or false", .frontMatter, .error)
                            continue
                        }
                        parameter.secret = flag
                    case "prompt": parameter.prompt = settingValue.string
                    case "description": parameter.description = settingValue.string
                    case "required":
                        break  // Documented as implied by a missing default; accepted for readability.
                    case "<<":
                        problem(settingNode, "parameter '\(name)' may not use the YAML merge key '<<': runsheet does not merge it, so the settings it brings (secret, default...) would be dropped without a word; write them out", .frontMatter, .error)
                    default:
                        let near = EditDistance.closest(to: setting, in: paramKeys, maximum: 2).map { "; did you mean '\($0)'?" } ?? ""
                        problem(settingNode, "unknown setting '\(setting)' for parameter '\(name)'\(near)", .unknownKey, .warning)
                    }
                }
                if parameter.choices != nil && typeNode == nil { parameter.type = .choice }
                if parameter.type == .choice && (parameter.choices ?? []).isEmpty {
                    problem(nameNode, "parameter '\(name)' is a choice but lists no choices", .frontMatter, .error)
                }
                if let value = parameter.defaultValue, let message = RunParameters.problem(with: value, for: parameter) {
                    problem(nameNode, "the default of '\(name)' is invalid: \(message)", .frontMatter, .error)
                }
            default:
                problem(spec, "parameter '\(name)' must have a default value or a mapping of settings", .frontMatter, .error)
                continue
            }
            // A parameter named service or environment names the run's environment lock.
            let lockKey = EnvironmentLock.Key.canonical(name)
            if lockKey == "service" || lockKey == "environment" {
                if name != lockKey {
                    problem(nameNode, "parameter '\(name)' does not name the run's \(lockKey) lock (only '\(lockKey)' in lower case does), so the run would lock another \(lockKey) than its commands change; name it '\(lockKey)'", .frontMatter, .error)
                }
                if parameter.secret {
                    problem(nameNode, "parameter '\(name)' names the run's environment lock, which the journal, 'runsheet status' and the lock files show in clear, so it may not be secret", .frontMatter, .error)
                }
            }
            if result.paramLines[name] != nil {
                problem(nameNode, "parameter '\(name)' is declared twice", .frontMatter, .error)
                continue
            }
            result.paramLines[name] = at(nameNode)
            result.params.append(parameter)
        }
    }

    /// The error's problem text and its 1-based line and column within the YAML.
    static func describe(_ error: YamlError) -> (String, Int, Int) {
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
             .composer(_, let problem, let mark, _):
            return (problem, mark.line, mark.column)
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ("duplicate key '\(duplicates.joined(separator: "', '"))'", context.mark.line, context.mark.column)
        case .reader(let problem, _, _, _):
            return (problem, 1, 1)
        default:
            return ("\(error)", 1, 1)
        }
    }
}
