import Foundation
import RunsheetCore

/// The journals of scripts/bench-signatures: the long run of `generate`, with `signed` of its
/// note events replaced by sign-offs of `principal` (on gates `approve-1` ...), each signed by
/// the real `ssh-keygen -Y sign -n runsheet` with `key`, or left unsigned without a key, so the
/// signed and the unsigned journal hold the same events but for their signatures.
enum SignedJournal {
    static func write(path: String, count: Int, signed: Int, principal: String, key: String?) throws {
        guard signed * 4 <= count else { throw JournalBench.UsageError(errorDescription: "\(signed) sign-offs need at least \(signed * 4) events") }
        let every = count / signed  // a sign-off every `every` events, in place of a note
        var previous = try JournalFile.create(at: path, first: JournalBench.started(path: path))
        var text = Data()
        var made = 0
        for index in 1..<count {
            var event = JournalBench.event(index, actor: "bench")
            if index % 4 == 3, made < signed, index / every >= made {
                made += 1
                event = RunEvent(seq: 0, time: Timestamp.now(), type: .signOff, actor: principal, host: "bench-host", via: "terminal",
                                 step: "approve-\(made)",
                                 data: ["role": "sre", "stepHash": .string(SHA256Hex.of("approve-\(made)")), "sha256": .string(SHA256Hex.of("runbook"))],
                                 canonical: principal)
                if let key { event.signature = try sign(try event.signedBytes(run: JournalBench.runID(path)), key: key) }  // the runId of JournalBench.started(path:)
            }
            previous = try event.sealed(seq: index + 1, after: previous.hash)
            text.append(try previous.canonicalJSON())
            text.append(0x0A)
        }
        guard made == signed else { throw JournalBench.UsageError(errorDescription: "only \(made) of \(signed) sign-offs fit in \(count) events") }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: text)
        try handle.synchronize()
        try handle.close()
        print("events=\(count) signed=\(key == nil ? 0 : made) signoffs=\(made)")
    }

    /// The armored signature `ssh-keygen -Y sign` writes for `message` read from standard input.
    static func sign(_ message: [UInt8], key: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/ssh-keygen")
        process.arguments = ["-q", "-Y", "sign", "-n", "runsheet", "-f", key]
        let input = Pipe(), output = Pipe(), errors = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        try input.fileHandleForWriting.write(contentsOf: Data(message))
        try input.fileHandleForWriting.close()
        let armored = output.fileHandleForReading.readDataToEndOfFile()
        let problem = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let text = String(data: armored, encoding: .utf8), text.hasPrefix("-----BEGIN SSH SIGNATURE-----") else {
            throw JournalBench.UsageError(errorDescription: "ssh-keygen -Y sign with \(key) failed: \(String(decoding: problem, as: UTF8.self))")
        }
        return text
    }
}
