import Foundation
@preconcurrency import Glibc
@testable import RunsheetCore
import RunsheetTestSupport
import Synchronization
import Testing

/// A command given a terminal (`CommandSpec.terminal`, a block flagged `interactive`), started
/// directly as in-process callers do: it sees a terminal, keys typed on the operator's terminal
/// reach it, its size is the operator's, and its output, prompt included, is kept and hashed.
@Suite struct TerminalRelayTests {
    @Test func aCommandGetsTheOperatorsKeysThroughItsOwnTerminal() throws {
        // The operator's terminal: the test types on its master side, the runner reads the other.
        let operatorTerminal = try #require(LibC.openPseudoTerminal())
        defer { LibC.close(operatorTerminal.master) }
        let keyboard = open(operatorTerminal.slavePath, O_RDWR | O_NOCTTY | O_CLOEXEC)
        #expect(keyboard >= 0)
        defer { LibC.close(keyboard) }
        var size = winsize(ws_row: 27, ws_col: 91, ws_xpixel: 0, ws_ypixel: 0)
        #expect(ioctl(keyboard, UInt(TIOCSWINSZ), &size) == 0)

        let dir = try Fixtures.temporaryDirectory("terminal-relay")
        let path = dir.appendingPathComponent("out.log").path
        let master = operatorTerminal.master
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: 0.5)
            let keys = Array("yes\n".utf8)
            _ = keys.withUnsafeBytes { LibC.write(master, $0.baseAddress, $0.count) }
        }
        let streamed = Mutex("")
        let outcome = try CommandRunner().run(CommandSpec(
            shell: "bash", script: #"[ -t 0 ] && echo "stdin is a terminal"; stty size; read -p "Type yes: " a; [ "$a" = yes ]"#,
            timeoutSeconds: 20, outputPath: path, terminal: keyboard)) { chunk in streamed.withLock { $0 += chunk } }
        let log = try Data(contentsOf: URL(fileURLWithPath: path))
        let text = String(decoding: log, as: UTF8.self)
        #expect(outcome.exitCode == 0, "\(text)")
        #expect(text.contains("stdin is a terminal"), "\(text)")
        #expect(text.contains("27 91"), "the command's terminal has the operator's size: \(text)")
        #expect(text.contains("Type yes: "), "\(text)")
        #expect(outcome.outputSHA256 == SHA256Hex.of(Array(log)))
        #expect(outcome.outputBytes == log.count)
        #expect(streamed.withLock { $0 } == text)
    }
}
