import Foundation
import RunsheetCore

/// Writes to the standard streams, with colour only on a terminal that wants it.
enum Output {
    static func out(_ text: String) {
        _ = try? FileHandle.standardOutput.write(contentsOf: Data(text.utf8))
    }

    static func error(_ text: String) {
        _ = try? FileHandle.standardError.write(contentsOf: Data(("runsheet: " + text + "\n").utf8))
    }

    static func line(_ text: String) { out(text + "\n") }

    /// True when `fd` is a terminal, NO_COLOR is unset or empty and TERM is not dumb.
    static func colorEnabled(fd: Int32) -> Bool {
        let env = ProcessInfo.processInfo.environment
        // no-color.org: NO_COLOR counts when it is present and not empty; `NO_COLOR=` keeps colour.
        if let noColor = env["NO_COLOR"], !noColor.isEmpty { return false }
        if env["TERM"] == "dumb" { return false }
        return isatty(fd) != 0
    }
}

/// ANSI styling that is a no-op when colour is off.
struct Style: Sendable {
    var enabled: Bool

    func apply(_ code: String, _ text: String) -> String { enabled ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
    func bold(_ text: String) -> String { apply("1", text) }
    func red(_ text: String) -> String { apply("31", text) }
    func yellow(_ text: String) -> String { apply("33", text) }
    func green(_ text: String) -> String { apply("32", text) }
    func dim(_ text: String) -> String { apply("2", text) }
    func cyan(_ text: String) -> String { apply("36", text) }
}

/// Writes a command's result to standard output, or to a file in one piece: a temporary file
/// beside it, renamed over it, so a failure never leaves half a file behind. Only a regular file
/// is replaced: a link, a FIFO or a device at the path is refused and left as it is.
enum OutputFile {
    static func write(_ bytes: [UInt8], to path: String?) throws {
        guard let path else {
            _ = try? FileHandle.standardOutput.write(contentsOf: Data(bytes))
            return
        }
        if let kind = RegularFile.otherKind(at: path) {
            throw CommandFailure(status: .usage, message: "cannot write \(path): it is \(kind), not a regular file, and runsheet writes output only to regular files, so it left it untouched")
        }
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        do {
            // Created new (O_EXCL), so nothing planted at the temporary name is written through.
            let fd = try RegularFile.descriptor(temporary.path, O_WRONLY | O_CREAT | O_EXCL, mode: 0o666)
            let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
            try handle.write(contentsOf: Data(bytes))
            try handle.close()
            guard rename(temporary.path, url.path) == 0 else {
                throw NSError(domain: NSPOSIXErrorDomain, code: Int(errno), userInfo: [NSLocalizedDescriptionKey: String(cString: strerror(errno))])
            }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw CommandFailure(status: .usage, message: "cannot write \(path): \(reason(error, folder: url.deletingLastPathComponent().path))")
        }
    }

    /// Why a file could not be written, in the words of the output's own path (not the
    /// temporary file's, nor a journal's).
    private static func reason(_ error: Error, folder: String) -> String {
        switch error {
        case JournalError.notFound:
            "the folder \(folder) does not exist"
        case JournalError.system(_, _, let code):
            String(cString: strerror(code))
        case JournalError.notRegularFile(_, let kind):
            "a temporary file beside it is \(kind)"
        default:
            (error as NSError).localizedDescription
        }
    }
}

/// The `--template` option of report, readiness and metrics: read the file, and turn a template
/// that does not parse into one sentence naming it.
enum ReportTemplate {
    static func read(_ path: String?) throws -> String? {
        guard let path else { return nil }
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw CommandFailure(status: .usage, message: "cannot read the template \(path): \((error as NSError).localizedDescription)")
        }
    }

    /// Reads `path` (if any) and renders with it, through `render`.
    static func render(_ path: String?, _ render: (String?) throws -> String) throws -> String {
        let text = try read(path)
        do {
            return try render(text)
        } catch let error as ReportRenderer.TemplateError {
            throw CommandFailure(status: .usage, message: "\(path ?? "template"): \(error.message)")
        }
    }
}

/// A date or time given on the command line: ISO 8601, or `2026-10-01` / `2026-10-01 09:00` in UTC.
enum DateOption {
    /// The formats a date option takes, for its error sentences: a form, not an example date that would age into the past.
    static let formats = "write it as YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)"

    static func parse(_ text: String, option: String) throws -> Date {
        // A year of more than four digits (02027-01-01) is read by ISO 8601 parsers, but no one means it.
        let year = text.trimmingCharacters(in: .whitespaces).prefix { $0.isASCII && $0.isNumber }
        if year.count > 4 {
            throw CommandFailure(status: .usage, message: "\(option) '\(text)' is not a date: its year has \(year.count) digits, not 4; \(formats)")
        }
        if let impossible = PossibleDate.impossibility(text) {
            throw CommandFailure(status: .usage, message: "\(option) '\(text)' is not a date that exists (\(impossible)); \(formats)")
        }
        guard let date = Timestamp.parse(text) ?? Release.parseTarget(text, timeZone: TimeZone(identifier: "UTC")!) else {
            throw CommandFailure(status: .usage, message: "\(option) '\(text)' is not a date; \(formats)")
        }
        return date
    }
}
