import Foundation
import Synchronization

/// Removes the temporary folders that store commands of this user left behind when they died
/// without a chance to (kill -9, a crash, a power cut): folders of the temporary folder named as
/// `ScratchFolders` names them, whose owning process is gone, that are directories (not links)
/// owned by this user. Nothing is ever followed: each folder is opened without following a link
/// and emptied through its descriptor. A folder whose process lives (whoever it is) is left
/// alone, and so is anything else (docs/TEAMS.md, "Temporary folders").
enum StaleScratchFolders {
    private static let sweeping = Mutex<DispatchGroup?>(nil)

    /// Starts sweeping the temporary folder, once per process (the first store command's
    /// connection), on a thread of its own: a temporary folder of tens of thousands of entries
    /// takes some 20 ms to list, which the command's connection need not wait for. `finish()`
    /// waits for it, so the sweep is done before the store command returns.
    static func sweepOnce() {
        let group = DispatchGroup()
        guard sweeping.withLock({ started in defer { started = started ?? group }; return started == nil }) else { return }
        let directory = NSTemporaryDirectory()
        DispatchQueue.global(qos: .utility).async(group: group) { sweep(in: directory) }
    }

    /// Waits for the sweep `sweepOnce` started, if any.
    static func finish() {
        sweeping.withLock { $0 }?.wait()
    }

    /// Removes the stale folders in `directory`; returns their names.
    @discardableResult
    static func sweep(in directory: String) -> [String] {
        let parent = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard parent >= 0 else { return [] }
        defer { close(parent) }
        var removed: [String] = []
        for name in names(in: parent, prefix: ScratchFolders.prefix) {
            guard let pid = ScratchFolders.owner(ofName: name), pid != getpid(), !alive(pid) else { continue }
            var info = stat()
            guard fstatat(parent, name, &info, AT_SYMLINK_NOFOLLOW) == 0, (info.st_mode & S_IFMT) == S_IFDIR, info.st_uid == geteuid() else { continue }
            if removeTree(name, in: parent, expected: info, depth: 0) { removed.append(name) }
        }
        return removed
    }

    /// Whether process `pid` exists (signal 0: EPERM means it does, as another user's).
    static func alive(_ pid: pid_t) -> Bool {
        kill(pid, 0) == 0 || errno != ESRCH
    }

    /// The entries of the directory open at `descriptor` (its own descriptor is not consumed);
    /// with `prefix`, only those whose name begins with it (compared as bytes: the other
    /// entries of a busy temporary folder are never made into strings).
    private static func names(in descriptor: Int32, prefix: String = "") -> [String] {
        let wanted = Array(prefix.utf8)
        let copy = dup(descriptor)
        guard copy >= 0, let stream = fdopendir(copy) else {
            if copy >= 0 { close(copy) }
            return []
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes -> String? in
                guard bytes.starts(with: wanted) else { return nil }
                return String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if let name, name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Removes the directory `name` of the directory open at `parent` and everything in it,
    /// never through a link: it is opened with O_NOFOLLOW and must still be the one examined
    /// (`expected`: same device and inode, owned by this user). Links inside are removed, not followed.
    private static func removeTree(_ name: String, in parent: Int32, expected: stat, depth: Int) -> Bool {
        guard depth < 64 else { return false }
        let folder = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard folder >= 0 else { return false }
        var opened = stat()
        guard fstat(folder, &opened) == 0, opened.st_dev == expected.st_dev, opened.st_ino == expected.st_ino, opened.st_uid == geteuid() else {
            close(folder)
            return false
        }
        for entry in names(in: folder) {
            var info = stat()
            guard fstatat(folder, entry, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                _ = removeTree(entry, in: folder, expected: info, depth: depth + 1)
            } else {
                _ = unlinkat(folder, entry, 0)
            }
        }
        close(folder)
        return unlinkat(parent, name, AT_REMOVEDIR) == 0
    }
}
