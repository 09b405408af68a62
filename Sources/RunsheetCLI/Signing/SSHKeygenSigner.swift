import ArgumentParser
import Foundation
import RunsheetCore

/// `--key PATH`: the SSH key a person signs their events with (docs/JOURNAL.md, "Signatures").
struct SigningKeyOption: ParsableArguments {
    @Option(name: .customLong("key"),
            help: ArgumentHelp("The SSH key to sign with (default: $RUNSHEET_SIGNING_KEY, else Git's user.signingkey when gpg.format is ssh); a public key file signs through ssh-agent.",
                               valueName: "path"),
            completion: .file())
    var keyPath: String?

    /// The sentence that refuses to act without a key where signatures are required (exit 1).
    static func required(run: String, act: String) -> String {
        "run \(run.shown) requires signatures, so \(act) must be signed, and no key is at hand; give one with --key PATH, " +
            "RUNSHEET_SIGNING_KEY or Git's user.signingkey (with gpg.format ssh), so nothing was written"
    }
}

/// Signs through `ssh-keygen -Y sign -n runsheet`, so a passphrase is asked on the terminal by
/// OpenSSH itself, and keys held by `ssh-agent` or on a hardware key sign as they do for Git.
final class SSHKeygenSigner: EventSigner {
    /// The file `ssh-keygen -f` is given: a private key, or a public key whose private half is in the agent.
    let keyFile: String
    /// The public key, `TYPE BASE64`, which says who signs (the allowed signers' principal for it).
    let publicKey: String
    /// Where the key came from, for sentences: `--key`, `RUNSHEET_SIGNING_KEY` or Git's `user.signingkey`.
    let source: String
    static let gitSource = "Git's user.signingkey"
    /// A file this signer wrote (Git's `key::` literal) and removes when it is done.
    private let temporary: String?

    private init(keyFile: String, publicKey: String, source: String, temporary: String? = nil) {
        self.keyFile = keyFile
        self.publicKey = publicKey
        self.source = source
        self.temporary = temporary
    }

    deinit {
        if let temporary { _ = unlink(temporary) }
    }

