/// Durations as runbooks write them: `90s`, `5m`, `1h30m`, `1h 30m`, `2 hours`, `1d`.
public enum DurationText {
    private static let units: [(names: [String], seconds: Int)] = [
        (["s", "sec", "secs", "second", "seconds"], 1),
        (["m", "min", "mins", "minute", "minutes"], 60),
        (["h", "hr", "hrs", "hour", "hours"], 3600),
        (["d", "day", "days"], 86400),
    ]

    /// Whole seconds, or nil when the text is not a duration.
    public static func seconds(_ text: String) -> Int? {
        let scalars = Array(text.trimmed.lowercased().unicodeScalars)
        guard !scalars.isEmpty else { return nil }
        var i = 0
        var total = 0
        var parts = 0
        func skipSpaces() { while i < scalars.count && (scalars[i] == " " || scalars[i] == "\t") { i += 1 } }
        while i < scalars.count {
            skipSpaces()
            var digits = ""
            while i < scalars.count, ("0"..."9").contains(scalars[i]) {
                digits.unicodeScalars.append(scalars[i]); i += 1
            }
            guard !digits.isEmpty, digits.count <= 9, let number = Int(digits) else { return nil }
            skipSpaces()
            var unit = ""
            while i < scalars.count, ("a"..."z").contains(scalars[i]) {
                unit.unicodeScalars.append(scalars[i]); i += 1
            }
            guard let factor = units.first(where: { $0.names.contains(unit) })?.seconds else { return nil }
            total += number * factor
            parts += 1
            skipSpaces()
            if i < scalars.count && scalars[i] == "," { i += 1 }
        }
        return parts > 0 ? total : nil
    }

    /// A short human form: `45s`, `5m`, `1h30m`.
    public static func format(_ seconds: Int) -> String {
        if seconds < 60 { return "\(seconds)s" }
        var rest = seconds
        var out = ""
        for (unit, size) in [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)] where rest >= size {
            out += "\(rest / size)\(unit)"
            rest %= size
        }
        return out
    }

    /// At most the two largest units, for figures over many runs: `45s`, `15m14s`, `12h18m`, `2d3h`.
    public static func approximate(_ seconds: Int) -> String {
        let units = [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)]
        guard let first = units.firstIndex(where: { seconds >= $0.1 }) else { return "0s" }
        let (big, bigSize) = units[first]
        let whole = seconds / bigSize
        guard first + 1 < units.count else { return "\(whole)\(big)" }
        let (small, smallSize) = units[first + 1]
        let rest = Int((Double(seconds % bigSize) / Double(smallSize)).rounded())
        if rest == 0 { return "\(whole)\(big)" }
        if rest * smallSize >= bigSize { return "\(whole + 1)\(big)" }
        return "\(whole)\(big)\(rest)\(small)"
    }
}
