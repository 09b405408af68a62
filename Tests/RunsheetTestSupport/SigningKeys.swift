import Foundation

/// SSH keys made by the real `ssh-keygen` for signing tests, and an `ssh-agent` started and
/// stopped by the test.
public enum SigningKeys {
    /// A new key without a passphrase at `directory/name` (and `name.pub`): `type` is `ed25519`,
    /// `ecdsa` or `rsa`, with `bits` for the last two. Returns the private key's path.
    @discardableResult
    public static func generate(_ type: String = "ed25519", bits: Int? = nil, name: String, in directory: URL, passphrase: String = "") throws -> String {
        let path = directory.appendingPathComponent(name).path
        var arguments = ["-q", "-t", type, "-N", passphrase, "-C", name, "-f", path]
        if let bits { arguments += ["-b", String(bits)] }
        let made = try Fixtures.run("/usr/bin/ssh-keygen", arguments)
        guard made.status == 0 else { throw KeyError(description: "ssh-keygen \(arguments.joined(separator: " ")): \(made.stderr)") }
        return path
    }

    /// `TYPE BASE64` of the public key beside `privateKey`.
    public static func publicKey(_ privateKey: String) throws -> String {
        let line = try String(contentsOfFile: privateKey + ".pub", encoding: .utf8)
        return line.split(separator: " ").prefix(2).joined(separator: " ")
    }

    /// Writes `.runsheet/allowed_signers` in `repository`: one line per (principal, private key path).
    public static func allow(_ entries: [(principal: String, key: String)], in repository: URL, options: String = "namespaces=\"runsheet\"") throws {
        let folder = repository.appendingPathComponent(".runsheet")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let lines = try entries.map { "\($0.principal) \(options) \(try publicKey($0.key))" }
        try (lines.joined(separator: "\n") + "\n").write(to: folder.appendingPathComponent("allowed_signers"), atomically: true, encoding: .utf8)
    }

    public struct KeyError: Error, CustomStringConvertible { public var description: String }

    /// An `ssh-agent` of the test's own, on a socket in a temporary folder; `stop()` kills it.
    public final class Agent: @unchecked Sendable {
        public let socket: String
        let pid: pid_t

        public init() throws {
            let folder = try Fixtures.temporaryDirectory("agent")
            socket = folder.appendingPathComponent("agent.sock").path
            // In the foreground (-D), as a child of the test with no pipe of ours: stop() ends it.
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-agent")
            process.arguments = ["-D", "-a", socket]
            process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
            process.standardError = FileHandle(forWritingAtPath: "/dev/null")
            process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
            try process.run()
            ScratchRoot.started(process)
            pid = process.processIdentifier
            for _ in 0..<500 where access(socket, F_OK) != 0 { usleep(10_000) }
            guard access(socket, F_OK) == 0 else {
                kill(pid, SIGTERM)
                throw KeyError(description: "ssh-agent did not make its socket \(socket) within 5 s")
            }
        }

        /// `ssh-add KEY` into this agent.
        public func add(_ privateKey: String) throws {
            let added = try Fixtures.run("/usr/bin/ssh-add", ["-q", privateKey], environment: ["SSH_AUTH_SOCK": socket])
            guard added.status == 0 else { throw KeyError(description: "ssh-add: \(added.stderr)") }
        }

        public func stop() { kill(pid, SIGTERM) }
        deinit { stop() }
    }
}