    /// The key at hand: `--key`, else `RUNSHEET_SIGNING_KEY`, else Git's `user.signingkey` when
    /// `gpg.format` is `ssh` (in the repository around `directory`); nil when there is none. A key
    /// named but unusable is an error (exit 2), never a silent unsigned event.
    static func locate(explicit: String?, near directory: String) throws -> SSHKeygenSigner? {
        let environment = ProcessInfo.processInfo.environment
        if let explicit {
            guard !explicit.trimmed.isEmpty else { throw failure("--key is empty; give the path of an SSH key") }
            return try fromPath(explicit, source: "--key")
        }
        if let path = environment["RUNSHEET_SIGNING_KEY"], !path.trimmed.isEmpty {
            return try fromPath(path, source: "RUNSHEET_SIGNING_KEY")
        }
        guard RunContext.gitOutput(["config", "--get", "gpg.format"], in: directory) == "ssh",
              let configured = RunContext.gitOutput(["config", "--get", "user.signingkey"], in: directory), !configured.isEmpty
        else { return nil }
        let source = gitSource
        // Git takes a literal public key (`key::ssh-ed25519 AAAA…`, or the bare key) for a key in the agent.
        let literal = configured.hasPrefix("key::") ? String(configured.dropFirst(5)) : configured
        if let key = publicKeyLine(literal) {
            let path = NSTemporaryDirectory() + "runsheet-signing-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).pub"
            guard FileManager.default.createFile(atPath: path, contents: Data((key + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
                throw failure("cannot write the public key of \(source) to \(path) for ssh-keygen")
            }
            return SSHKeygenSigner(keyFile: path, publicKey: key, source: source, temporary: path)
        }
        return try fromPath(configured.hasPrefix("~/") ? NSHomeDirectory() + configured.dropFirst(1) : configured, source: source)
    }

    private static func fromPath(_ path: String, source: String) throws -> SSHKeygenSigner {
        let contents: Data
        switch readFile(path) {
        case .success(let data): contents = data
        case .failure(let reason): throw failure("cannot read the signing key \(path) (from \(source)): \(reason.text)")
        }
        let text = String(decoding: contents, as: UTF8.self)
        if let key = publicKeyLine(text) { return SSHKeygenSigner(keyFile: path, publicKey: key, source: source) }
        guard text.contains("PRIVATE KEY-----") else {
            throw failure("the signing key \(path) (from \(source)) is neither an SSH private key nor a public key")
        }
        // The public half: beside it as ssh-keygen writes it, else derived (which may ask the passphrase).
        if case .success(let beside) = readFile(path + ".pub"), let key = publicKeyLine(String(decoding: beside, as: UTF8.self)) {
            return SSHKeygenSigner(keyFile: path, publicKey: key, source: source)
        }
        let derived = try run(["-y", "-f", path], input: [], what: "read the public key of \(path) (from \(source))")
        guard let key = publicKeyLine(String(decoding: derived, as: UTF8.self)) else {
            throw failure("ssh-keygen printed no public key for \(path) (from \(source))")
        }
        return SSHKeygenSigner(keyFile: path, publicKey: key, source: source)
    }

    /// `TYPE BASE64` from an OpenSSH public key line (the comment dropped), or nil.
    static func publicKeyLine(_ text: String) -> String? {
        let words = text.trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" }).prefix(2)
        guard words.count == 2, let type = words.first,
              type.hasPrefix("ssh-") || type.hasPrefix("ecdsa-") || type.hasPrefix("sk-"),
              !text.trimmed.contains("\n") else { return nil }
        return words.joined(separator: " ")
    }

    func signature(over message: [UInt8]) throws -> String {
        let output = try Self.run(["-Y", "sign", "-n", "runsheet", "-f", keyFile], input: message,
                                  what: "sign with \(keyFile) (from \(source))")
        let armored = String(decoding: output, as: UTF8.self).trimmed
        guard armored.hasPrefix("-----BEGIN SSH SIGNATURE-----"), armored.hasSuffix("-----END SSH SIGNATURE-----") else {
            throw Self.failure("ssh-keygen did not print a signature when signing with \(keyFile) (from \(source))")
        }
        // The key that signed must be the one whose principal acts (an agent may hold another).
        guard let signer = SSHSignature.signer(of: armored), let expected = try? SSHPublicKey(line: publicKey), signer == expected else {
            throw Self.failure("ssh-keygen signed with another key than \(keyFile) (from \(source)) holds, so nothing was written")
        }
        return armored
    }

    /// Runs ssh-keygen with `input` on standard input; its own prompts (a passphrase, a touch) go
    /// to the terminal. A missing ssh-keygen or a failure is one sentence (exit 2).
    private static func run(_ arguments: [String], input inputBytes: [UInt8], what: String) throws -> Data {
        guard let executable = executable("ssh-keygen") else {
            throw failure("cannot \(what): ssh-keygen is not installed (Debian: openssh-client)")
        }
        // Its messages go to an unlinked file, read once it has exited: no second reader, no pipe to fill.
        let errorPath = NSTemporaryDirectory() + "runsheet-ssh-keygen-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let errorFD = open(errorPath, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard errorFD >= 0 else { throw failure("cannot \(what): cannot create \(errorPath): \(String(cString: strerror(errno)))") }
        unlink(errorPath)
        defer { close(errorFD) }
        var input: [Int32] = [-1, -1], outPipe: [Int32] = [-1, -1]
        guard pipe(&input) == 0, pipe(&outPipe) == 0 else {
            throw failure("cannot \(what): cannot make a pipe: \(String(cString: strerror(errno)))")
        }
        // Close-on-exec, so a command started by another thread never inherits them.
        for fd in input + outPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        // posix_spawn, not Process: the child stays in runsheet's process group, the terminal's
        // foreground one, so ssh-keygen can ask for a passphrase on /dev/tty (in a group of its own
        // its reads of the terminal fail, and it asks again and again).
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, input[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errorFD, 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        close(input[0])
        close(outPipe[1])
        guard spawned == 0 else {
            close(input[1])
            close(outPipe[0])
            throw failure("cannot \(what): ssh-keygen could not be started: \(String(cString: strerror(spawned)))")
        }
        // ssh-keygen reads the whole message before it writes anything, so writing it first cannot block for good.
        _ = message(input[1], bytes: inputBytes)
        close(input[1])
        var output_ = Data()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(outPipe[0], &buffer, buffer.count)
            if count > 0 { output_.append(contentsOf: buffer[0..<count]); continue }
            if count < 0, errno == EINTR { continue }
            break
        }
        close(outPipe[0])
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        let exited = status & 0x7F == 0, code = (status >> 8) & 0xFF
        guard exited, code == 0 else {
            _ = lseek(errorFD, 0, SEEK_SET)
            var said = Data()
            while true {
                let count = read(errorFD, &buffer, buffer.count)
                guard count > 0 else { break }
                said.append(contentsOf: buffer[0..<count])
            }
            let last = String(decoding: said, as: UTF8.self).split(separator: "\n")
                .map { String($0).replacingOccurrences(of: "Enter passphrase:", with: "").trimmed }
                .filter { !$0.isEmpty && $0 != "Signing data on standard input" }.last
            throw failure("cannot \(what): ssh-keygen failed" + (last.map { ": \($0)" } ?? (exited ? " with status \(code)" : " (killed by signal \(status & 0x7F))")))
        }
        let output = output_
        return output
    }

    /// Writes all of `bytes` to `fd`; false when the reader went away (its own error then says why).
    private static func message(_ fd: Int32, bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 { if errno == EINTR { continue }; return false }
            offset += written
        }
        return true
    }

    struct Reason: Error { var text: String }

    /// A regular file's bytes, or why not in the system's words ("Permission denied").
    private static func readFile(_ path: String) -> Result<Data, Reason> {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)  // a FIFO does not block the open
        guard fd >= 0 else { return .failure(Reason(text: String(cString: strerror(errno)))) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            return .failure(Reason(text: "it is not a regular file"))
        }
        let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        do {
            return .success(try handle.readToEnd() ?? Data())
        } catch {
            return .failure(Reason(text: (error as NSError).localizedDescription))
        }
    }

    static func executable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { access($0, X_OK) == 0 }
    }

    private static func failure(_ message: String) -> CommandFailure {
        CommandFailure(status: .usage, message: message)
    }
}
