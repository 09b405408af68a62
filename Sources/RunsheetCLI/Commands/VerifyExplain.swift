import Foundation
import RunsheetCore

/// `verify RUN --explain DIR`: what an auditor needs to check every signature of a run with
/// OpenSSH alone (docs/JOURNAL.md, "Verifying with OpenSSH alone").
///
/// DIR gets, for each signed event, `event-SEQ.json` (the bytes its signature covers,
/// `RunEvent.signedBytes(run:)`) and `event-SEQ.sig` (the signature as `ssh-keygen` wrote it), plus a
/// copy of the allowed signers file and `verify.sh`, which runs the commands printed: one
/// `ssh-keygen -Y verify` per event, with the principal the event names and the event's time.
enum VerifyExplain {
    /// Writes the files into `folder` (which must not exist, or be empty) and returns the lines to print.
    /// Nothing is left behind on failure: the files are written into a staging folder beside it, renamed in one step.
    static func write(events: [RunEvent], runID: String, allowedSigners: String, into folder: String) throws -> [String] {
        let signed = events.filter { $0.signature != nil }
        var files: [(name: String, bytes: [UInt8])] = []
        let signersText: Data
        do {
            signersText = try Data(contentsOf: URL(fileURLWithPath: allowedSigners))
        } catch {
            throw CommandFailure(status: .usage, message: "cannot read the allowed signers file \(allowedSigners): \((error as NSError).localizedDescription)")
        }
        files.append(("allowed_signers", Array(signersText)))
        var commands: [String] = []
        var script = ["#!/bin/sh", "# Checks every signed event of this run with OpenSSH alone; run it from this folder.", "set -e"]
        for event in signed {
            let base = "event-\(event.seq)"
            files.append((base + ".json", try event.signedBytes(run: runID)))
            files.append((base + ".sig", Array(((event.signature ?? "") + "\n").utf8)))
            let principal = event.canonical ?? event.actor
            let command = "ssh-keygen -Y verify -f allowed_signers -I \(ShellQuoting.quote(principal)) -n runsheet -s \(base).sig -Overify-time=\(verifyTime(event.time)) < \(base).json"
            commands.append("# event \(event.seq): \(event.type.rawValue)\(event.step.map { " " + $0 } ?? "") by \(principal) at \(event.time)")
            commands.append(command)
            script.append("echo 'event \(event.seq):'")
            script.append(command)
        }
        files.append(("verify.sh", Array((script.joined(separator: "\n") + "\n").utf8)))
        try place(files, in: folder)
        let summary = signed.isEmpty
            ? "\(folder): no event of this run is signed; the allowed signers file is there, and verify.sh checks nothing"
            : "\(folder): \(signed.count) signed event(s); from that folder, each command below (or 'sh verify.sh') checks one with OpenSSH alone"
        return [summary] + commands
    }

    /// `2026-11-22T04:55:01.123Z` as `-Overify-time` takes it: `20261122045501Z` (UTC, to the second).
    static func verifyTime(_ time: String) -> String {
        let digits = time.prefix(19).filter(\.isNumber)
        return String(digits) + "Z"
    }

    private static func place(_ files: [(name: String, bytes: [UInt8])], in folder: String) throws {
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        if manager.fileExists(atPath: folder, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw CommandFailure(status: .usage, message: "\(folder) (given with --explain) is a file; name a new or empty folder") }
            guard (try? manager.contentsOfDirectory(atPath: folder))?.isEmpty == true else {
                throw CommandFailure(status: .usage, message: "\(folder) (given with --explain) is not empty; name a new or empty folder, so no file of an earlier explanation is taken for this one")
            }
        }
        let parent = (folder as NSString).deletingLastPathComponent.isEmpty ? "." : (folder as NSString).deletingLastPathComponent
        let staging = parent + "/.\((folder as NSString).lastPathComponent).explaining-\(getpid())"
        do {
            try manager.createDirectory(atPath: staging, withIntermediateDirectories: false)
            for file in files {
                guard manager.createFile(atPath: staging + "/" + file.name, contents: Data(file.bytes), attributes: [.posixPermissions: file.name == "verify.sh" ? 0o755 : 0o644]) else {
                    throw CocoaError(.fileWriteUnknown)
                }
            }
            if manager.fileExists(atPath: folder) { try manager.removeItem(atPath: folder) }  // empty, checked above
            try manager.moveItem(atPath: staging, toPath: folder)
        } catch {
            try? manager.removeItem(atPath: staging)
            throw CommandFailure(status: .usage, message: "cannot write the explanation into \(folder): \((error as NSError).localizedDescription)")
        }
    }
}
