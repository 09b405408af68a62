import Foundation
import RunsheetCore

/// What `run` does before it starts a run with production steps: every open run of the runs
/// folder that holds an environment lock is found (`LockFolder.holders`: each run folder's
/// journal's first line read, each run that took a lock verified whole to see whether it ended).
/// Timed against a baseline in the same process and folder: listing the run folders and looking
/// up each one's journal (`stat`), the least any scan of the folder does.
enum LockScan {
    static func time(directory: String, reps: Int) throws {
        let folder = LockFolder(runsDirectory: directory)
        var scans: [Double] = [], listings: [Double] = []
        var held = 0, listed = 0
        for _ in 0..<reps {
            let clock = ContinuousClock()
            var start = clock.now
            listed = listing(directory)
            listings.append(JournalBench.seconds(clock.now - start))
            start = clock.now
            held = folder.holders().count
            scans.append(JournalBench.seconds(clock.now - start))
        }
        scans.sort()
        listings.sort()
        print("runs=\(listed) held=\(held) scan=\(scans[scans.count / 2]) scanBest=\(scans[0]) listing=\(listings[listings.count / 2]) listingBest=\(listings[0])")
    }

    /// The run folders whose journal exists: one directory listing and one `stat` per folder.
    static func listing(_ directory: String) -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var count = 0
        var info = stat()
        for name in names.sorted() where !name.hasPrefix(".") {
            if stat(directory + "/" + name + "/journal.jsonl", &info) == 0 { count += 1 }
        }
        return count
    }
}
