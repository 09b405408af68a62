import Foundation
import RunsheetTestSupport
import Testing

@Suite struct SharedOptionsTests {
    /// Every command's arguments as ArgumentParser describes them: (command path, option names, help).
    static func options() throws -> [(command: String, names: [String], help: String)] {
        let dump = try Fixtures.runsheet(["--experimental-dump-help"])
        #expect(dump.status == 0)
        let root = try #require(try JSONSerialization.jsonObject(with: Data(dump.stdout.utf8)) as? [String: Any])
        var found: [(String, [String], String)] = []
        func walk(_ command: [String: Any], _ path: String) {
            for argument in command["arguments"] as? [[String: Any]] ?? [] {
                let names = (argument["names"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
                found.append((path, names, argument["abstract"] as? String ?? ""))
            }
            for sub in command["subcommands"] as? [[String: Any]] ?? [] {
                walk(sub, path + " " + (sub["commandName"] as? String ?? "?"))
            }
        }
        walk(root["command"] as? [String: Any] ?? [:], "runsheet")
        return found
    }

    /// An option several commands share is one declaration: the same help wherever it appears, and
    /// each command that works on runs, writes a file or renders takes it.
    @Test func sharedOptionsReadTheSameEverywhere() throws {
        let options = try Self.options()
        // `new --param` fills a skeleton and `update -o` writes a diff: their own options, not these.
        let own: Set<String> = ["runsheet new param", "runsheet update output"]
        for name in ["runs-dir", "as", "output", "template", "param", "format"] {
            let uses = options.filter { $0.names.contains(name) && !own.contains("\($0.command) \(name)") }
            #expect(uses.count >= 2, "--\(name) is shared by fewer than two commands")
            #expect(Set(uses.map(\.help)).count == 1, "--\(name) is explained differently: \(uses.map { "\($0.command): \($0.help)" })")
        }
        let runsFolder = Set(options.filter { $0.names.contains("runs-dir") }.map(\.command))
        for command in ["run", "resume", "status", "audit", "verify", "sign", "reject", "report", "render", "readiness", "metrics", "update"] {
            #expect(runsFolder.contains("runsheet \(command)"), "\(command) has no --runs-dir")
        }
    }
}

@Suite struct ExitCodeTableTests {
    /// `runsheet --help` and the README's "Exit codes" table list the same codes.
    @Test func helpAndReadmeListTheSameExitCodes() throws {
        let help = try Fixtures.runsheet(["--help"])
        let section = try #require(help.stdout.components(separatedBy: "Exit codes:").dropFirst().first?.components(separatedBy: "Examples:").first)
        let inHelp = section.split(separator: "\n").compactMap { line -> Int? in
            let words = line.split(separator: " ")
            return words.first.flatMap { Int($0) }
        }
        let readme = try String(contentsOf: Fixtures.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let table = try #require(readme.components(separatedBy: "### Exit codes").dropFirst().first?.components(separatedBy: "\n\n").dropFirst().first)
        let inReadme = table.split(separator: "\n").compactMap { line -> Int? in
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            return cells.first.flatMap { Int($0) }
        }
        #expect(!inHelp.isEmpty && inHelp == inReadme, "--help: \(inHelp), README: \(inReadme)")
    }
}
