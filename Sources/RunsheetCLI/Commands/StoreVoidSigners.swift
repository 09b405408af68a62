import Foundation
import RunsheetCore

/// The allowed signers `store void` judges signatures with: the repository's as committed, never
/// a working copy's edit (which could make a valid approval or lift fail, and so be voided), and
/// never a file that cannot be read (which would make every signature fail: fail open).
enum VoidSigners {
    /// The allowed signers that apply to `anchor` (a path in the repository, as for a runbook
    /// there) as committed at `HEAD`; nil when `HEAD` holds none. Refused, nothing voided: a file
    /// that cannot be read or decoded (exit 2, as for any rule file), outside Git, or while the
    /// working copy's file differs from `HEAD`'s (exit 1).
    static func committed(near anchor: String) throws -> AllowedSigners? {
        let loaded = AllowedSigners.load(forRunbook: anchor)
        if let unreadable = loaded.flatMap({ AllowedSigners.readProblem(in: $0.1) }) {
            throw CommandFailure(status: .usage, message: "\(unreadable), so whose key made a signature cannot be known and no record can be judged not to verify (runsheet does not act on rules it cannot read); nothing was voided")
        }
        let (top, relative) = try place(near: anchor, working: loaded?.0.path)
        let working: [UInt8]?
        if let path = loaded?.0.path {
            do { working = try FileReader.read(path) } catch {
                throw CommandFailure(status: .usage, message: "the allowed signers file \(relative.shown) cannot be read: \((error as? LocalizedError)?.errorDescription ?? "\(error)"), so no record can be judged not to verify; nothing was voided")
            }
        } else {
            working = nil
        }
        let committed = GitCommand.bytes(["cat-file", "blob", "HEAD:" + relative], in: top)
        if working == nil, committed != nil {
            throw CommandFailure(status: .usage, message: "the allowed signers file \(relative.shown) is committed at HEAD but missing from the working copy (\(top.shown)), so no record can be judged not to verify (runsheet does not act on rules it cannot read); restore it (git checkout -- \(relative.shown)), and nothing was voided")
        }
        guard working == committed else {
            throw CommandFailure(status: .findings, message: "the allowed signers file \(relative.shown) in the working copy is not the one committed at HEAD (\(committed == nil ? "HEAD holds none" : "it has been changed")), and store void judges signatures only by the committed file; commit it or restore it (git checkout -- \(relative.shown)) and run store void again; nothing was voided")
        }
        return loaded?.0
    }

    /// The allowed signers that applied at `commit` (a run's recorded start commit), in the
    /// repository around `anchor`; nil when that commit holds none. Refused (exit 1) when the
    /// commit is not in the repository.
    static func at(commit: String, near anchor: String, run id: String) throws -> AllowedSigners? {
        let (top, relative) = try place(near: anchor, working: nil)
        guard GitCommand.output(["cat-file", "-e", commit + "^{commit}"], in: top) != nil else {
            throw CommandFailure(status: .findings, message: "run \(id.shown) started at commit \(String(commit.prefix(12)).shown), which is not in this repository, so the allowed signers it started under cannot be read; nothing was voided")
        }
        guard let bytes = GitCommand.bytes(["cat-file", "blob", commit + ":" + relative], in: top) else { return nil }
        return AllowedSigners.parse(text: String(decoding: bytes, as: UTF8.self), path: "\(relative)@\(commit.prefix(12))").0
    }

    /// Every version of the allowed signers file (the one that applies to `anchor`) committed in
    /// `HEAD`'s history, parsed: a governance record that verifies under any of them is not
    /// voided, so a commit of other signers (in a copy of the repository, say) cannot make it fail.
    static func history(near anchor: String) throws -> [AllowedSigners] {
        let (top, relative) = try place(near: anchor, working: AllowedSigners.load(forRunbook: anchor)?.0.path)
        return CommittedRules.versions(of: relative, in: top).sorted().compactMap { sha in
            CommittedRules.version(of: relative, sha256: sha, in: top).map { AllowedSigners.parse(text: String(decoding: $0, as: UTF8.self), path: "\(relative)@\(sha.prefix(12))").0 }
        }
    }

    /// The Git root around `anchor` and the allowed signers file's path from it (`working`, the
    /// file found in the working copy, or the root's `.runsheet/allowed_signers`).
    private static func place(near anchor: String, working: String?) throws -> (top: String, relative: String) {
        let folder = (anchor as NSString).deletingLastPathComponent
        let real = URL(fileURLWithPath: folder.isEmpty ? "." : folder).resolvingSymlinksInPath().path
        let reading = GitReading.of(real)
        if let refusal = reading.refusal {
            throw CommandFailure(status: .findings, message: "\(refusal), and store void judges signatures only by the allowed signers as committed; nothing was voided")
        }
        guard let top = reading.top else {
            throw CommandFailure(status: .findings, message: "\(real.shown) is not in a Git repository, so the allowed signers as committed cannot be read and store void judges signatures only by them; nothing was voided")
        }
        guard let working else { return (top, AllowedSigners.relativePath) }
        let absolute = working.hasPrefix("/") ? working : FileManager.default.currentDirectoryPath + "/" + working
        let directory = URL(fileURLWithPath: (PathText.normalized(absolute) as NSString).deletingLastPathComponent).resolvingSymlinksInPath().path
        return (top, PathText.relative(directory + "/" + (absolute as NSString).lastPathComponent, from: top))
    }
}
