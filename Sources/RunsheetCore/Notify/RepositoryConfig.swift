import Foundation
import Yams

/// The repository's `.runsheet/config.yaml`, found by walking up from a runbook as the roles and
/// policy files are: where notifications go, and which shared run store to use.
///
/// ```yaml
/// store: postgres://runsheet@db.example.com/runs
/// notify:
///   - name: chat
///     events: [gate.waiting, run.ended]
///     url: https://hooks.example.com/runsheet
///     secret-env: RUNSHEET_HOOK_KEY
///     timeout: 5s
///     retries: 2
///   - events: [step.failed, rollback.started]
///     command: ./scripts/page-oncall
/// ```
public struct RepositoryConfig: Sendable, Equatable {
    public static let relativePath = ".runsheet/config.yaml"
    static let keys = ["notify", "store"]

    public var path: String
    /// Where notifications of run events go, in the file's order.
    public var notify: [NotifyTarget]
    /// The URL of a shared run store, as written; nil when the file names none.
    public var store: String?

    public init(path: String, notify: [NotifyTarget] = [], store: String? = nil) {
        self.path = path
        self.notify = notify
        self.store = store
    }

    /// Parses a config file; problems are diagnostics at their position in it. A target with a
    /// problem is left out, and the error stops every command that would notify (fail closed).
    public static func parse(path: String, text: String) -> (RepositoryConfig, [Diagnostic]) {
        var diagnostics: [Diagnostic] = []
        var config = RepositoryConfig(path: path)
        func problem(_ message: String, _ node: Node?) {
            diagnostics.append(Diagnostic(.error, .configFile, message, path: path,
                                          line: node?.mark?.line ?? 1, column: node?.mark?.column ?? 1))
        }
        guard let root = RepositoryFile.compose(text, path: path, code: .configFile, what: "config file", into: &diagnostics) else {
            return (config, diagnostics)
        }
        guard case .mapping(let top) = root else {
            problem("the config file must be a mapping with 'notify' and/or 'store'", root)
            return (config, diagnostics)
        }
        for (key, value) in top {
            switch key.string {
            case "store":
                guard case .scalar(let scalar) = value, !scalar.string.trimmed.isEmpty else {
                    problem("'store' must be the URL of a run store, as a string", value)
                    continue
                }
                config.store = scalar.string.trimmed
            case "notify":
                guard case .sequence(let targets) = value else {
                    problem("'notify' must be a list of targets, each with 'events' and 'command' or 'url'", value)
                    continue
                }
                for (index, node) in targets.enumerated() {
                    if let target = NotifyTarget.parse(node, index: index + 1, problem: problem) { config.notify.append(target) }
                }
            default:
                problem("unknown key '\(key.string ?? "?")' in the config file; the keys are \(keys.map { "'\($0)'" }.joined(separator: " and "))", key)
            }
        }
        return (config, diagnostics)
    }

    /// Parses a config file's bytes read from elsewhere (Git's objects), as `load` parses the file
    /// it reads: bytes that are not UTF-8 are an error, and the file then declares nothing.
    public static func parse(path: String, bytes: [UInt8]) -> (RepositoryConfig, [Diagnostic]) {
        RepositoryFile.read(path, code: .configFile, what: "config file", loader: { _ in bytes })?
            .parsed(with: parse, unusable: { RepositoryConfig(path: $0) }) ?? (RepositoryConfig(path: path), [])
    }

    /// Loads the config file that applies to a runbook, if any, with `loader`. One that cannot be
    /// read, decoded or parsed is an error, and stands in as a file that declares nothing.
    public static func load(forRunbook path: String, loader: Compiler.Loader = Compiler.disk) -> (RepositoryConfig, [Diagnostic])? {
        RepositoryFile.load(relativePath, forRunbook: path, code: .configFile, what: "config file", loader: loader,
                            parse: parse, unusable: { RepositoryConfig(path: $0) })
    }
}

/// One `notify` entry: which kinds of event go where, and how long delivery may take.
public struct NotifyTarget: Sendable, Equatable {
    public enum Destination: Sendable, Equatable {
        /// Run with `/bin/sh -c`, the notification as JSON on standard input.
        case command(String)
        /// An HTTP POST of the JSON, signed with the key in the environment variable `secretEnv`.
        case url(String, secretEnv: String?)
    }

    public static let defaultTimeout = 5
    public static let maximumTimeout = 30
    public static let defaultRetries = 2
    public static let maximumRetries = 5
    static let keys = ["name", "events", "command", "url", "secret-env", "timeout", "retries"]

    /// What the journal and the screen call the target: its `name`, else the URL without user,
    /// query and fragment, else the command.
    public var name: String
    public var events: [NotificationKind]
    public var destination: Destination
    /// Seconds one attempt may take.
    public var timeout: Int
    /// Attempts after the first.
    public var retries: Int

    public init(name: String, events: [NotificationKind], destination: Destination,
                timeout: Int = NotifyTarget.defaultTimeout, retries: Int = NotifyTarget.defaultRetries) {
        self.name = name
        self.events = events
        self.destination = destination
        self.timeout = timeout
        self.retries = retries
    }

    /// The longest a delivery to this target can take: every attempt to its timeout, and the
    /// pauses between them (`NotificationDelivery.pause`).
    public var bound: Double {
        Double(timeout * (retries + 1)) + NotificationDelivery.pause * Double(retries)
    }

