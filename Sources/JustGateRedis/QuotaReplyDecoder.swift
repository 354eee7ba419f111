import JustGateCore

/// The limiter script's answer, checked: Redis's `now` and each key's stored instant (nil: none).
public struct QuotaReply: Sendable, Equatable {
    public var now: Int64
    public var stored: [Int64?]

    public init(now: Int64, stored: [Int64?]) {
        self.now = now
        self.stored = stored
    }
}

/// Reads the reply of `RedisQuotaScript` (`[now, stored instant or -1 per key…]`) and refuses one that
/// no honest Redis could send.
///
/// Everything on the Redis link is untrusted input: `redis://` is plaintext, and a Redis that is
/// compromised, misconfigured or impersonated can answer anything. Before this check, `now = Int64.max`
/// crashed the gateway in the GCRA on the first limited request. A refused reply is a backend error:
/// the caller applies `on_backend_error` and logs the outage once, as for a Redis that is down.
///
/// Plausible means: the right shape (an array of one integer per key plus `now`); `now` after the
/// epoch and before the year 2500 in microseconds (Redis `TIME`); each stored instant either negative
/// (absent: the script's -1) or no further ahead of `now` than the policy can ever have put it
/// (`tolerance + interval`) plus `clockSlackMicros` for a Redis clock that stepped back a little.
/// Pure, so the fuzzer (`Fuzz/Sources/FuzzQuotaReply`) and unit tests feed it hostile replies directly.
public enum QuotaReplyDecoder {
    /// 2500-01-01T00:00:00Z in microseconds since the epoch: no real `TIME` is later.
    public static let latestPlausibleNow: Int64 = 16_725_225_600 * 1_000_000
    /// How far a stored instant may exceed the policy's reach: one second of Redis clock stepping back.
    public static let clockSlackMicros: Int64 = 1_000_000

    /// Why a reply was refused, in words for the log (numbers and error kinds only: never the reply's text).
    public enum Rejection: Error, Equatable, CustomStringConvertible {
        case redisError(RedisErrorKind)
        case notAnArray
        case wrongLength(expected: Int, got: Int)
        case notAnInteger(position: Int)
        case implausibleNow(Int64)
        case storedTooFarAhead(position: Int, aheadMicros: Int64, limitMicros: Int64)

        public var description: String {
            switch self {
            case .redisError(let kind): "Redis answered the limiter script with an error: \(kind)"
            case .notAnArray: "the limiter script's reply is not an array"
            case .wrongLength(let expected, let got): "the limiter script's reply has \(got) items, expected \(expected)"
            case .notAnInteger(let position): "item \(position) of the limiter script's reply is not an integer"
            case .implausibleNow(let now): "implausible reply from Redis: now = \(now) µs is not between the epoch and the year 2500"
            case .storedTooFarAhead(let position, let ahead, let limit):
                "implausible reply from Redis: stored instant \(position) is \(ahead) µs ahead of now, more than the policy's \(limit) µs"
            }
        }
    }

    /// Decodes `reply` for keys counted by `limits`, in the order the script was given them.
    public static func decode<Limits: RandomAccessCollection>(_ reply: RESPValue, limits: Limits) -> Result<QuotaReply, Rejection>
    where Limits.Element == GCRALimit, Limits.Index == Int {
        let items: [RESPValue]
        switch reply {
        case .array(let array?): items = array
        case .error(let text): return .failure(.redisError(RedisErrorKind(errorText: text)))
        default: return .failure(.notAnArray)
        }
        guard items.count == limits.count + 1 else {
            return .failure(.wrongLength(expected: limits.count + 1, got: items.count))
        }
        guard case .integer(let now) = items[0] else { return .failure(.notAnInteger(position: 0)) }
        guard now > 0 && now < latestPlausibleNow else { return .failure(.implausibleNow(now)) }
        var stored: [Int64?] = []
        stored.reserveCapacity(limits.count)
        for (index, limit) in zip(0..., limits) {
            guard case .integer(let value) = items[index + 1] else { return .failure(.notAnInteger(position: index + 1)) }
            guard value >= 0 else {
                stored.append(nil)
                continue
            }
            let ahead = value.subtractingSaturated(now)
            let limitMicros = limit.tolerance.addingSaturated(limit.interval).addingSaturated(clockSlackMicros)
            guard ahead <= limitMicros else {
                return .failure(.storedTooFarAhead(position: index + 1, aheadMicros: ahead, limitMicros: limitMicros))
            }
            stored.append(value)
        }
        return .success(QuotaReply(now: now, stored: stored))
    }
}
