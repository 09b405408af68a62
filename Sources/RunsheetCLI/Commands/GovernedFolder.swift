import ArgumentParser
import Foundation
import RunsheetCore

/// `--runbooks DIR`: the folder of the runbooks whose rules an act about the repository applies
/// (`halt`). Their `.runsheet/` is found from there up to the repository's root, as for a
/// runbook in that folder; without it, from the current folder.
struct GovernedFolderOption: ParsableArguments {
    @Option(name: .customLong("runbooks"),
            help: ArgumentHelp("The folder of the runbooks it governs: their .runsheet/ is found from there up to the repository's root (default: the current folder).",
                               valueName: "folder"),
            completion: .directory)
    var runbooks: String?

    /// The folder the rules are found from; a `--runbooks` that is not a folder is refused (exit 2).
    func directory() throws -> String {
        guard let runbooks else { return FileManager.default.currentDirectoryPath }
        var isFolder: ObjCBool = false
        guard !runbooks.trimmed.isEmpty, FileManager.default.fileExists(atPath: runbooks, isDirectory: &isFolder), isFolder.boolValue else {
            throw CommandFailure(status: .usage, message: "--runbooks \(runbooks.shown) is not a folder; name the folder of the runbooks whose .runsheet/ applies, e.g. --runbooks runbooks; nothing was written")
        }
        return runbooks
    }

    /// How to name the governed folder, for the sentence when no rules were found: a folder just
    /// below the current one that holds a roles file is suggested by name.
    var hint: String {
        if runbooks != nil { return "name the folder of the runbooks whose .runsheet/ applies with --runbooks" }
        let here = FileManager.default.currentDirectoryPath
        let below = ((try? FileManager.default.contentsOfDirectory(atPath: here)) ?? []).sorted().first { name in
            !name.hasPrefix(".") && FileManager.default.fileExists(atPath: here + "/" + name + "/" + RolesFile.relativePath)
        }
        return below.map { "its rules are in \($0)/.runsheet/, so name that folder with --runbooks \($0)" }
            ?? "run it inside the repository, or name the folder of the runbooks whose .runsheet/ applies with --runbooks DIR"
    }
}
