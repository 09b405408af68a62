import Foundation

/// The password for a connection, found as libpq finds it ("The Password File"): PGPASSWORD,
/// else the first matching line of PGPASSFILE or `~/.pgpass`. Never from the URL.
public enum PasswordLookup {
    /// The password file libpq would read: PGPASSFILE, else `.pgpass` in the home folder.
    public static func passwordFilePath(environment: [String: String], home: String?) -> String {
        if let file = environment["PGPASSFILE"], !file.isEmpty { return file }
        return (home ?? "~") + "/.pgpass"
    }

    /// The password and any warning to print (a password file readable by others is ignored, as
    /// libpq ignores it); nil password when none applies.
    public static func password(for settings: ConnectionSettings, environment: [String: String],
                                home: String?) -> (password: String?, warning: String?) {
        if let password = environment["PGPASSWORD"], !password.isEmpty { return (password, nil) }
        let path = passwordFilePath(environment: environment, home: home)
        var info = stat()
        guard stat(path, &info) == 0 else { return (nil, nil) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            return (nil, "password file \"\(path)\" is not a plain file, so it is ignored")
        }
        if info.st_mode & (S_IRWXG | S_IRWXO) != 0 {
            return (nil, "password file \"\(path)\" has group or world access, so it is ignored; permissions should be u=rw (0600) or less")
        }
        guard let data = FileManager.default.contents(atPath: path) else { return (nil, nil) }
        return (match(String(decoding: data, as: UTF8.self), settings: settings), nil)
    }

    /// The password of the first line of a password file that matches, by libpq's rules: fields
    /// `hostname:port:database:username:password`, a field that is just `*` matches anything, `\:`
    /// and `\\` escape, the password ends at the next unescaped `:`; a Unix socket in the default
    /// folder is `localhost`.
    public static func match(_ text: String, settings: ConnectionSettings) -> String? {
        let host: String = switch settings.endpoint {
        case .tcp(let host, _): host
        case .socket(let directory, _): directory == ConnectionSettings.defaultSocketDirectory ? "localhost" : directory
        }
        let wanted = [host, String(settings.port), settings.database, settings.user]
        for rawLine in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            guard let fields = split(line), fields.count >= 5 else { continue }
            if zip(fields.prefix(4), wanted).allSatisfy({ field, value in field.raw == "*" || field.value == value }) {
                return fields[4].value
            }
        }
        return nil
    }

    /// The fields of a line split at unescaped colons, each as written (for the `*` wildcard,
    /// which is not escaped) and unescaped; nil when a backslash ends the line.
    static func split(_ line: Substring) -> [(raw: String, value: String)]? {
        var fields: [(raw: String, value: String)] = []
        var raw = "", value = ""
        var characters = line.makeIterator()
        while let character = characters.next() {
            if character == "\\" {
                guard let escaped = characters.next() else { return nil }
                raw.append(character)
                raw.append(escaped)
                value.append(escaped)
            } else if character == ":" {
                fields.append((raw, value))
                (raw, value) = ("", "")
            } else {
                raw.append(character)
                value.append(character)
            }
        }
        fields.append((raw, value))
        return fields
    }
}
