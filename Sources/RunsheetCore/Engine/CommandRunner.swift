import Crypto
import Foundation
import Synchronization

/// Runs one shell command at a time in its own process group, streaming masked output.
///
/// `interrupt()` may be called from any thread (for example a SIGINT dispatch source) while `run` blocks.
public final class CommandRunner: Sendable {
    /// Bytes of output kept in memory for `CommandOutcome.tail`.
    public static let tailLimit = 4096

    private struct State {
        var running = false
        var processGroup: pid_t?
        var interruptRequested = false
    }

    private let state = Mutex(State())
    private let killGrace: Swift.Duration
    private let drainAfterExit: Swift.Duration

    /// - Parameters:
    ///   - killGrace: time between SIGTERM/SIGINT and SIGKILL.
    ///   - drainAfterExit: how long to keep reading after the shell exits while something still holds the pipe.
    public init(killGrace: Swift.Duration = .seconds(3), drainAfterExit: Swift.Duration = .seconds(1)) {
        self.killGrace = killGrace
        self.drainAfterExit = drainAfterExit
    }

    /// Sends SIGINT to the running command's process group (SIGKILL follows after the grace period),
    /// or ends a `sleep`. Does nothing when neither is under way.
    public func interrupt() {
        state.withLock { state in
            guard state.running else { return }
            state.interruptRequested = true
            if let group = state.processGroup { _ = kill(-group, SIGINT) }
        }
    }

    /// Waits `seconds` (between a command's attempts); `interrupt()` cuts the wait short, as it
    /// stops a command. Returns false when interrupted.
    public func sleep(seconds: Double) throws -> Bool {
        let claimed = state.withLock { state -> Bool in
            guard !state.running else { return false }
            state = State(running: true)
            return true
        }
        guard claimed else { throw CommandRunnerError.alreadyRunning }
        defer { state.withLock { $0 = State() } }
        let end = Date().addingTimeInterval(seconds)
        while true {
            if state.withLock({ $0.interruptRequested }) { return false }
            let left = end.timeIntervalSinceNow
            if left <= 0 { return true }
            Thread.sleep(forTimeInterval: min(0.05, left))
        }
    }

    /// Runs `spec` to completion, calling `onOutput` with each masked chunk as it arrives.
    public func run(_ spec: CommandSpec, onOutput: @Sendable (String) -> Void) throws -> CommandOutcome {
        let claimed = state.withLock { state -> Bool in
            guard !state.running else { return false }
            state = State(running: true)
            return true
        }
        guard claimed else { throw CommandRunnerError.alreadyRunning }
        defer { state.withLock { $0 = State() } }

        if !spec.workingDirectory.isEmpty {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: spec.workingDirectory, isDirectory: &isDirectory),
                isDirectory.boolValue
            else {
                throw CommandRunnerError.workingDirectoryMissing(spec.workingDirectory)
            }
        }
        var sink = try OutputSink(path: spec.outputPath, secrets: spec.secrets)
        defer { sink.close() }

        let clock = ContinuousClock()
        let start = clock.now
        let (pid, readEnd) = try spawn(spec)
        defer { LibC.close(readEnd) }
        state.withLock { state in
            state.processGroup = pid
            // An interrupt that arrived while spawning still counts.
            if state.interruptRequested { _ = kill(-pid, SIGINT) }
        }

        var status: Int32?
        var pipeOpen = true
        var timedOut = false
        var interrupted = false
        var escalateAt: ContinuousClock.Instant?
        var killedAt: ContinuousClock.Instant?
        var exitedAt: ContinuousClock.Instant?
        let deadline = spec.timeoutSeconds.map { start + Swift.Duration.seconds(max($0, 0)) }
        var buffer = [UInt8](repeating: 0, count: 65536)

        func killGroup() {
            _ = kill(-pid, SIGKILL)
            killedAt = clock.now
        }

