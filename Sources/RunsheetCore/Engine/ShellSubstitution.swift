/// Which quoting rules a command's shell follows, told by its program name.
public enum ShellDialect: Sendable, Equatable {
    /// sh, bash, zsh, ksh, dash and their kin. `extended` is true where `$'...'`, `((...))` and
    /// `<<<` certainly mean what they mean in bash (bash, zsh, ksh); for `sh` and `dash` it
    /// depends on the implementation.
    case bourne(extended: Bool)
    case fish
    case powerShell
    /// Any other program: values are single-quoted the POSIX way, which is safe only bare.
    case other

    public init(shell: String) {
        let program = (shell.split(separator: "/").last.map(String.init) ?? shell).lowercased()
        switch program {
        case "bash", "zsh", "ksh", "ksh93", "mksh", "pdksh", "oksh", "loksh": self = .bourne(extended: true)
        case "sh", "dash", "ash", "posh", "yash": self = .bourne(extended: false)
        case "fish": self = .fish
        case "pwsh", "powershell", "pwsh.exe", "powershell.exe": self = .powerShell
        default: self = .other
        }
    }
}

/// Puts placeholders into commands so that a value is data wherever the placeholder is written.
///
/// For sh-family shells the value never enters the command text: each placeholder becomes a
/// reference to the environment variable that carries it, written for its quoting context
/// (bare `"${V}"`, in double quotes or a here-document `${V}`, in single quotes `'"${V}"'`, in
/// `$'...'` `'"${V}"$'`). In a quoted here-document nothing expands, so there the value itself is
/// written when it is one line that cannot end the here-document; otherwise `${V}` stays as text.
public enum ShellSubstitution {
    /// `code` with every placeholder that has a value replaced; other placeholders stay as written.
    public static func substitute(_ code: String, shell: String, values: [String: PlaceholderValue]) -> String {
        let occurrences = Placeholders.scan(code)
        guard !occurrences.isEmpty else { return code }
        switch ShellDialect(shell: shell) {
        case .bourne(let extended):
            var lexer = BourneSubstitution(bytes: Array(code.utf8), occurrences: occurrences, values: values, extended: extended)
            lexer.run()
            return String(decoding: lexer.out, as: UTF8.self)
        case .fish: return Placeholders.substitute(code) { values[$0].map { ShellQuoting.quoteForFish($0.value) } }
        case .powerShell: return Placeholders.substitute(code) { values[$0].map { ShellQuoting.quoteForPowerShell($0.value) } }
        case .other: return Placeholders.substitute(code) { values[$0].map { ShellQuoting.quote($0.value) } }
        }
    }
}
