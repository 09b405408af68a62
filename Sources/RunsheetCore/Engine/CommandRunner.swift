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

        try check(spec)
        var sink = try OutputSink(path: spec.outputPath, secrets: spec.secrets)
        defer { sink.close() }

        let clock = ContinuousClock()
        let start = clock.now
        let (pid, readEnd, supervision) = try spawn(spec)
        defer {
            LibC.close(readEnd)
            supervision?.close()
        }
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
        // An interactive command: keys typed on the operator's terminal go to its pseudo-terminal.
        var relay = spec.terminal.map { TerminalRelay(terminal: $0, master: readEnd) }

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
            relay?.forwardSize()
            var descriptors = [pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)]
            if let relay, relay.open { descriptors.append(pollfd(fd: relay.terminal, events: Int16(POLLIN), revents: 0)) }
            let ready = poll(&descriptors, nfds_t(descriptors.count), 50)
            guard ready > 0 else { continue }
            if descriptors.count > 1, descriptors[1].revents != 0 { relay?.forwardKeys() }
            guard descriptors[0].revents != 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
            if count > 0 {
                sink.write(Array(buffer[0..<count]), onOutput: onOutput)
            } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                pipeOpen = false
            }
        }
        sink.finish(onOutput: onOutput)
        if status == nil { status = Self.reap(pid, blocking: true) }
        var raw = status ?? 0
        switch supervision?.report() {
        case .exited(let shellStatus)?: raw = shellStatus
        case .failed(let code)?:
            if code == ENOENT { throw CommandRunnerError.shellNotFound(spec.shell) }
            throw CommandRunnerError.spawnFailed(shell: spec.shell, reason: Self.describe(code))
        case nil: break  // The supervisor itself was killed (timeout or interrupt escalation): its status stands.
        }

        let elapsed = start.duration(to: clock.now).components
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

    /// Checks what starting `spec` needs, before anything is recorded or started: the working
    /// directory, the shell, and arguments the kernel accepts (E2BIG).
    public func check(_ spec: CommandSpec) throws {
        if !spec.workingDirectory.isEmpty {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: spec.workingDirectory, isDirectory: &isDirectory),
                isDirectory.boolValue
            else {
                throw CommandRunnerError.workingDirectoryMissing(spec.workingDirectory)
            }
        }
        let environment = Self.environment(for: spec)
        guard Self.findProgram(spec.shell, path: environment["PATH"] ?? "/usr/bin:/bin") else {
            throw CommandRunnerError.shellNotFound(spec.shell)
        }
        try ArgumentLimits.check(arguments: Self.arguments(for: spec, terminal: spec.terminal != nil), environment: Self.environmentStrings(environment))
    }

    /// What is executed: the supervisor, which then runs `shell -c script`, or the shell itself.
    private static func arguments(for spec: CommandSpec, terminal: Bool = false) -> [String] {
        if let supervisor = CommandSupervisor.executable {
            return [supervisor, CommandSupervisor.mode] + (terminal ? [CommandSupervisor.terminalFlag] : []) + [spec.shell, spec.script]
        }
        return [spec.shell, "-c", spec.script]
    }

    private static func environment(for spec: CommandSpec) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment.merge(spec.environment) { _, new in new }
        return environment
    }

    private static func environmentStrings(_ environment: [String: String]) -> [String] {
        environment.map { "\($0.key)=\($0.value)" }.sorted()
    }

    /// Whether `program` can be executed: a path, or a name found in `path` as `posix_spawnp` looks.
    static func findProgram(_ program: String, path: String) -> Bool {
        if program.contains("/") { return access(program, X_OK) == 0 }
        return path.split(separator: ":", omittingEmptySubsequences: false).contains { folder in
            access((folder.isEmpty ? "." : String(folder)) + "/" + program, X_OK) == 0
        }
    }

    /// The session's end of a supervised command: the lifeline the supervisor watches and the pipe
    /// it reports the shell's status on.
    private final class Supervision {
        let lifeline: Int32
        let status: Int32

        init(lifeline: Int32, status: Int32) {
            self.lifeline = lifeline
            self.status = status
        }

        /// Reads what the supervisor reported (it has exited, so the read ends).
        func report() -> CommandSupervisor.Report? {
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 64)
            while true {
                let count = buffer.withUnsafeMutableBytes { LibC.read(status, $0.baseAddress, $0.count) }
                if count > 0 {
                    bytes += buffer[..<count]
                    continue
                }
                if count < 0 && errno == EINTR { continue }
                break
            }
            return CommandSupervisor.Report(String(decoding: bytes, as: UTF8.self))
        }

        func close() {
            LibC.close(lifeline)
            LibC.close(status)
        }
    }

    /// Starts the command in a new process group with default signal handling, through the
    /// supervisor when there is one; returns the group leader's pid, the read end of the pipe that
    /// carries both stdout and stderr, and the session's end of the supervisor's pipes.
    private func spawn(_ spec: CommandSpec) throws -> (pid_t, Int32, Supervision?) {
        let supervised = CommandSupervisor.executable != nil
        var ends: [Int32] = [-1, -1], lifeline: [Int32] = [-1, -1], report: [Int32] = [-1, -1]
        // An interactive command's output comes from its pseudo-terminal instead of a pipe.
        var slave: Int32 = -1, slavePath = ""
        if spec.terminal != nil {
            guard let terminal = LibC.openPseudoTerminal() else { throw CommandRunnerError.noPseudoTerminal(reason: Self.describe(errno)) }
            slavePath = terminal.slavePath
            let opened = open(slavePath, O_RDWR | O_NOCTTY | O_CLOEXEC)
            // Moved above 9, so it is none of the descriptors the supervisor is given (0 to 4).
            slave = opened >= 0 ? fcntl(opened, F_DUPFD_CLOEXEC, 10) : -1
            if opened >= 0 { LibC.close(opened) }
            guard slave >= 0 else {
                let reason = Self.describe(errno)
                LibC.close(terminal.master)
                throw CommandRunnerError.noPseudoTerminal(reason: reason)
            }
            ends = [terminal.master, -1]
            TerminalRelay.copySize(from: spec.terminal ?? 0, to: terminal.master)
        }
        func closeAll() {
            for descriptor in ends + lifeline + report + [slave] where descriptor >= 0 { LibC.close(descriptor) }
        }
        // Close-on-exec, so commands started concurrently by other threads never inherit these pipes.
        guard spec.terminal != nil || LibC.pipeCloseOnExec(&ends) == 0,
              !supervised || (LibC.pipeCloseOnExec(&lifeline) == 0 && LibC.pipeCloseOnExec(&report) == 0) else {
            let reason = Self.describe(errno)
            closeAll()
            throw CommandRunnerError.pipeFailed(reason: reason)
        }
        let (readEnd, writeEnd) = (ends[0], ends[1])

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if supervised {
            posix_spawn_file_actions_adddup2(&actions, lifeline[0], 0)
        } else if slave >= 0 {
            // Opened without O_NOCTTY by the leader of a new session, it becomes the controlling terminal.
            posix_spawn_file_actions_addopen(&actions, 0, slavePath, O_RDWR, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        if slave >= 0 {
            if supervised {
                posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
                posix_spawn_file_actions_adddup2(&actions, 1, 2)
            } else {
                posix_spawn_file_actions_adddup2(&actions, 0, 1)
                posix_spawn_file_actions_adddup2(&actions, 0, 2)
            }
        } else {
            posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
            posix_spawn_file_actions_adddup2(&actions, writeEnd, 2)
        }
        if supervised { posix_spawn_file_actions_adddup2(&actions, report[1], CommandSupervisor.statusDescriptor) }
        // Last, from a number above every other (see below), so no earlier action overwrites it.
        if supervised, slave >= 0 { posix_spawn_file_actions_adddup2(&actions, slave, CommandSupervisor.terminalDescriptor) }
        if !spec.workingDirectory.isEmpty {
            guard LibC.addChdir(&actions, spec.workingDirectory) == 0 else {
                closeAll()
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
        var mask = sigset_t()
        sigemptyset(&mask)
        // The supervisor ignores what its group is sent; blocked until it has said so.
        if supervised { for signal in CommandSupervisor.shielded { sigaddset(&mask, signal) } }
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setpgroup(&attributes, 0)
        // A new session is a new process group as well, whose leader may take the pseudo-terminal.
        let group = slave >= 0 ? LibC.spawnSetSID : Int32(POSIX_SPAWN_SETPGROUP)
        posix_spawnattr_setflags(&attributes, Int16(group | Int32(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)))

        let program = Self.arguments(for: spec, terminal: slave >= 0)
        let argv = Self.cStrings(program)
        let envp = Self.cStrings(Self.environmentStrings(Self.environment(for: spec)))
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }

        var pid = pid_t()
        let result = posix_spawnp(&pid, program[0], &actions, &attributes, argv, envp)
        // The session keeps only the output's read end, the lifeline's write end and the report's read end.
        for descriptor in [writeEnd, lifeline[0], report[1], slave] where descriptor >= 0 { LibC.close(descriptor) }
        guard result == 0 else {
            for descriptor in [readEnd, lifeline[1], report[0]] where descriptor >= 0 { LibC.close(descriptor) }
            if result == E2BIG { throw CommandRunnerError.argumentsTooLong(ArgumentLimits.kernelRefused) }
            if result == ENOENT { throw CommandRunnerError.shellNotFound(spec.shell) }
            throw CommandRunnerError.spawnFailed(shell: spec.shell, reason: Self.describe(result))
        }
        return (pid, readEnd, supervised ? Supervision(lifeline: lifeline[1], status: report[0]) : nil)
    }

    static func cStrings(_ strings: [String]) -> [UnsafeMutablePointer<CChar>?] {
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
