import Foundation
import RunsheetCore
import RunsheetTestSupport
import Testing

/// An exception granted with no change-calendar conflict (the kind that lets a step start while
/// the store's halts cannot be read) is not worded as a calendar exception. Found by the adversary.
@Suite struct ExceptionWordingTests {
    @Test func anExceptionWithoutACalendarConflictIsNotCalledACalendarException() throws {
        let halts = HaltTests()
        let dir = try halts.repository()
        _ = try halts.run(["run", "change.md", "--as", "olly"], in: dir, stdin: "done\n")
        let id = try #require(Fixtures.onlyRun(in: dir.appendingPathComponent("runs").path))
        let refused = try halts.run(["sign", id, "switch-traffic", "--exception", "--reason", "INC-9", "--as", "sam"], in: dir)
        #expect(refused.status == 1 && refused.stderr.contains("sam holds none of the roles that may grant an exception to start a production step")
                && !refused.stderr.contains("calendar"), "\(refused.stderr)")
        let granted = try halts.run(["sign", id, "switch-traffic", "--exception", "--reason", "INC-9", "--as", "rita"], in: dir)
        #expect(granted.status == 0, "\(granted.stderr)")
        let event = try #require(try halts.events(dir).first { $0.type == .exceptionGranted })
        let text = String(decoding: try JSONEncoder().encode(event), as: UTF8.self).replacingOccurrences(of: "\\/", with: "/")
        #expect(text.contains("no change-calendar conflict when it was granted; it lets the step start while the halts of the repository's store cannot be read"), "\(text)")
    }
}
