/// A rate as written in the config: `N/s`, `N/m`, `N/h` or `N/d`.
public struct RateLimitRate: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var count: Int
    public var period: Period

    public enum Period: String, Sendable, CaseIterable {
        case second = "s"
        case minute = "m"
        case hour = "h"
        case day = "d"

        public var seconds: Int64 {
            switch self {
            case .second: 1
            case .minute: 60
            case .hour: 3600
            case .day: 86_400
            }
        }

        var word: String {
            switch self {
            case .second: "second"
            case .minute: "minute"
            case .hour: "hour"
            case .day: "day"
            }
        }
    }

    public init(count: Int, period: Period) {
        self.count = count
        self.period = period
    }

    /// The largest count accepted: beyond it the interval would be under a microsecond.
    public static let maxCount = 1_000_000

    /// Parses `3/h`; nil for anything else (the loader says what is wrong).
    public init?(parsing text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let period = Period(rawValue: String(parts[1])),
              !parts[0].isEmpty, parts[0].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), parts[0].utf8.count <= 9,
              let count = Int(parts[0])
        else { return nil }
        self.init(count: count, period: period)
    }

    public var description: String { "\(count)/\(period.rawValue)" }
}
