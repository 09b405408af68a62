import Foundation

/// OpenSSH's `ssh-keygen`, run as a real process: the keys the signature tests use and the stock
/// verifier their results are compared with.
public enum SSHKeygen {
    /// A key pair written by `ssh-keygen -t` into a test folder.
    public struct Key: Sendable {
        public var privatePath: String
        public var publicPath: String { privatePath + ".pub" }
        /// `TYPE BASE64 COMMENT`, as in the `.pub` file.
        public var publicLine: String
    }

    public static var path: String {
        ["/usr/bin/ssh-keygen", "/bin/ssh-keygen", "/usr/local/bin/ssh-keygen"].first { FileManager.default.isExecutableFile(atPath: $0) }
            ?? "ssh-keygen"
    }

    /// Generates a key without a passphrase: `type` is `ed25519`, `ecdsa` or `rsa`.
    public static func generate(_ type: String, bits: Int? = nil, in directory: URL, name: String) throws -> Key {
        let file = directory.appendingPathComponent(name).path
        var arguments = ["-q", "-t", type, "-N", "", "-C", "\(name)@test", "-f", file]
        if let bits { arguments += ["-b", String(bits)] }
        let result = try Fixtures.run(path, arguments)
        guard result.status == 0 else { throw Failure(description: "ssh-keygen -t \(type) failed: \(result.stderr)") }
        let line = try String(contentsOfFile: file + ".pub", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        return Key(privatePath: file, publicLine: line)
    }

    /// Signs `message` with `ssh-keygen -Y sign` and returns the armored signature it writes.
    public static func sign(_ message: String, with key: Key, namespace: String = "runsheet", in directory: URL) throws -> String {
        let file = directory.appendingPathComponent("message-\(UUID().uuidString)").path
        try message.write(toFile: file, atomically: true, encoding: .utf8)
        let result = try Fixtures.run(path, ["-Y", "sign", "-n", namespace, "-f", key.privatePath, file])
        guard result.status == 0 else { throw Failure(description: "ssh-keygen -Y sign failed: \(result.stderr)") }
        return try String(contentsOfFile: file + ".sig", encoding: .utf8)
    }

    /// Runs `ssh-keygen -Y verify -f SIGNERS -I PRINCIPAL -n NAMESPACE -s SIG [-Overify-time=TIME] < MESSAGE`.
    public static func verify(signers: String, principal: String, namespace: String = "runsheet", signature: String,
                              message: String, time: String? = nil, in directory: URL) throws -> ProcessResult {
        let file = directory.appendingPathComponent("signature-\(UUID().uuidString).sig").path
        try signature.write(toFile: file, atomically: true, encoding: .utf8)
        var arguments = ["-Y", "verify", "-f", signers, "-I", principal, "-n", namespace, "-s", file]
        if let time { arguments.append("-Overify-time=\(time)") }
        return try Fixtures.run(path, arguments, stdin: message)
    }

    /// The `SHA256:…` fingerprint `ssh-keygen -lf` prints for a public key file.
    public static func fingerprint(ofPublicKeyFile file: String) throws -> String {
        let result = try Fixtures.run(path, ["-l", "-f", file])
        let fields = result.stdout.split(separator: " ")
        guard result.status == 0, fields.count >= 2 else { throw Failure(description: "ssh-keygen -l failed: \(result.stderr)") }
        return String(fields[1])
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }
}
