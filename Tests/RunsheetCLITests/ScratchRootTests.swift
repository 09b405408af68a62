import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// A test process leaves nothing in its temporary folder ($TMPDIR): what its tests make there
/// goes into `ScratchRoot`, removed at exit even after a test that threw with a program of its
/// own still running; and a folder left by a test process that died is removed by the next.
@Suite struct ScratchRootTests {
    static let probing = ProcessInfo.processInfo.environment["RUNSHEET_SCRATCH_PROBE"] == "1"
    static let probeFailure = "the scratch probe stops here"

    /// The test binary running now (`swift test` runs the `.xctest` bundle's executable).
    static var testBinary: String {
        let running = URL(fileURLWithPath: CommandLine.arguments[0])
        return running.pathExtension == "xctest" ? running.path : Fixtures.packageRoot.appendingPathComponent(".build/debug/runsheetPackageTests.xctest").path
    }

    @Test func aTestProcessLeavesNothingInItsTemporaryFolderEvenWhenATestThrows() throws {
        // Beside this process's ScratchRoot, not in it: the probe's server socket path must stay short.
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("runsheet-scratch-check-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: tmp, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: tmp) }
        // A folder of a test process that died: nobody holds the lock on its owner.lock.
        let dead = tmp.appendingPathComponent("runsheet-tests-1-dead")
        try FileManager.default.createDirectory(at: dead.appendingPathComponent("runsheet-test-x/.git"), withIntermediateDirectories: true)
        try "".write(to: dead.appendingPathComponent("owner.lock"), atomically: true, encoding: .utf8)

        let probe = try Fixtures.run(Self.testBinary, ["--testing-library", "swift-testing", "--filter", "ScratchRootTests/probe"],
                                     environment: ["TMPDIR": tmp.path, "RUNSHEET_SCRATCH_PROBE": "1"], timeout: 300)
        let printed = probe.stdout + probe.stderr
        #expect(probe.status != 0 && printed.contains(Self.probeFailure), "\(printed)")
        #expect(!printed.contains("Expectation failed"), "\(printed)")
        let left = (try? FileManager.default.contentsOfDirectory(atPath: tmp.path)) ?? ["(unreadable)"]
        #expect(left.isEmpty, "left in the probe's TMPDIR: \(left)")
    }

    /// Run only by the test above, in a test process of its own: makes what tests make in a
    /// temporary folder (folders, a file, a PostgreSQL server, a tmux socket), leaves the binary
    /// running, and throws.
    @Test(.enabled(if: probing)) func probe() throws {
        let folder = try Fixtures.temporaryDirectory()
        #expect(folder.path.hasPrefix(ScratchRoot.path + "/"))
        try "x".write(toFile: Fixtures.temporaryFile("file"), atomically: true, encoding: .utf8)
        #expect(FileManager.default.fileExists(atPath: Fixtures.outsideRepository("Tests/Fixtures/runbooks").path))
        let store = try PostgresServer.shared.get().makeStore()
        #expect(store.server.folder.hasPrefix(ScratchRoot.path + "/"))

        let screen = TmuxScreen(prefix: "runsheet-scratch")
        try screen.tmux(["new-session", "-d", "-s", screen.session, "sleep 60"])
        #expect(FileManager.default.fileExists(atPath: ScratchRoot.path + "/tmux-\(getuid())/\(screen.session)"))
        try screen.tmux(["kill-server"])

        let demo = Fixtures.packageRoot.appendingPathComponent("Tests/Fixtures/runbooks/run-demo.md").path
        let running = try RunningRunsheet(["run", demo, "--runs-dir", folder.path, "--as", "bob"])
        #expect(running.waitFor("Read the notes"), "\(running.printed)\(running.errors)")
        throw ProbeStop(description: Self.probeFailure)
    }

    struct ProbeStop: Error, CustomStringConvertible { var description: String }
}
