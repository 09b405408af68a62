import Dispatch
import Foundation
@preconcurrency import Glibc
import RunsheetCore
import RunsheetTestSupport
import Synchronization
import Testing

/// Collects `onOutput` chunks from the runner's thread.
private final class OutputLog: Sendable {
    private let state = Mutex<(text: String, chunks: Int, bytes: Int)>(("", 0, 0))
    private let keepText: Bool

    init(keepText: Bool = true) { self.keepText = keepText }

    func append(_ chunk: String) {
        state.withLock {
            if keepText { $0.text += chunk }
            $0.chunks += 1
            $0.bytes += chunk.utf8.count
        }
    }

    var text: String { state.withLock { $0.text } }
    var bytes: Int { state.withLock { $0.bytes } }
}

private struct Run {
    var outcome: CommandOutcome
    var file: String
    var streamed: String
    var path: String
}

private func run(
    _ script: String, shell: String = "bash", timeout: Int? = nil, secrets: [String] = [],
    environment: [String: String] = [:], directory: String = "", runner: CommandRunner = CommandRunner()
) throws -> Run {
    let dir = try Fixtures.temporaryDirectory("command-runner")
    let path = dir.appendingPathComponent("logs/nested/out.log").path
    let log = OutputLog()
    let spec = CommandSpec(
        shell: shell, script: script, environment: environment, workingDirectory: directory,
        timeoutSeconds: timeout, outputPath: path, secrets: secrets)
    let outcome = try runner.run(spec) { log.append($0) }
    let file = try String(contentsOfFile: path, encoding: .utf8)
    return Run(outcome: outcome, file: file, streamed: log.text, path: path)
}

/// Alive and not a zombie waiting for its new parent to reap it.
private func isAlive(_ pid: pid_t) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
    guard let close = stat.lastIndex(of: ")") else { return true }
    return !stat[close...].hasPrefix(") Z")
}

private func waitUntilDead(_ pid: pid_t, seconds: Double = 2) -> Bool {
    let end = Date().addingTimeInterval(seconds)
    while Date() < end {
        if !isAlive(pid) { return true }
        usleep(20_000)
    }
    return !isAlive(pid)
}

private func firstLinePID(_ text: String) -> pid_t? {
    text.split(separator: "\n").first.flatMap { pid_t($0.trimmingCharacters(in: .whitespaces)) }
}

@Suite(.serialized) struct CommandRunnerTests {
    @Test func exitCodesAreReported() throws {
        let ok = try run("true")
        #expect(ok.outcome.exitCode == 0)
        #expect(ok.outcome.signal == nil)
        #expect(ok.outcome.succeeded)
        let failed = try run("echo failing; exit 3", shell: "sh")
        #expect(failed.outcome.exitCode == 3)
        #expect(!failed.outcome.succeeded)
        #expect(failed.outcome.tail == "failing\n")
    }

    @Test func stdoutAndStderrKeepTheirOrderInTheFile() throws {
        let result = try run("echo one; echo two >&2; echo three; echo four >&2; printf five >&2")
        #expect(result.file == "one\ntwo\nthree\nfour\nfive")
        #expect(result.streamed == result.file)
        #expect(result.outcome.tail == result.file)
        #expect(result.outcome.outputBytes == result.file.utf8.count)
    }

    @Test func outputHashMatchesTheFile() throws {
        let result = try run("for i in $(seq 1 2000); do echo \"line $i é\"; done")
        let sum = try Fixtures.run("/usr/bin/env", ["sha256sum", result.path])
        let expected = sum.stdout.split(separator: " ").first.map(String.init)
        #expect(result.outcome.outputSHA256.count == 64)
        #expect(result.outcome.outputSHA256 == expected)
        let empty = try run("true")
        #expect(empty.outcome.outputSHA256 == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func childStartsInItsOwnGroupWithDefaultSignalsAndNoStdin() throws {
        // The CLI ignores SIGINT while it handles it through a dispatch source; the command must not inherit that.
        let previous = signal(SIGINT, SIG_IGN)
        defer { signal(SIGINT, previous) }
        let result = try run("""
            read -r pid comm state ppid pgrp rest < /proc/$$/stat
            echo "$$ $pgrp"
            grep -E '^Sig(Blk|Ign)' /proc/self/status
            readlink /proc/$$/fd/0
            """)
        let lines = result.file.split(separator: "\n").map(String.init)
        let ids = lines.first?.split(separator: " ").map(String.init) ?? []
        #expect(ids.count == 2 && ids[0] == ids[1], "shell should lead its own process group: \(lines)")
        #expect(lines.contains("SigBlk:\t0000000000000000"))
        #expect(lines.contains("/dev/null"))
        // glibc's posix_spawn leaves its own internal signals 32 and 33 ignored; signals 1-31 must be default.
        let ignored = lines.first { $0.hasPrefix("SigIgn:") }.flatMap { UInt64($0.dropFirst(7).trimmingCharacters(in: .whitespaces), radix: 16) }
        #expect(ignored.map { $0 & 0x7fff_ffff } == 0, "\(lines)")
    }

