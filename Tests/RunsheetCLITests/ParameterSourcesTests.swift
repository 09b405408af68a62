import Foundation
import RunsheetCore
import RunsheetTestSupport
import Synchronization
import Testing

/// Where a run's parameter values come from, through the real binary: `--param` beats the
/// environment, which beats the run's record, which beats the default, which beats a prompt. A
/// value is read from the variable a command finds it in.
@Suite struct ParameterSourcesTests {
    /// A runbook whose command appends what it sees to `seen`: from the environment, then through
    /// placeholders.
    static func runbook(in dir: URL) throws -> (path: String, seen: String) {
        let seen = dir.appendingPathComponent("seen").path
        let text = """
            ---
            id: sources
            params:
              a: {}
              b: { default: from-default }
              c: {}
              db-host: {}
              db_host: { default: plain }
              größe: {}
            ---
            # Sources
            - [ ] Show the values

              ```sh run
              printf 'a=%s b=%s c=%s db-host=%s db_host=%s größe=%s\\n' "$RUNSHEET_PARAM_a" "$RUNSHEET_PARAM_b" "$RUNSHEET_PARAM_c" "$RUNSHEET_PARAM_db_host_2" "$RUNSHEET_PARAM_db_host" "$RUNSHEET_PARAM_gr__e" >> \(seen)
              printf '%s|%s|%s\\n' {{db-host}} {{db_host}} {{größe}} >> \(seen)
              ```
            - [ ] Look at them
            """
        let path = dir.appendingPathComponent("sources.md").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return (path, seen)
    }