        while true {
            let now = clock.now
            if status == nil, let reaped = Self.reap(pid, blocking: false) {
                status = reaped
                exitedAt = now
            }
            if !interrupted, !timedOut, state.withLock({ $0.interruptRequested }) {
                interrupted = true
                escalateAt = now + killGrace
            }
            if let deadline, !interrupted, !timedOut, now >= deadline {
                timedOut = true
                _ = kill(-pid, SIGTERM)
                escalateAt = now + killGrace
            }
            if let escalateAt, killedAt == nil, now >= escalateAt { killGroup() }

            if let exitedAt {
                if !pipeOpen {
                    // Aborted: give the rest of the group its grace period, unless it is already gone.
                    guard escalateAt != nil, killedAt == nil, Self.groupHasLiveMembers(pid) else { break }
                } else if let killedAt {
                    // Something outside the group (setsid) may hold the pipe; stop waiting for it.
                    if now >= max(killedAt, exitedAt) + drainAfterExit { break }
                } else if now >= exitedAt + drainAfterExit {
                    killGroup()  // Background processes still hold the pipe.
                }
            }

            guard pipeOpen else {
                usleep(50_000)
                continue
            }
            var descriptor = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, 50)
            guard ready > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
            if count > 0 {
                sink.write(Array(buffer[0..<count]), onOutput: onOutput)
            } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                pipeOpen = false
            }
        }
        sink.finish(onOutput: onOutput)
        if status == nil { status = Self.reap(pid, blocking: true) }

        let elapsed = start.duration(to: clock.now).components
        let raw = status ?? 0
        let termSignal = raw & 0x7f
        var outcome = CommandOutcome(
            exitCode: nil, signal: nil, timedOut: timedOut, interrupted: interrupted,
            durationMs: Int(elapsed.seconds) * 1000 + Int(elapsed.attoseconds / 1_000_000_000_000_000),
            outputBytes: sink.byteCount, outputSHA256: sink.digest(), tail: sink.tailText())
        if termSignal == 0 {
            outcome.exitCode = (raw >> 8) & 0xff
        } else if termSignal != 0x7f {
            outcome.signal = termSignal
        }
        if let failure = sink.writeFailure {
            throw CommandRunnerError.outputWriteFailed(path: spec.outputPath, reason: failure)
        }
        return outcome
    }

    /// Starts `shell -c script` in a new process group with default signal handling; returns its pid
    /// and the read end of the pipe that carries both stdout and stderr.
    private func spawn(_ spec: CommandSpec) throws -> (pid_t, Int32) {
        var ends: [Int32] = [-1, -1]
        // Close-on-exec, so commands started concurrently by other threads never inherit this pipe.
        guard LibC.pipeCloseOnExec(&ends) == 0 else {
            throw CommandRunnerError.pipeFailed(reason: Self.describe(errno))
        }
        let (readEnd, writeEnd) = (ends[0], ends[1])

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 2)
        if !spec.workingDirectory.isEmpty {
            guard LibC.addChdir(&actions, spec.workingDirectory) == 0 else {
                LibC.close(readEnd)
                LibC.close(writeEnd)
                throw CommandRunnerError.spawnFailed(
                    shell: spec.shell, reason: "this C library cannot start a process in another directory")
            }
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        var environment = ProcessInfo.processInfo.environment
        environment.merge(spec.environment) { _, new in new }
        let argv = Self.cStrings([spec.shell, "-c", spec.script])
        let envp = Self.cStrings(environment.map { "\($0.key)=\($0.value)" }.sorted())
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }

        var pid = pid_t()
        let result = posix_spawnp(&pid, spec.shell, &actions, &attributes, argv, envp)
        LibC.close(writeEnd)
        guard result == 0 else {
            LibC.close(readEnd)
            if result == ENOENT { throw CommandRunnerError.shellNotFound(spec.shell) }
            throw CommandRunnerError.spawnFailed(shell: spec.shell, reason: Self.describe(result))
        }
        return (pid, readEnd)
    }

    private static func cStrings(_ strings: [String]) -> [UnsafeMutablePointer<CChar>?] {
        strings.map { strdup($0) } + [nil]
    }

    /// The raw wait status once `pid` has exited; nil while it is still running (non-blocking).
    private static func reap(_ pid: pid_t, blocking: Bool) -> Int32? {
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, blocking ? 0 : WNOHANG)
            if result == pid { return status }
            if result == -1 && errno == EINTR { continue }
            return nil
        }
    }

    /// Whether a process other than a zombie is still in the group: orphaned zombies wait for init,
    /// which in containers may reap late or never.
    private static func groupHasLiveMembers(_ group: pid_t) -> Bool {
        guard kill(-group, 0) == 0 || errno == EPERM else { return false }
        guard let proc = opendir("/proc") else { return true }
        defer { closedir(proc) }
        var buffer = [UInt8](repeating: 0, count: 512)
        while let entry = readdir(proc) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard name.first?.isNumber == true else { continue }
            let descriptor = open("/proc/\(name)/stat", O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            LibC.close(descriptor)
            guard count > 0 else { continue }
            // "pid (comm) state ppid pgrp ...": comm may contain spaces, so start after the last ')'.
            let stat = buffer[..<count]
            guard let close = stat.lastIndex(of: UInt8(ascii: ")")) else { continue }
            let fields = stat[(close + 1)...].split(separator: UInt8(ascii: " "))
            if fields.count > 2, fields[0].first != UInt8(ascii: "Z"), Array(fields[2]) == Array("\(group)".utf8) {
                return true
            }
        }
        return false
    }

    static func describe(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}

