import Foundation
import Synchronization

/// The one folder that holds every temporary file and folder a test process makes
/// (`Fixtures.temporaryDirectory` and `temporaryFile`, fixture copies, keys, agents' sockets,
/// PostgreSQL servers, tmux's sockets): `$TMPDIR/runsheet-tests-PID-RANDOM`.
///
/// It is removed when the test process exits, so after every test, passed, failed or thrown:
/// first the programs still running in it are stopped (a `RunningRunsheet` never finished, a
/// PostgreSQL server never removed), then the folder goes. A process that died before its exit
/// (SIGKILL, a crash) leaves its folder to the next test process, which removes every such folder
/// whose owner no longer holds the lock on its `owner.lock`. So $TMPDIR gains nothing from a test
/// run, and holds at most one entry per test process while one runs.
public enum ScratchRoot {
    /// The folder, made (and stale ones removed) on first use.
    public static var path: String { made.path }

    static let prefix = "runsheet-tests-"
    static let lockName = "owner.lock"

    private static let made: (path: String, lock: Int32) = make()
    private static let exitPath = Mutex<String?>(nil)
    private static let programs = Mutex<[StartedProgram]>([])

    private static func make() -> (path: String, lock: Int32) {
        let base = FileManager.default.temporaryDirectory.path
        removeStale(in: base)
        let name = prefix + "\(getpid())-" + UUID().uuidString.prefix(4).lowercased()
        let path = base + "/" + name, hidden = base + "/." + name
        // Others may pass through: the PostgreSQL server runs as nobody when the tests run as root.
        try? FileManager.default.createDirectory(atPath: hidden, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        // Held until the process ends, whichever way: the kernel lets go of it with the process.
        // Locked before the folder takes the name another process's sweep looks at.
        let lock = open(hidden + "/" + lockName, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        if lock >= 0 { _ = flock(lock, LOCK_EX) }
        rename(hidden, path)
        exitPath.withLock { $0 = path }
        // Registered before any PostgreSQL server of this process is made in the folder, so it
        // runs after the server's own handler has stopped it (handlers run in reverse order).
        atexit { ScratchRoot.removeAtExit() }
        return (path, lock)
    }

    /// Records a program a test started that may work in the folder, to be killed at exit if it
    /// still runs then (a test that failed before it finished it).
    public static func started(_ process: Process) {
        programs.withLock { programs in
            programs.removeAll { !$0.process.isRunning }
            programs.append(StartedProgram(process: process))
        }
    }

    private static func removeAtExit() {
        guard let path = exitPath.withLock({ $0 }) else { return }
        for program in programs.withLock({ $0 }) where program.process.isRunning {
            kill(program.process.processIdentifier, SIGKILL)
            let deadline = Date().addingTimeInterval(5)
            while program.process.isRunning && Date() < deadline { usleep(10_000) }
        }
        stopServers(in: path)
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Removes the folders of test processes that are gone (nobody holds their lock).
    private static func removeStale(in base: String) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []
        for name in names where name.hasPrefix(prefix) {
            let folder = base + "/" + name
            let lock = open(folder + "/" + lockName, O_RDWR | O_CLOEXEC)
            guard lock >= 0 else { continue }
            defer { close(lock) }
            guard flock(lock, LOCK_EX | LOCK_NB) == 0 else { continue }
            stopServers(in: folder)
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    /// Stops each PostgreSQL server whose data folder is `folder/*/data` (immediate shutdown,
    /// SIGQUIT to the postmaster), and waits up to 10 s for it to go.
    static func stopServers(in folder: String) {
        let children = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        for child in children {
            let data = folder + "/" + child + "/data"
            guard let text = try? String(contentsOfFile: data + "/postmaster.pid", encoding: .utf8),
                  let first = text.split(separator: "\n").first, let pid = pid_t(first),
                  // Only the postmaster of that folder, never a process that took its pid since.
                  let command = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8),
                  command.contains(data)
            else { continue }
            kill(pid, SIGQUIT)
            let deadline = Date().addingTimeInterval(10)
            while kill(pid, 0) == 0 && Date() < deadline { usleep(20_000) }
        }
    }
}

/// A started `Process`, kept to be stopped at exit.
private struct StartedProgram: @unchecked Sendable {
    let process: Process
}