    static func seen(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    @Test func eachSourceBeatsTheNextAndInputUsesTheCommandsVariable() throws {
        let dir = try Fixtures.temporaryDirectory()
        let (runbook, seen) = try Self.runbook(in: dir)
        let runs = dir.appendingPathComponent("runs").path
        let required = ["RUNSHEET_PARAM_c": "env-c", "RUNSHEET_PARAM_db_host_2": "hyphen", "RUNSHEET_PARAM_gr__e": "groß"]

        // Defaults fill what nothing else gives.
        let first = try Fixtures.runsheet(["run", runbook, "--runs-dir", runs + "/1", "--auto", "--param", "a=option"], environment: required)
        #expect(first.status == 3, "\(first.stdout)\(first.stderr)")
        #expect(try Self.seen(seen) == ["a=option b=from-default c=env-c db-host=hyphen db_host=plain größe=groß", "hyphen|plain|groß"])

        // The environment beats a default; --param beats the environment.
        try FileManager.default.removeItem(atPath: seen)
        let environment = required.merging(["RUNSHEET_PARAM_a": "env-a", "RUNSHEET_PARAM_b": "env-b", "RUNSHEET_PARAM_db_host": "underscore"]) { $1 }
        let second = try Fixtures.runsheet(["run", runbook, "--runs-dir", runs + "/2", "--auto", "--param", "a=option"], environment: environment)
        #expect(second.status == 3, "\(second.stdout)\(second.stderr)")
        #expect(try Self.seen(seen) == ["a=option b=env-b c=env-c db-host=hyphen db_host=underscore größe=groß", "hyphen|underscore|groß"])

        // On resume the record beats a default; the environment and --param beat the record.
        try FileManager.default.removeItem(atPath: seen)
        let id = try #require(Fixtures.onlyRun(in: runs + "/2"))
        let resumed = try Fixtures.runsheet(["resume", id, "--runs-dir", runs + "/2", "--param", "db-host=option"], stdin: "back\nrun\nquit\n",
                                            environment: ["RUNSHEET_PARAM_c": "env-c2"])
        #expect(resumed.status == 3, "\(resumed.stdout)\(resumed.stderr)")
        #expect(try Self.seen(seen) == ["a=option b=env-b c=env-c2 db-host=option db_host=underscore größe=groß", "option|underscore|groß"])
    }

    @Test func aMissingValueNamesTheVariableToSet() throws {
        let dir = try Fixtures.temporaryDirectory()
        let (runbook, _) = try Self.runbook(in: dir)
        let runs = dir.appendingPathComponent("runs").path
        let noHyphen = try Fixtures.runsheet(["run", runbook, "--runs-dir", runs, "--param", "a=1", "--param", "c=2"],
                                             environment: ["RUNSHEET_PARAM_db_host": "not this one", "RUNSHEET_PARAM_gr__e": "3"])
        #expect(noHyphen.status == 2)
        #expect(noHyphen.stderr.contains("missing parameter 'db-host' of \(runbook): pass --param db-host=VALUE or set RUNSHEET_PARAM_db_host_2"), "\(noHyphen.stderr)")
        let noUmlaut = try Fixtures.runsheet(["run", runbook, "--runs-dir", runs, "--param", "a=1", "--param", "c=2", "--param", "db-host=4"],
                                             environment: ["RUNSHEET_PARAM_größe": "the old spelling is not read"])
        #expect(noUmlaut.status == 2)
        #expect(noUmlaut.stderr.contains("missing parameter 'größe' of \(runbook): pass --param größe=VALUE or set RUNSHEET_PARAM_gr__e"), "\(noUmlaut.stderr)")
    }

    /// A secret that fails a check is not repeated in the message, wherever it came from.
    @Test func aSecretNeverAppearsInAnError() throws {
        let dir = try Fixtures.temporaryDirectory()
        let runbook = dir.appendingPathComponent("secret.md").path
        try """
            ---
            params:
              pin: { type: int, secret: true }
              mode: { choices: [on, off], secret: true, default: "on" }
            ---
            # Secret
            - [ ] uses {{pin}} {{mode}}
            """.write(toFile: runbook, atomically: true, encoding: .utf8)
        let runs = dir.appendingPathComponent("runs").path
        let fromOption = try Fixtures.runsheet(["run", runbook, "--runs-dir", runs, "--param", "pin=hunter2"])
        #expect(fromOption.status == 2)
        #expect(fromOption.stderr == "runsheet: parameter 'pin' of \(runbook) (from --param): '••••' is not a whole number; pass a value that fits with --param pin=VALUE\n")
        let fromEnvironment = try Fixtures.runsheet(["run", runbook, "--runs-dir", runs, "--param", "pin=1"], environment: ["RUNSHEET_PARAM_mode": "hunter2"])
        #expect(fromEnvironment.status == 2)
        #expect(fromEnvironment.stderr == "runsheet: parameter 'mode' of \(runbook) (from RUNSHEET_PARAM_mode): '••••' is not one of on, off; pass one of those with --param mode=VALUE\n")
    }

    /// On a terminal, only a parameter that nothing else gives a value is asked for.
    @Test func aPromptComesLast() throws {
        #expect(FileManager.default.isExecutableFile(atPath: "/usr/bin/script"), "script (util-linux) gives the binary a terminal")
        let dir = try Fixtures.temporaryDirectory()
        let (runbook, seen) = try Self.runbook(in: dir)
        let runs = dir.appendingPathComponent("runs").path
        let command = [Fixtures.binary.path, "run", runbook, "--runs-dir", runs, "--auto", "--param", "a=option"].map(ShellQuoting.quote).joined(separator: " ")
        let terminal = try TerminalProcess(["-qec", command, "/dev/null"], environment: ["RUNSHEET_PARAM_db_host_2": "hyphen", "RUNSHEET_PARAM_gr__e": "groß"])
        #expect(terminal.waitFor("c: "), "\(terminal.output)")
        terminal.type("typed\r")
        #expect(terminal.finish() == 3, "\(terminal.output)")
        #expect(!terminal.output.contains("b: ") && !terminal.output.contains("db_host: "), "a parameter with a default is not asked for: \(terminal.output)")
        #expect(try Self.seen(seen) == ["a=option b=from-default c=typed db-host=hyphen db_host=plain größe=groß", "hyphen|plain|groß"])
    }

    /// Issue 15, item 6: a wrong answer to a prompt is asked again with the reason, and an empty
    /// required value, secret or not, is never taken; at `run` and at `resume`.
    @Test func aPromptAsksAgainUntilTheAnswerFits() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let seen = dir.appendingPathComponent("seen").path
        try """
            ---
            id: prompts
            params:
              count: { type: int }
              token: { secret: true }
            ---
            # Prompts
            - [ ] Use them

              ```sh run
              printf '%s %s\\n' {{count}} "$RUNSHEET_PARAM_token" >> \(seen)
              ```
            - [ ] Look
            """.write(to: dir.appendingPathComponent("prompts.md"), atomically: true, encoding: .utf8)
        let runs = dir.appendingPathComponent("runs").path
        let command = [Fixtures.binary.path, "run", dir.appendingPathComponent("prompts.md").path, "--runs-dir", runs, "--auto", "--as", "alice"]
            .map(ShellQuoting.quote).joined(separator: " ")
        let terminal = try TerminalProcess(["-qec", command, "/dev/null"], environment: [:])
        #expect(terminal.waitFor("count: "), "\(terminal.output)")
        terminal.type("many\r")
        #expect(terminal.waitFor("runsheet: 'many' is not a whole number; try again"), "\(terminal.output)")
        terminal.type("\r")
        #expect(terminal.waitFor("runsheet: it is empty, and it has no default, so it needs a value; try again"), "\(terminal.output)")
        terminal.type("3\r")
        #expect(terminal.waitFor("token: "), "\(terminal.output)")
        terminal.type("\r")
        #expect(terminal.waitFor("so it needs a value; try again\r\ntoken: ") || terminal.waitFor("so it needs a value; try again\ntoken: "), "\(terminal.output)")
        terminal.type("s3cret\r")
        #expect(terminal.finish() == 3, "\(terminal.output)")
        #expect(try Self.seen(seen) == ["3 s3cret"])
        #expect(!terminal.output.contains("s3cret"), "a secret is never echoed")

        // At resume the secret is asked for again: an empty answer is not taken there either.
        let id = try #require(Fixtures.onlyRun(in: runs))
        let resume = [Fixtures.binary.path, "resume", id, "--runs-dir", runs, "--as", "alice"].map(ShellQuoting.quote).joined(separator: " ")
        let again = try TerminalProcess(["-qec", resume, "/dev/null"], environment: [:])
        #expect(again.waitFor("token: "), "\(again.output)")
        again.type("\r")
        #expect(again.waitFor("so it needs a value; try again"), "\(again.output)")
        again.type("s3cret\r")
        #expect(again.waitFor("Look"), "\(again.output)")
        again.type("q")
        #expect(again.finish() == 3, "\(again.output)")
    }
}

