import Foundation
import Synchronization

/// What Git says about the repository holding a folder: the one place the "as committed at
/// `HEAD`" readers (config, roles, release files, governance logs) learn whether there is a
/// repository and whether Git can read it. Fail closed (TRUST.md rule 7): a folder below a `.git`
/// (a Git folder, or a file naming one) is in a repository, and then Git must be able to read it;
/// one Git cannot read (git not on PATH, another user's repository Git refuses as of dubious
/// ownership, a `HEAD` naming no commit while the repository has commits) is never taken as
/// "nothing committed", so the working copy alone never decides there. A repository with no
/// commit at all is `.empty`: the working copy is all there is, as outside Git. So is a `.git`
/// Git itself takes for no repository (with none above it): removing `.git` does as much.
public enum GitReading: Sendable, Equatable {
    /// No `.git` from the folder up: the working copy is all there is.
    case outsideGit
    /// A repository without any commit (no ref at all): nothing is committed yet.
    case empty(top: String)
    /// `HEAD` is `commit`; `top` is the work tree's root.
    case head(top: String, commit: String)
    /// Git cannot read the repository: a clause naming it, what Git said and what to do.
    case unreadable(String)

    /// The work tree's root when Git reads it (with or without commits).
    public var top: String? {
        switch self {
        case .empty(let top), .head(let top, _): top
        case .outsideGit, .unreadable: nil
        }
    }

    /// Why what is committed at `HEAD` cannot be known here; nil when it can (or there is no repository).
    public var refusal: String? {
        if case .unreadable(let why) = self { return why }
        return nil
    }

    /// The clause every `.unreadable` sentence holds: a file there is not at fault, Git's reading is.
    public static let unknown = "so what is committed at HEAD there cannot be known"

    private static let known = Mutex<[String: GitReading]>([:])

    /// The reading for the repository holding `directory` (relative to the current folder when not
    /// absolute). Asked of Git once per folder and process, until Git reads it: a repository Git
    /// cannot read is asked again, so 'wait' sees it fixed.
    public static func of(_ directory: String) -> GitReading {
        let absolute = directory.hasPrefix("/") ? directory : FileManager.default.currentDirectoryPath + "/" + (directory.isEmpty ? "." : directory)
        let real = URL(fileURLWithPath: PathText.normalized(absolute)).resolvingSymlinksInPath().path
        if let cached = known.withLock({ $0[real] }) { return cached }
        let reading = read(real)
        if reading.refusal == nil { known.withLock { $0[real] = reading } }
        return reading
    }

    private static func read(_ real: String) -> GitReading {
        guard let root = root(of: real) else { return .outsideGit }
        let shownRoot = root.isEmpty ? "/" : root
        func unreadable(_ said: String, _ fix: String) -> GitReading {
            .unreadable("Git cannot read the repository at \(shownRoot) (\(said)), \(unknown) (\(fix))")
        }
        guard let top = GitCommand.run(["rev-parse", "--show-toplevel"], in: shownRoot) else {
            return unreadable("/usr/bin/env cannot be started", "make git runnable")
        }
        if top.status == 127 { return unreadable("git is not found on PATH", "install git or put it on PATH") }
        // A `.git` Git does not take for a repository (a folder holding only HEAD), with none above:
        // Git finds no repository at all, as when there is no `.git`, so nothing is committed.
        if top.status != 0, top.error.contains("not a git repository") { return .outsideGit }
        guard top.status == 0 else {
            let said = top.error.isEmpty ? "git exited with status \(top.status)" : "git says: \(top.error)"
            let fix = top.error.contains("dubious ownership")
                ? "run runsheet as the repository's owner, or have Git trust it with: git config --global --add safe.directory \(shownRoot)"
                : "repair it, or run runsheet where Git can read it"
            return unreadable(said, fix)
        }
        let topPath = String(decoding: top.output, as: UTF8.self).trimmed
        let realTop = URL(fileURLWithPath: topPath).resolvingSymlinksInPath().path
        guard realTop == URL(fileURLWithPath: shownRoot).resolvingSymlinksInPath().path else {
            return unreadable("Git reads \(shownRoot) as part of \(topPath.isEmpty ? "no work tree" : topPath)", "repair its .git")
        }
        if let head = GitCommand.run(["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], in: shownRoot), head.status == 0 {
            return .head(top: shownRoot, commit: String(decoding: head.output, as: UTF8.self).trimmed)
        }
        guard let refs = GitCommand.run(["for-each-ref", "--count=1", "--format=%(refname)"], in: shownRoot), refs.status == 0 else {
            return unreadable("its refs cannot be listed", "repair it, or run runsheet where Git can read it")
        }
        let ref = String(decoding: refs.output, as: UTF8.self).trimmed
        if ref.isEmpty { return .empty(top: shownRoot) }
        let branch = GitCommand.output(["symbolic-ref", "-q", "--short", "HEAD"], in: shownRoot).map { "branch \($0)" } ?? "HEAD"
        return unreadable("its \(branch) has no commit while the repository has commits (\(ref))",
                          "check out a branch that has commits, such as with: git checkout main")
    }

    /// The nearest folder from `real` up whose `.git` is a repository's (as `RepositoryFile`
    /// finds rule files' roots), or one this user cannot even look into (then Git is asked, and
    /// says why it cannot read it); nil when there is none. "" is the file system's root.
    static func root(of real: String) -> String? {
        var folder = real
        while true {
            let prefix = folder.hasSuffix("/") ? folder : folder + "/"
            if access(prefix + ".git", F_OK) == 0,
               RepositoryFile.isRepositoryRoot(prefix, loader: Compiler.disk) || access(prefix + ".git", R_OK) != 0 {
                return String(prefix.dropLast())
            }
            if folder == "/" || folder.isEmpty { return nil }
            folder = (folder as NSString).deletingLastPathComponent
        }
    }
}
