import Foundation

/// Whether the date and time written at the start of a text (`2026-02-30`, `2026-12-04T25:00`)
/// can be: Foundation's parsers roll an impossible one over into the next month or day instead.
public enum PossibleDate {
    /// Why the date or time written in `text` cannot be ("2026-02 has no day 30"); nil when every
    /// field is in range, or when the text does not start `YYYY-MM-DD` (left to the parser).
    public static func impossibility(_ text: String) -> String? {
        let b = Array(text.trimmingCharacters(in: .whitespaces).utf8)
        func number(_ from: Int, _ count: Int) -> Int? {
            guard b.count >= from + count else { return nil }
            var value = 0
            for byte in b[from..<(from + count)] {
                guard (0x30...0x39).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        guard b.count >= 10, b[4] == 0x2D, b[7] == 0x2D, let year = number(0, 4), let month = number(5, 2), let day = number(8, 2) else { return nil }
        guard (1...12).contains(month) else { return "there is no month \(month)" }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        guard (1...days).contains(day) else { return String(format: "%04d-%02d has no day %d", year, month, day) }
        guard b.count >= 16, b[10] == 0x54 || b[10] == 0x20 || b[10] == 0x74, b[13] == 0x3A, let hour = number(11, 2), let minute = number(14, 2) else { return nil }
        guard hour < 24 else { return "there is no hour \(hour)" }
        guard minute < 60 else { return "there is no minute \(minute)" }
        if b.count >= 19, b[16] == 0x3A, let second = number(17, 2), second > 59 { return "there is no second \(second)" }
        return nil
    }
}
