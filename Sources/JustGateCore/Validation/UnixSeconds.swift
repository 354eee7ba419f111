/// Reading integer timestamps the way browsers and backends actually send them.
///
/// JavaScript's `getTime()` gives milliseconds, PHP's `time()` seconds; both reach the same fields. A
/// magnitude of 10^11 or more is taken as milliseconds: as seconds that would be year 5138, while as
/// milliseconds it is 1973, so the two never overlap for real dates. Milliseconds are converted with
/// floor division, so a negative value keeps naming the second that contains the instant
/// (-1 ms is 1969-12-31 23:59:59, i.e. -1 s, not 0).
enum UnixSeconds {
    static let millisecondThreshold: Int64 = 100_000_000_000

    /// Parses `-?[0-9]+` into seconds, or nil if the text is not an integer or out of range.
    static func parse(_ text: Substring) -> Int64? {
        var utf8 = text.utf8[...]
        let negative = utf8.first == UInt8(ascii: "-")
        if negative { utf8 = utf8.dropFirst() }
        guard !utf8.isEmpty else { return nil }
        var magnitude: Int64 = 0
        for byte in utf8 {
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            let (timesTen, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = timesTen.addingReportingOverflow(Int64(byte - 0x30))
            guard !overflow1 && !overflow2 else { return nil }
            magnitude = sum
        }
        let value = negative ? -magnitude : magnitude
        guard magnitude >= millisecondThreshold else { return value }
        let truncated = value / 1000
        let seconds = value % 1000 < 0 ? truncated - 1 : truncated
        // Beyond year 5138 even as milliseconds: refused, because the seconds written back would read
        // as milliseconds again and normalising would not be idempotent.
        guard seconds.magnitude < millisecondThreshold.magnitude else { return nil }
        return seconds
    }
}
