import Foundation
@testable import RunsheetCLI
import RunsheetTestSupport
import Testing

/// Issue 15, item 7: a waiting gate screen hears of a signature when the run's folder changes
/// (inotify), not at its next poll. scripts/bench-terminal measures how soon; this checks the
/// watch wakes on a change another process makes, including a journal put in place by rename,
/// and stays asleep without one.
@Suite struct ChangeWatchTests {
    @Test func anAppendByAnotherProcessWakesTheWatch() throws {
        let dir = try Fixtures.temporaryDirectory()
        let journal = dir.appendingPathComponent("journal.jsonl")
        try Data("{}\n".utf8).write(to: journal)
        let watch = try #require(ChangeWatch(folder: dir.path), "inotify is not offered here")
        #expect(!watch.wait(seconds: 0.2), "nothing changed yet")
        let append = try Fixtures.run("/bin/sh", ["-c", "printf '{}\\n' >> \"$0\"", journal.path])
        #expect(append.status == 0)
        #expect(watch.wait(seconds: 10), "an append to the journal must wake the watch")
        #expect(!watch.wait(seconds: 0.2), "the change was drained; nothing new since")
        let replace = try Fixtures.run("/bin/sh", ["-c", "printf '{}\\n' > \"$0.new\" && mv \"$0.new\" \"$0\"", journal.path])
        #expect(replace.status == 0)
        #expect(watch.wait(seconds: 10), "a journal put in place by rename must wake the watch")
    }

    @Test func aFolderThatIsNotThereGivesNoWatch() throws {
        let dir = try Fixtures.temporaryDirectory()
        #expect(ChangeWatch(folder: dir.appendingPathComponent("gone").path) == nil)
    }
}
