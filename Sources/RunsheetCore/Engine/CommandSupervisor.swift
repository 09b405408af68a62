import Foundation
import Synchronization

/// The hidden mode `runsheet __supervise SHELL SCRIPT` between a session and the command it runs,
/// so that the command's process group ends when the session dies (docs/JOURNAL.md, "How commands
/// run").
///
/// Linux ends a process's children with it only through `prctl(PR_SET_PDEATHSIG)`, which Swift's
/// Glibc module does not export and a `posix_spawn` child cannot set. So the session starts this
/// small process as the leader of a new process group, with a pipe (the lifeline) on its standard
/// input whose write end only the session holds. It starts `SHELL -c SCRIPT` in its own group,
/// writes the shell's wait status to descriptor 3 and exits when the shell does. If the lifeline
/// reaches end of file first, the session is gone (even by SIGKILL, the kernel closes its
/// descriptors), and it kills the whole group, itself included.
public enum CommandSupervisor {
    /// The first argument that selects the mode; not a command, so `--help` never lists it.
    public static let mode = "__supervise"

    private static let executablePath = Mutex<String?>(nil)

    /// The program that provides the mode (the running `runsheet`), or nil: commands are then
    /// started directly, as in-process tests do.
    public static var executable: String? {
        get { executablePath.withLock { $0 } }
        set { executablePath.withLock { $0 = newValue } }
    }

    /// The signals the supervisor ignores (the command's group gets them; the supervisor must live
    /// to report the status). They are blocked when it is spawned, so none arrives before that.
    static let shielded: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE]

    /// Before the shell and script: the command gets the pseudo-terminal on descriptor 4 as its
    /// controlling terminal and its standard input, output and error (a block flagged `interactive`).
    static let terminalFlag = "--terminal"

    /// Descriptor 4, with `--terminal`: the slave side of the command's pseudo-terminal.
    static let terminalDescriptor: Int32 = 4

    /// Runs the mode with the arguments after `__supervise`; returns the process's exit status.
    public static func main(_ arguments: [String]) -> Int32 {
        for number in shielded { _ = signal(number, SIG_IGN) }
        var none = sigset_t()
        sigemptyset(&none)
        sigprocmask(SIG_SETMASK, &none, nil)
        let terminal = arguments.first == terminalFlag
        let arguments = terminal ? Array(arguments.dropFirst()) : arguments
        guard arguments.count == 2 else {
            report("error \(EINVAL)")
            return 127
        }
        // The session started this process as the leader of a new session: the pseudo-terminal
        // becomes its controlling terminal, and its process group (the shell's too) the one that
        // terminal sends Ctrl-C to. posix_spawn cannot do this for a child; this process can.
        if terminal {
            _ = fcntl(terminalDescriptor, F_SETFD, FD_CLOEXEC)
            guard ioctl(terminalDescriptor, UInt(TIOCSCTTY), 0) == 0 else {
                report("error \(errno)")
                return 127
            }
        }
        // The session may have died while this process started.
        if lifelineEnded(waitMilliseconds: 0) { return 0 }
        _ = fcntl(statusDescriptor, F_SETFD, FD_CLOEXEC)
        _ = fcntl(0, F_SETFD, FD_CLOEXEC)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if terminal {
            for target: Int32 in 0...2 { posix_spawn_file_actions_adddup2(&actions, terminalDescriptor, target) }
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let argv = CommandRunner.cStrings([arguments[0], "-c", arguments[1]])
        defer { for pointer in argv { free(pointer) } }
        var child = pid_t()
        let result = posix_spawnp(&child, arguments[0], &actions, &attributes, argv, environ)
        guard result == 0 else {
            report("error \(result)")
            return 127
        }
        // Only the command's group holds the session's output pipe (or its terminal) from now on.
        if terminal { LibC.close(terminalDescriptor) }
        let null = open("/dev/null", O_WRONLY)
        if null >= 0 {
            dup2(null, 1)
            dup2(null, 2)
            LibC.close(null)
        }
        var status: Int32 = 0
        while true {
            let reaped = waitpid(child, &status, WNOHANG)
            if reaped == child { break }
            if reaped == -1 && errno != EINTR { return 127 }
            if lifelineEnded(waitMilliseconds: 20) {
                _ = kill(-getpgrp(), SIGKILL)
                return 137
            }
        }
        report("exit \(status)")
        return 0
    }

    /// Descriptor 3: where the supervisor writes `exit <wait status>` or `error <errno>`.
    static let statusDescriptor: Int32 = 3

    private static func report(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { LibC.write(statusDescriptor, $0.baseAddress, $0.count) }
    }

    /// Whether standard input, the lifeline, reached end of file (or failed): the session is gone.
    private static func lifelineEnded(waitMilliseconds: Int32) -> Bool {
        var descriptor = pollfd(fd: 0, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, waitMilliseconds) > 0 else { return false }
        var byte: UInt8 = 0
        let count = LibC.read(0, &byte, 1)
        return count == 0 || (count < 0 && errno != EINTR && errno != EAGAIN)
    }

    /// What the supervisor reported on its status pipe: the shell's wait status, or the error
    /// number that kept the shell from starting; nil when it reported nothing (it was killed).
    enum Report: Equatable {
        case exited(Int32)
        case failed(Int32)

        init?(_ text: String) {
            let words = text.split(separator: " ")
            guard words.count == 2, let number = Int32(words[1].trimmingCharacters(in: .whitespacesAndNewlines)) else { return nil }
            switch words[0] {
            case "exit": self = .exited(number)
            case "error": self = .failed(number)
            default: return nil
            }
        }
    }
}