/// `script`, which runs a command on a pseudo-terminal of its own, fed through a pipe.
final class TerminalProcess: @unchecked Sendable {
    private let process = Process()
    private let input = Pipe()
    private let collected = Collected()

    final class Collected: Sendable {
        private let data = Mutex(Data())
        func append(_ more: Data) { data.withLock { $0.append(more) } }
        var text: String { data.withLock { String(decoding: $0, as: UTF8.self) } }
    }

    init(_ arguments: [String], environment: [String: String]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["NO_COLOR": "1", "TERM": "xterm"].merging(environment) { $1 }) { $1 }
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        let collected = self.collected
        output.fileHandleForReading.readabilityHandler = { handle in collected.append(handle.availableData) }
        Fixtures.ignoreBrokenPipes()
        try process.run()
        ScratchRoot.started(process)
    }

    var output: String { collected.text }

    func waitFor(_ text: String, seconds: Double = 20) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if output.contains(text) { return true }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return false
    }

    func type(_ text: String) { try? input.fileHandleForWriting.write(contentsOf: Data(text.utf8)) }

    /// The exit status; -1 (after killing it) when it is still running after `seconds`.
    func finish(seconds: Double = 60) -> Int32 {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            return -1
        }
        process.waitUntilExit()
        return process.terminationStatus
    }
}
