import Crypto
import Foundation

/// Where masked output goes: the output file, a streaming hash, a bounded tail and the live callback.
struct OutputSink {
    let path: String
    private let descriptor: Int32
    private var masker: SecretMasker
    private var hasher = SHA256()
    private var tail: [UInt8] = []
    /// Bytes of an incomplete UTF-8 character held back from `onOutput`.
    private var partialCharacter: [UInt8] = []
    private(set) var byteCount = 0
    private(set) var writeFailure: String?

    init(path: String, secrets: [String]) throws {
        self.path = path
        masker = SecretMasker(secrets: secrets)
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true,
                                                    attributes: [.posixPermissions: 0o700])
        } catch {
            throw CommandRunnerError.outputFileUnavailable(path: path, reason: "cannot create its directory")
        }
        descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            // Each attempt has a file of its own: one that is there already is never written over or through.
            let reason = errno == EEXIST ? "it already exists, and runsheet never writes over an output file"
                : errno == ELOOP ? "it is a symbolic link" : CommandRunner.describe(errno)
            throw CommandRunnerError.outputFileUnavailable(path: path, reason: reason)
        }
    }

    mutating func write(_ chunk: [UInt8], onOutput: (String) -> Void) {
        emit(masker.feed(chunk), onOutput: onOutput)
    }

    mutating func finish(onOutput: (String) -> Void) {
        emit(masker.finish(), onOutput: onOutput)
        if !partialCharacter.isEmpty {
            onOutput(String(decoding: partialCharacter, as: UTF8.self))
            partialCharacter = []
        }
    }

    private mutating func emit(_ bytes: [UInt8], onOutput: (String) -> Void) {
        guard !bytes.isEmpty else { return }
        byteCount += bytes.count
        hasher.update(data: bytes)
        writeAll(bytes)
        tail.append(contentsOf: bytes)
        if tail.count > 2 * CommandRunner.tailLimit { tail.removeFirst(tail.count - CommandRunner.tailLimit) }

        let text = partialCharacter + bytes
        let split = Self.completeUTF8Prefix(text)
        partialCharacter = Array(text[split...])
        if split > 0 { onOutput(String(decoding: text[..<split], as: UTF8.self)) }
    }

    private mutating func writeAll(_ bytes: [UInt8]) {
        guard writeFailure == nil else { return }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return LibC.write(descriptor, base + offset, raw.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                writeFailure = CommandRunner.describe(errno)
                return
            }
            offset += written
        }
    }

    func digest() -> String { SHA256Hex.hex(hasher.finalize()) }

    func tailText() -> String {
        var bytes = tail.suffix(CommandRunner.tailLimit)
        // Don't start in the middle of a character.
        while let first = bytes.first, first & 0xC0 == 0x80 { bytes.removeFirst() }
        return String(decoding: bytes, as: UTF8.self)
    }

    func close() {
        _ = LibC.close(descriptor)
    }

    /// Length of the prefix of `bytes` that does not end inside a UTF-8 character.
    private static func completeUTF8Prefix(_ bytes: [UInt8]) -> Int {
        var index = bytes.count
        var continuation = 0
        while index > 0, continuation < 3, bytes[index - 1] & 0xC0 == 0x80 {
            index -= 1
            continuation += 1
        }
        guard index > 0 else { return bytes.count }
        let lead = bytes[index - 1]
        let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
        return length > continuation + 1 ? index - 1 : bytes.count
    }
}
