/// The audit log's time format, RFC 3339 in UTC with milliseconds (`2026-11-29T17:02:03.456Z`). Fixed width,
/// so comparing the text compares the times and `--since`/`--until` filters need no date arithmetic per line.
public enum AuditTime {
    /// Formats Unix milliseconds.
    public static func format(unixMillis: Int64) -> String {
        let seconds = unixMillis >= 0 ? unixMillis / 1000 : (unixMillis - 999) / 1000
        let millis = Int(unixMillis - seconds * 1000)
        let days = seconds >= 0 ? seconds / 86400 : (seconds - 86399) / 86400
        let secondOfDay = Int(seconds - days * 86400)
        let date = CivilDate(daysSinceEpoch: days)
        func pad(_ value: Int, _ width: Int) -> String { DateFormatting.padded(value, width: width) }
        return "\(pad(date.year, 4))-\(pad(date.month, 2))-\(pad(date.day, 2))T"
            + "\(pad(secondOfDay / 3600, 2)):\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2))."
            + "\(pad(millis, 3))Z"
    }

    /// Parses `2026-11-29`, `2026-11-29T17:02Z`, `2026-11-29T17:02:03Z` or `2026-11-29T17:02:03.456Z` (a missing
    /// zone is UTC here; `AuditTimeInput` reads what operators type) as Unix milliseconds.
    public static func parse(_ text: String) -> Int64? {
        AuditTimeInput.parseUTC(Substring(text))
    }
}

/// Writes request times on the audit writer's thread. Everything up to the second (`2026-11-29T17:02:03.`)
/// changes once a second while the writer seals thousands of records a second, so that part is kept and only
/// the milliseconds are written per record: formatting the whole date each time was a visible share of the
/// audit log's cost per request.
public struct AuditTimeFormatter {
    /// Unix seconds `prefix` is for.
    private var second: Int64 = .min
    /// The 20 bytes before the milliseconds.
    private var prefix: [UInt8] = []

    public init() {}

    /// Appends `unixMillis` as `AuditTime.format` writes it, without the quotes.
    public mutating func append(unixMillis: Int64, to out: inout [UInt8]) {
        let seconds = unixMillis >= 0 ? unixMillis / 1000 : (unixMillis - 999) / 1000
        if seconds != second {
            prefix = Array(AuditTime.format(unixMillis: seconds * 1000).utf8.dropLast(4))
            second = seconds
        }
        let millis = Int(unixMillis - seconds * 1000)
        out.append(contentsOf: prefix)
        out.append(UInt8(0x30 + millis / 100))
        out.append(UInt8(0x30 + millis / 10 % 10))
        out.append(UInt8(0x30 + millis % 10))
        out.append(0x5A)
    }
}