    @Test func environmentAndWorkingDirectoryApply() throws {
        let dir = try Fixtures.temporaryDirectory("command-runner-cwd")
        let result = try run(
            "echo \"$RUNSHEET_TEST_VALUE\"; pwd; test -n \"$PATH\" && echo has-path",
            environment: ["RUNSHEET_TEST_VALUE": "hello world"], directory: dir.path)
        let resolved = dir.resolvingSymlinksInPath().path
        #expect(result.file == "hello world\n\(resolved)\nhas-path\n" || result.file == "hello world\n\(dir.path)\nhas-path\n")
    }

    @Test func missingShellAndDirectoryAreErrors() throws {
        let dir = try Fixtures.temporaryDirectory("command-runner-err")
        let spec = CommandSpec(shell: "no-such-shell-xyz", script: "true", outputPath: dir.appendingPathComponent("o").path)
        #expect(throws: CommandRunnerError.shellNotFound("no-such-shell-xyz")) {
            try CommandRunner().run(spec) { _ in }
        }
        var elsewhere = spec
        elsewhere.shell = "sh"
        elsewhere.workingDirectory = dir.appendingPathComponent("missing").path
        #expect(throws: CommandRunnerError.workingDirectoryMissing(elsewhere.workingDirectory)) {
            try CommandRunner().run(elsewhere) { _ in }
        }
        #expect(CommandRunnerError.shellNotFound("zsh").errorDescription?.contains("'zsh'") == true)
    }

    @Test func timeoutKillsTheCommandAndItsBackgroundChildren() throws {
        let started = Date()
        // The background sleep does not hold the pipe, so only the group-wide SIGTERM stops it in time.
        let result = try run("sleep 30 >/dev/null 2>&1 & echo $!; sleep 30", timeout: 1)
        let elapsed = Date().timeIntervalSince(started)
        #expect(result.outcome.timedOut)
        #expect(!result.outcome.interrupted)
        #expect(result.outcome.exitCode == nil)
        #expect(result.outcome.signal == SIGTERM)
        #expect(elapsed < 3.5, "took \(elapsed) s")
        #expect(result.outcome.durationMs >= 900)
        let grandchild = try #require(firstLinePID(result.file))
        #expect(waitUntilDead(grandchild, seconds: 0.5), "background sleep \(grandchild) survived the timeout")
    }

    @Test func timeoutEscalatesToSigkillWhenTermIsIgnored() throws {
        let runner = CommandRunner(killGrace: .milliseconds(500))
        let started = Date()
        let result = try run("trap '' TERM; echo ready; sleep 30; echo survived", timeout: 1, runner: runner)
        #expect(result.outcome.timedOut)
        #expect(result.outcome.signal == SIGKILL)
        #expect(!result.file.contains("survived"))
        #expect(Date().timeIntervalSince(started) < 5)
    }

    @Test func backgroundChildHoldingThePipeDoesNotHangTheRunner() throws {
        let started = Date()
        let result = try run("sleep 100 & echo $!; echo done")
        let elapsed = Date().timeIntervalSince(started)
        #expect(result.outcome.exitCode == 0)
        #expect(!result.outcome.timedOut)
        #expect(result.file.hasSuffix("done\n"))
        #expect(elapsed < 4, "took \(elapsed) s")
        let grandchild = try #require(firstLinePID(result.file))
        #expect(waitUntilDead(grandchild))
    }

    @Test func interruptFromAnotherThreadStopsTheCommand() throws {
        let runner = CommandRunner()
        interrupt(runner, after: 0.5)
        let started = Date()
        let result = try run("echo started; sleep 30 & wait", runner: runner)
        let elapsed = Date().timeIntervalSince(started)
        #expect(result.outcome.interrupted)
        #expect(!result.outcome.timedOut)
        #expect(result.outcome.exitCode != 0)
        #expect(result.file.hasPrefix("started\n"))
        #expect(elapsed >= 0.4 && elapsed < 4.5, "took \(elapsed) s")
        // This process is still here, and the runner is reusable.
        #expect(try run("echo again", runner: runner).outcome.interrupted == false)
    }

    @Test func interruptEscalatesToSigkillWhenIntIsTrapped() throws {
        let runner = CommandRunner(killGrace: .milliseconds(500))
        interrupt(runner, after: 0.5)
        let result = try run("trap 'echo caught' INT; while true; do sleep 0.1; done", runner: runner)
        #expect(result.outcome.interrupted)
        #expect(result.outcome.signal == SIGKILL)
    }

    @Test func interruptWithNothingRunningIsHarmless() throws {
        let runner = CommandRunner()
        runner.interrupt()
        let result = try run("echo fine", runner: runner)
        #expect(!result.outcome.interrupted)
        #expect(result.outcome.exitCode == 0)
    }

    /// Ctrl-C during the wait before a retry or the next poll ends the wait, as it ends a command.
    @Test func interruptEndsTheSleepBetweenAttempts() throws {
        let runner = CommandRunner()
        interrupt(runner, after: 0.3)
        let started = Date()
        #expect(try runner.sleep(seconds: 30) == false)
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed >= 0.2 && elapsed < 5, "took \(elapsed) s")
        // An interrupt while nothing waits does not carry over; a sleep left alone lasts its time.
        runner.interrupt()
        let again = Date()
        #expect(try runner.sleep(seconds: 0.2) == true)
        #expect(Date().timeIntervalSince(again) >= 0.2)
        #expect(try run("echo fine", runner: runner).outcome.interrupted == false)
    }

    @Test func secretsAreMaskedEverywhereEvenWhenSplitAcrossWrites() throws {
        let secret = "s3cr3t-T0KEN"
        let result = try run(
            """
            echo "token=\(secret)"
            printf 's3cr'; sleep 0.2; printf '3t-T0KEN\\n'
            echo "$SECRET_ENV" >&2
            printf 's3cr3t-T0K'; sleep 0.2; echo 'ENx'
            printf 's3cr3t'
            """,
            secrets: [secret, "", "p@ss"], environment: ["SECRET_ENV": "p@ss and \(secret)"])
        let mask = ShellQuoting.mask
        #expect(result.file == "token=\(mask)\n\(mask)\n\(mask) and \(mask)\n\(mask)x\ns3cr3t")
        for text in [result.file, result.streamed, result.outcome.tail] {
            #expect(!text.contains(secret))
            #expect(!text.contains("p@ss"))
        }
        #expect(result.streamed == result.file)
        #expect(result.outcome.tail == result.file)
    }

    @Test func maskerHandlesEveryChunkBoundary() {
        let secrets = ["abc", "abcdef", "€uro"]
        let input = Array("xxabcdefyyabcabcab€uro€ur abcd".utf8)
        let expected = "xx••••yy••••••••ab••••€ur ••••d"
        for size in 1...input.count {
            var masker = SecretMasker(secrets: secrets)
            var out: [UInt8] = []
            var index = 0
            while index < input.count {
                out += masker.feed(Array(input[index..<min(index + size, input.count)]))
                index += size
            }
            out += masker.finish()
            #expect(String(decoding: out, as: UTF8.self) == expected, "chunk size \(size)")
        }
    }

    @Test func substitutedValuesArePassedAsDataNotCode() throws {
        let id = UUID().uuidString
        let markers = (1...5).map { Fixtures.temporaryFile("PWNED\($0)-\(id)") }
        let values = [
            "x; touch \(markers[0])",
            "$(touch \(markers[1]))",
            "`touch \(markers[2])`",
            "it's'; touch \(markers[3]); echo '",
            "first\ntouch \(markers[4])\n",
            "'",
            "",
            "$HOME ${IFS} * ? [a] ~ \\ \" ! %s %% -n",
            "héllo •• 日本",
        ]
        for shell in ["bash", "sh"] {
            for value in values {
                let script = ShellQuoting.substitute("printf '%s' {{v}}", values: ["v": value])
                let result = try run(script, shell: shell)
                #expect(result.outcome.exitCode == 0, "\(shell): \(script)")
                #expect(result.file == value, "\(shell): \(script)")
            }
        }
        for marker in markers {
            #expect(!FileManager.default.fileExists(atPath: marker), "\(marker) was created")
        }
    }

    @Test func quotingAndDisplay() {
        #expect(ShellQuoting.quote("plain") == "'plain'")
        #expect(ShellQuoting.quote("it's") == "'it'\\''s'")
        #expect(ShellQuoting.quote("") == "''")
        #expect(ShellQuoting.substitute("echo {{a}} {{ b }} {{unknown}} ${{ a }}", values: ["a": "1 2", "b": "$x"])
            == "echo '1 2' '$x' {{unknown}} ${{ a }}")
        #expect(ShellQuoting.display("deploy --token {{token}} --env {{ env }}",
                                     values: ["token": "abc123", "env": "prod"], secrets: ["abc123"])
            == "deploy --token •••• --env prod")
        #expect(ShellQuoting.mask("a secret and secrets", secrets: ["secret"]) == "a •••• and ••••s")
    }

    @Test func largeOutputStreamsWithABoundedTail() throws {
        let dir = try Fixtures.temporaryDirectory("command-runner-large")
        let path = dir.appendingPathComponent("out.log").path
        let log = OutputLog(keepText: false)
        let size = 10_000_000
        let spec = CommandSpec(
            shell: "sh", script: "head -c \(size) /dev/zero | tr '\\0' 'a'; echo; echo end",
            outputPath: path, secrets: ["never-printed"])
        let outcome = try CommandRunner().run(spec) { log.append($0) }
        #expect(outcome.exitCode == 0)
        #expect(outcome.outputBytes == size + 5)
        #expect(log.bytes == size + 5)
        #expect(outcome.tail.utf8.count == CommandRunner.tailLimit)
        #expect(outcome.tail.hasSuffix("aaa\nend\n"))
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.size] as? NSNumber)?.intValue == size + 5)
    }
}

/// Interrupts from a thread of its own, so a busy shared pool cannot delay it.
private func interrupt(_ runner: CommandRunner, after seconds: Double) {
    Thread {
        Thread.sleep(forTimeInterval: seconds)
        runner.interrupt()
    }.start()
}
