/// What an operator may type for `--since`/`--until`, read the way journalctl reads them, so the habits of
/// one review tool work in the other:
///
/// - UTC, as the log writes it: `2026-11-29T17:02Z`, `2026-11-29T17:02:03.456Z` (`T` or a space);
/// - an explicit offset: `2026-11-29T20:02+03:00`, `…-0500`;
/// - local time, without a zone: `2026-11-29 17:02`, `2026-11-29T17:02:03`, or a date alone (local midnight);
/// - relative to now: `now`, `today`, `yesterday` (local midnights), `30m`, `1h`, `2d`, `90s`, `1w`, also
///   written `-1h`, `1h ago`, `30min`, `2days`.
///
/// Local time and now come in as arguments (`LocalClock`), so the core stays pure and tests choose the zone.
public enum AuditTimeInput {
    /// The two facts about the machine that reading local and relative times needs.
    public struct LocalClock: Sendable {
        /// Unix milliseconds now.
        public var nowMillis: Int64
        /// The local zone's offset from UTC, in seconds, at a given instant (Unix milliseconds): DST moves it.
        public var utcOffsetSeconds: @Sendable (Int64) -> Int

        public init(nowMillis: Int64, utcOffsetSeconds: @escaping @Sendable (Int64) -> Int) {
            self.nowMillis = nowMillis
            self.utcOffsetSeconds = utcOffsetSeconds
        }

        /// UTC with a fixed clock: for tests and for callers that want no local time at all.
        public static func utc(nowMillis: Int64) -> LocalClock { LocalClock(nowMillis: nowMillis) { _ in 0 } }
    }

    /// The forms `--help` and error messages name.
    public static let forms = "2026-11-29T17:00Z (UTC), 2026-11-29 17:00 or 2026-11-29 (local time), "
        + "2026-11-29T17:00+03:00, or relative: 30m, 1h, 2d, 1h ago, today, yesterday, now"

    /// Unix milliseconds for `text`, or nil when it is none of the forms above.
    public static func parse(_ text: String, clock: LocalClock) -> Int64? {
        let trimmed = text.trimmingASCIISpaces()
        if let relative = relative(trimmed, clock: clock) { return relative }
        return absolute(trimmed, zoneless: .local, clock: clock)
    }

    /// Unix milliseconds for a time in one of the absolute forms, a missing zone meaning UTC: the log's own
    /// times and what other parts of justgate write.
    public static func parseUTC(_ text: Substring) -> Int64? {
        absolute(text, zoneless: .utc, clock: .utc(nowMillis: 0))
    }

    // MARK: - Relative

    private static func relative(_ text: Substring, clock: LocalClock) -> Int64? {
        let lower = text.lowercased()
        switch lower {
        case "now": return clock.nowMillis
        case "today": return localMidnight(daysBack: 0, clock: clock)
        case "yesterday": return localMidnight(daysBack: 1, clock: clock)
        default: break
        }
        var rest = Substring(lower)
        if rest.hasSuffix(" ago") { rest = rest.dropLast(4) } else if rest.first == "-" { rest = rest.dropFirst() }
        rest = rest.trimmingASCIISpaces()
        let digits = rest.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 9, let amount = Int64(digits) else { return nil }
        let unit = rest.dropFirst(digits.count).trimmingASCIISpaces()
        let unitMillis: Int64
        switch unit {
        case "s", "sec", "secs", "second", "seconds": unitMillis = 1_000
        case "m", "min", "mins", "minute", "minutes": unitMillis = 60_000
        case "h", "hr", "hrs", "hour", "hours": unitMillis = 3_600_000
        case "d", "day", "days": unitMillis = 86_400_000
        case "w", "week", "weeks": unitMillis = 604_800_000
        default: return nil
        }
        return clock.nowMillis - amount * unitMillis
    }

    /// Midnight, local time, `daysBack` days before today.
    private static func localMidnight(daysBack: Int64, clock: LocalClock) -> Int64 {
        let offsetMillis = Int64(clock.utcOffsetSeconds(clock.nowMillis)) * 1000
        let localNow = clock.nowMillis + offsetMillis
        let localDay = localNow >= 0 ? localNow / 86_400_000 : (localNow - 86_399_999) / 86_400_000
        return fromLocal((localDay - daysBack) * 86_400_000, clock: clock)
    }

    // MARK: - Absolute

    private enum Zone {
        case utc
        case offset(seconds: Int)
        case local
    }

    private static func absolute(_ text: Substring, zoneless: Zone, clock: LocalClock) -> Int64? {
        var reader = DateTextCursor(text)
        guard let date = reader.date(), date.isValid else { return nil }
        var millis = date.daysSinceEpoch * 86_400_000
        if !reader.isAtEnd {
            guard reader.skip(UInt8(ascii: "T")) || reader.skip(UInt8(ascii: " ")),
                  let hour = reader.digits(2), reader.skip(UInt8(ascii: ":")), let minute = reader.digits(2),
                  hour < 24, minute < 60
            else { return nil }
            millis += Int64(hour * 3_600_000 + minute * 60_000)
            if reader.skip(UInt8(ascii: ":")) {
                guard let second = reader.digits(2), second < 60 else { return nil }
                millis += Int64(second * 1000)
                if reader.skip(UInt8(ascii: ".")) {
                    guard let fraction = reader.digits(3) else { return nil }
                    millis += Int64(fraction)
                }
            }
        }
        guard let zone = zone(&reader, zoneless: zoneless), reader.isAtEnd else { return nil }
        switch zone {
        case .utc: return millis
        case .offset(let seconds): return millis - Int64(seconds) * 1000
        case .local: return fromLocal(millis, clock: clock)
        }
    }

    /// `Z`, `+03:00`, `-0500`, or nothing (`zoneless`).
    private static func zone(_ reader: inout DateTextCursor, zoneless: Zone) -> Zone? {
        if reader.isAtEnd { return zoneless }
        if reader.skip(UInt8(ascii: "Z")) || reader.skip(UInt8(ascii: "z")) { return .utc }
        let sign: Int
        if reader.skip(UInt8(ascii: "+")) { sign = 1 } else if reader.skip(UInt8(ascii: "-")) { sign = -1 } else { return nil }
        guard let hours = reader.digits(2), hours <= 14 else { return nil }
        _ = reader.skip(UInt8(ascii: ":"))
        guard let minutes = reader.digits(2), minutes < 60 else { return nil }
        return .offset(seconds: sign * (hours * 3600 + minutes * 60))
    }

    /// A local wall-clock time (as if it were UTC millis) to the instant it names. The offset is read at the
    /// instant first guessed and read again once, which settles it except inside a DST change's gap or fold.
    private static func fromLocal(_ wallMillis: Int64, clock: LocalClock) -> Int64 {
        let first = wallMillis - Int64(clock.utcOffsetSeconds(wallMillis)) * 1000
        return wallMillis - Int64(clock.utcOffsetSeconds(first)) * 1000
    }
}
