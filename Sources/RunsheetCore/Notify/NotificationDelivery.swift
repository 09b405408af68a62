import Crypto
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization

/// Delivers one notification to one target, within the target's bound: each attempt ends at its
/// timeout (an HTTP request is cancelled, a command's whole process group killed), and a failed
/// attempt is tried again after a short pause, `retries` times. Blocking: run it off the
/// operator's thread (`RunNotifier`).
public enum NotificationDelivery {
    /// Seconds between attempts.
    static let pause = 0.5
    /// The header carrying `sha256=<hex HMAC-SHA256 of the body>`.
    public static let signatureHeader = "X-Runsheet-Signature"

    /// How a delivery ended: nil reason when it was delivered.
    public struct Outcome: Sendable, Equatable {
        public var attempts: Int
        public var failure: String?
    }

    public static func deliver(_ notification: Notification, body: Data, to target: NotifyTarget, directory: String,
                               environment: [String: String], onAttempt: (Int) -> Void = { _ in }) -> Outcome {
        var attempts = 0
        var failure: String?
        repeat {
            if attempts > 0 { Thread.sleep(forTimeInterval: pause) }
            attempts += 1
            onAttempt(attempts)
            switch target.destination {
            case .command(let command):
                failure = run(command, input: body, timeout: target.timeout, directory: directory)
            case .url(let url, let secretEnv):
                var key: String?
                if let secretEnv {
                    guard let value = environment[secretEnv], !value.isEmpty else {
                        // Nothing to try again: the key will not appear while the session runs.
                        return Outcome(attempts: attempts, failure: "the environment variable \(secretEnv) that holds its signing key is not set, so nothing was sent")
                    }
                    key = value
                }
                failure = post(body, to: url, kind: notification.kind.rawValue, id: notification.id, time: notification.time, key: key, timeout: target.timeout)
            }
        } while failure != nil && attempts <= target.retries
        return Outcome(attempts: attempts, failure: failure)
    }

    /// `sha256=` and the lowercase hex HMAC-SHA256 of `body` under `key`.
    public static func signature(of body: Data, key: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Data(key.utf8)))
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    // MARK: - HTTP

    /// What the request's completion handler says, handed back to the waiting thread.
    private final class Answer: Sendable {
        let value = Mutex<String??>(nil)
    }

    /// POSTs `body`; nil when the receiver answered 2xx within `timeout` seconds, else why not.
    static func post(_ body: Data, to address: String, kind: String, id: String, time: String, key: String?, timeout: Int) -> String? {
        guard let url = URL(string: address) else { return "'\(address)' is not a URL" }
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: TimeInterval(timeout))
        request.httpMethod = "POST"
        request.httpBody = body
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("runsheet", forHTTPHeaderField: "User-Agent")
        request.setValue(kind, forHTTPHeaderField: "X-Runsheet-Event")
        request.setValue(id, forHTTPHeaderField: "X-Runsheet-Delivery")
        request.setValue(time, forHTTPHeaderField: "X-Runsheet-Timestamp")
        if let key { request.setValue(signature(of: body, key: key), forHTTPHeaderField: signatureHeader) }
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = TimeInterval(timeout)
        configuration.timeoutIntervalForResource = TimeInterval(timeout)
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        let session = URLSession(configuration: configuration)
        defer { session.invalidateAndCancel() }
        let answer = Answer()
        let done = DispatchSemaphore(value: 0)
        let task = session.dataTask(with: request) { _, response, error in
            let result: String?
            if let error {
                result = (error as NSError).code == NSURLErrorTimedOut ? "no answer within \(timeout)s" : "the request failed: \(error.localizedDescription)"
            } else if let status = (response as? HTTPURLResponse)?.statusCode {
                result = (200..<300).contains(status) ? nil : "the receiver answered HTTP \(status)"
            } else {
                result = "the receiver's answer was not HTTP"
            }
            answer.value.withLock { $0 = .some(result) }
            done.signal()
        }
        task.resume()
        // The bound holds whatever the HTTP stack does: past it the request is cancelled and counts as failed.
        if done.wait(timeout: .now() + .milliseconds(timeout * 1000 + 100)) == .timedOut {
            task.cancel()
            return "no answer within \(timeout)s"
        }
        return answer.value.withLock { $0 } ?? "no answer within \(timeout)s"
    }

    // MARK: - Command

    /// Runs `command` with `/bin/sh -c` in `directory`, in a process group of its own, `input` on
    /// its standard input (an unlinked file, so nothing blocks on a reader that never reads), its
    /// output discarded and the last line of its error output kept for the reason. At `timeout`
    /// seconds the whole group is killed. Nil when it exited 0.
    static func run(_ command: String, input: Data, timeout: Int, directory: String) -> String? {
        guard let inputFD = unlinkedFile(input), let errorFD = unlinkedFile(Data()) else {
            return "cannot make a temporary file: \(String(cString: strerror(errno)))"
        }
        defer {
            _ = LibC.close(inputFD)
            _ = LibC.close(errorFD)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inputFD, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, errorFD, 2)
        _ = LibC.addChdir(&actions, directory)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // A group of its own: Ctrl-C at the terminal does not reach it, and the timeout kills all of it.
        posix_spawnattr_setpgroup(&attributes, 0)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))
        let words: [String] = ["/bin/sh", "-c", command]
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { $0.withCString { strdup($0) } } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, environ)
        guard spawned == 0 else { return "the command could not be started: \(String(cString: strerror(spawned)))" }
        let deadline = Date().addingTimeInterval(TimeInterval(timeout))
        var status: Int32 = 0
        while true {
            let waited = waitpid(pid, &status, WNOHANG)
            if waited == pid { break }
            if waited < 0, errno != EINTR { return "cannot wait for the command: \(String(cString: strerror(errno)))" }
            if Date() >= deadline {
                kill(-pid, SIGKILL)
                while waitpid(pid, &status, 0) < 0, errno == EINTR {}
                return "the command did not finish within \(timeout)s and was killed"
            }
            usleep(10_000)
        }
        let exited = status & 0x7F == 0, code = (status >> 8) & 0xFF
        if exited, code == 0 { return nil }
        let said = lastLine(of: errorFD)
        return (exited ? "the command exited \(code)" : "the command was killed by signal \(status & 0x7F)") + (said.map { ": \($0)" } ?? "")
    }

    /// A file with `bytes` in it, already unlinked, read from its start; nil when none can be made.
    private static func unlinkedFile(_ bytes: Data) -> Int32? {
        let path = NSTemporaryDirectory() + "runsheet-notify-\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return nil }
        unlink(path)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { LibC.write(fd, $0.baseAddress, $0.count) }
            if written < 0 {
                if errno == EINTR { continue }
                _ = LibC.close(fd)
                return nil
            }
            offset += written
        }
        lseek(fd, 0, SEEK_SET)
        return fd
    }

    /// The last non-empty line of what was written to `fd` (at most its last 4 KiB), shown escaped.
    private static func lastLine(of fd: Int32) -> String? {
        let size = lseek(fd, 0, SEEK_END)
        guard size > 0 else { return nil }
        let start = max(0, size - 4096)
        lseek(fd, start, SEEK_SET)
        var buffer = [UInt8](repeating: 0, count: Int(size - start))
        let count = buffer.withUnsafeMutableBytes { LibC.read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        let text = String(decoding: buffer[0..<count], as: UTF8.self)
        return text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.last { !$0.isEmpty }.map { String($0.prefix(200)).shown }
    }
}