    static func parse(_ node: Node, index: Int, problem: (String, Node?) -> Void) -> NotifyTarget? {
        let which = "notify target \(index)"
        guard case .mapping(let mapping) = node else {
            problem("\(which) must be a mapping with 'events' and 'command' or 'url'", node)
            return nil
        }
        var ok = true
        func fail(_ message: String, _ at: Node?) {
            problem(message, at)
            ok = false
        }
        func string(_ key: String) -> String? {
            guard let value = mapping[key] else { return nil }
            guard case .scalar(let scalar) = value, !scalar.string.trimmed.isEmpty else {
                fail("'\(key)' of \(which) must be a non-empty string", value)
                return nil
            }
            return scalar.string.trimmed
        }
        func number(_ key: String, maximum: Int, default value: Int, parse: (String) -> Int?, unit: String) -> Int {
            guard let node = mapping[key] else { return value }
            guard case .scalar(let scalar) = node, let number = parse(scalar.string) else {
                fail("'\(key)' of \(which) must be \(unit)", node)
                return value
            }
            guard number <= maximum else {
                fail("'\(key)' of \(which) is \(scalar.string), more than the maximum of \(key == "timeout" ? DurationText.format(maximum) : String(maximum))", node)
                return value
            }
            return number
        }
        for key in mapping.keys where !keys.contains(key.string ?? "") {
            fail("unknown key '\(key.string ?? "?")' in \(which); the keys are \(keys.map { "'\($0)'" }.joined(separator: ", "))", key)
        }
        var events: [NotificationKind] = []
        if let list = mapping["events"] {
            if case .sequence(let entries) = list, !entries.isEmpty {
                for entry in entries {
                    if let text = entry.string, let kind = NotificationKind(rawValue: text) {
                        if !events.contains(kind) { events.append(kind) }
                    } else {
                        fail("\(which) names an unknown event kind '\(entry.string ?? "?")'; the kinds are \(NotificationKind.allCases.map(\.rawValue).joined(separator: ", "))", entry)
                    }
                }
            } else {
                fail("'events' of \(which) must be a list of event kinds (\(NotificationKind.allCases.map(\.rawValue).joined(separator: ", ")))", list)
            }
        } else {
            fail("\(which) has no 'events'; list the event kinds it gets (\(NotificationKind.allCases.map(\.rawValue).joined(separator: ", ")))", node)
        }
        let command = string("command"), url = string("url"), secretEnv = string("secret-env"), name = string("name")
        let timeout = number("timeout", maximum: maximumTimeout, default: defaultTimeout, parse: { text in
            DurationText.seconds(text).flatMap { $0 > 0 ? $0 : nil }
        }, unit: "a duration of at least 1s, e.g. 5s")
        let retries = number("retries", maximum: maximumRetries, default: defaultRetries, parse: { Int($0.trimmed).flatMap { $0 >= 0 ? $0 : nil } },
                             unit: "a whole number of at least 0")
        let destination: Destination
        switch (command, url) {
        case (let command?, nil):
            if let secretEnv = mapping["secret-env"] { fail("'secret-env' of \(which) signs an HTTP request, and this target runs a command; remove it", secretEnv) }
            destination = .command(command)
        case (nil, let url?):
            guard let parsed = URLComponents(string: url), let scheme = parsed.scheme?.lowercased(), scheme == "http" || scheme == "https",
                  !(parsed.host ?? "").isEmpty else {
                fail("'url' of \(which) must be an http:// or https:// URL with a host", mapping["url"])
                return nil
            }
            if let secretEnv, secretEnv.contains(where: { !($0.isLetter || $0.isNumber || $0 == "_") }) || !secretEnv.allSatisfy(\.isASCII) {
                fail("'secret-env' of \(which) must be the name of an environment variable (letters, digits and _)", mapping["secret-env"])
            }
            destination = .url(url, secretEnv: secretEnv)
        case (.some, .some):
            fail("\(which) has both 'command' and 'url'; a target is one or the other", mapping["url"])
            return nil
        case (nil, nil):
            if mapping["command"] == nil && mapping["url"] == nil {
                fail("\(which) has neither 'command' nor 'url'; a target says where notifications go", node)
            }
            return nil
        }
        guard ok else { return nil }
        return NotifyTarget(name: name ?? Self.shownName(of: destination), events: events, destination: destination,
                            timeout: timeout, retries: retries)
    }

    /// The URL without its user, password, query and fragment (where a token may sit), or the command.
    static func shownName(of destination: Destination) -> String {
        switch destination {
        case .command(let command): return command
        case .url(let url, _):
            guard var parts = URLComponents(string: url) else { return url }
            (parts.user, parts.password, parts.query, parts.fragment) = (nil, nil, nil, nil)
            return parts.string ?? url
        }
    }
}

/// The kinds of run event a target may ask for (docs/FORMAT.md, "Notifications").
public enum NotificationKind: String, Sendable, Codable, CaseIterable {
    /// The run arrived at a gate whose rule is not met: it waits for sign-offs.
    case gateWaiting = "gate.waiting"
    /// A step was marked failed (by the operator, or by a check that failed).
    case stepFailed = "step.failed"
    /// A failure branch (a rollback) was taken.
    case rollbackStarted = "rollback.started"
    /// The run ended: completed, failed, rolled back or aborted.
    case runEnded = "run.ended"
    /// A production step is blocked by the change calendar and needs an exception.
    case calendarBlocked = "calendar.blocked"
}