/// Where masked output goes: the output file, a streaming hash, a bounded tail and the live callback.
private struct OutputSink {
    let path: String
    private let descriptor: Int32
    private var masker: SecretMasker
    private var hasher = SHA256()
    private var tail: [UInt8] = []
    /// Bytes of an incomplete UTF-8 character held back from `onOutput`.
    private var partialCharacter: [UInt8] = []
    private(set) var byteCount = 0
    private(set) var writeFailure: String?

    init(path: String, secrets: [String]) throws {
        self.path = path
        masker = SecretMasker(secrets: secrets)
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw CommandRunnerError.outputFileUnavailable(path: path, reason: "cannot create its directory")
        }
        do {
            descriptor = try RegularFile.descriptor(path, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o600)
        } catch JournalError.notRegularFile(_, let kind) {
            throw CommandRunnerError.outputFileUnavailable(path: path, reason: "it is \(kind), not a regular file, and runsheet writes output only to regular files, never through a link")
        } catch JournalError.system(_, _, let code) {
            throw CommandRunnerError.outputFileUnavailable(path: path, reason: CommandRunner.describe(code))
        } catch {
            throw CommandRunnerError.outputFileUnavailable(path: path, reason: CommandRunner.describe(ENOENT))
        }
    }

    mutating func write(_ chunk: [UInt8], onOutput: (String) -> Void) {
        emit(masker.feed(chunk), onOutput: onOutput)
    }

    mutating func finish(onOutput: (String) -> Void) {
        emit(masker.finish(), onOutput: onOutput)
        if !partialCharacter.isEmpty {
            onOutput(String(decoding: partialCharacter, as: UTF8.self))
            partialCharacter = []
        }
    }

    private mutating func emit(_ bytes: [UInt8], onOutput: (String) -> Void) {
        guard !bytes.isEmpty else { return }
        byteCount += bytes.count
        hasher.update(data: bytes)
        writeAll(bytes)
        tail.append(contentsOf: bytes)
        if tail.count > 2 * CommandRunner.tailLimit { tail.removeFirst(tail.count - CommandRunner.tailLimit) }

        let text = partialCharacter + bytes
        let split = Self.completeUTF8Prefix(text)
        partialCharacter = Array(text[split...])
        if split > 0 { onOutput(String(decoding: text[..<split], as: UTF8.self)) }
    }

    private mutating func writeAll(_ bytes: [UInt8]) {
        guard writeFailure == nil else { return }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return LibC.write(descriptor, base + offset, raw.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                writeFailure = CommandRunner.describe(errno)
                return
            }
            offset += written
        }
    }

    func digest() -> String { SHA256Hex.hex(hasher.finalize()) }

    func tailText() -> String {
        var bytes = tail.suffix(CommandRunner.tailLimit)
        // Don't start in the middle of a character.
        while let first = bytes.first, first & 0xC0 == 0x80 { bytes.removeFirst() }
        return String(decoding: bytes, as: UTF8.self)
    }

    func close() {
        _ = LibC.close(descriptor)
    }

    /// Length of the prefix of `bytes` that does not end inside a UTF-8 character.
    private static func completeUTF8Prefix(_ bytes: [UInt8]) -> Int {
        var index = bytes.count
        var continuation = 0
        while index > 0, continuation < 3, bytes[index - 1] & 0xC0 == 0x80 {
            index -= 1
            continuation += 1
        }
        guard index > 0 else { return bytes.count }
        let lead = bytes[index - 1]
        let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
        return length > continuation + 1 ? index - 1 : bytes.count
    }
}
