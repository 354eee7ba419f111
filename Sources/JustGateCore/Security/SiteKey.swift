/// One key a site may present: the SHA-256 the config stores, and when the gateway stops taking it.
///
/// A site holds several keys while it moves from an old key to a new one: both are valid until the old one's
/// expiry, so the site can switch over whenever it deploys, with no flag day.
public struct SiteKey: Sendable, Equatable {
    /// SHA-256 of the key, 32 bytes.
    public var sha256: [UInt8]
    /// The first instant at which the key is refused; `nil` for a key that does not expire.
    public var expiry: SiteKeyExpiry?

    /// A key with this hash and optional expiry.
    public init(sha256: [UInt8], expiry: SiteKeyExpiry? = nil) {
        self.sha256 = sha256
        self.expiry = expiry
    }

    /// Hex digits of the hash shown in problems, logs and `justgate sites`.
    public static let fingerprintLength = 12

    /// The first 12 hex digits of the key's SHA-256: enough to tell a site's keys apart and to find the
    /// `sha256:` line in the config, while the hash (and so the key) stays unrecoverable from it.
    public var fingerprint: String {
        String(SiteKeyHex.encode(sha256).prefix(SiteKey.fingerprintLength))
    }

    /// Whether the key is refused at `now` (Unix seconds, the gateway's wall clock).
    public func isExpired(at now: Int64) -> Bool {
        guard let expiry else { return false }
        return now >= expiry.unixSeconds
    }
}

/// When a site key stops working, as written in the config (`expires: 2027-01-31`) and as an instant.
///
/// A bare date means the start of that day in UTC: `expires: 2027-01-31` is refused from 2027-01-31 00:00:00
/// UTC on, so "expires on the 31st" never depends on the server's time zone. `2027-01-31T12:00:00Z` names an
/// instant to the second.
public struct SiteKeyExpiry: Sendable, Equatable, CustomStringConvertible {
    /// The first Unix second at which the key is refused.
    public var unixSeconds: Int64
    /// The expiry as the config wrote it, for messages an operator can match against the file.
    public var text: String

    /// Parses `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SSZ` (UTC only); `nil` for anything else or an impossible date.
    public static func parse(_ text: String) -> SiteKeyExpiry? {
        var cursor = DateTextCursor(text[...])
        guard let date = cursor.date(), date.isValid else { return nil }
        var seconds = date.daysSinceEpoch * 86_400
        if !cursor.isAtEnd {
            guard cursor.skip(UInt8(ascii: "T")) || cursor.skip(UInt8(ascii: "t")),
                  let hour = cursor.digits(2), cursor.skip(UInt8(ascii: ":")),
                  let minute = cursor.digits(2), cursor.skip(UInt8(ascii: ":")),
                  let second = cursor.digits(2),
                  cursor.skip(UInt8(ascii: "Z")) || cursor.skip(UInt8(ascii: "z")), cursor.isAtEnd,
                  hour < 24, minute < 60, second < 60
            else { return nil }
            seconds += Int64(hour * 3600 + minute * 60 + second)
        }
        return SiteKeyExpiry(unixSeconds: seconds, text: text)
    }

    /// Builds an expiry from an instant; `text` is how it is shown.
    public init(unixSeconds: Int64, text: String) {
        self.unixSeconds = unixSeconds
        self.text = text
    }

    /// The instant in full, `2027-01-31 00:00:00 UTC`, so a bare date's meaning is never guessed.
    public var description: String {
        DateFormatting.dateTime(unixSeconds: unixSeconds) + " UTC"
    }
}
