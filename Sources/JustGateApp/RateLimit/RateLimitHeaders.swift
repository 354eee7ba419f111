import JustGateCore
import JustGateHTTP
import RawStructuredFieldValues

/// The fields of draft-ietf-httpapi-ratelimit-headers-10, as RFC 9651 structured field lists:
/// `RateLimit-Policy: "name";q=3;w=3600` and `RateLimit: "name";r=0;t=1200`, plus `Retry-After`
/// on refusals. Serialised through swift-http-structured-headers so quoting and escaping follow
/// the RFC rather than our reading of it.
enum RateLimitHeaders {
    /// One policy's `RateLimit-Policy` item; computed once per policy when the config is loaded.
    static func policyItem(name: String, quota: Int, windowSeconds: Int64) -> String {
        serialize([(name, [("q", Int64(quota)), ("w", windowSeconds)])])
    }

    /// `RateLimit` items for the policies a response reports on.
    static func standingItem(name: String, standing: GCRAStanding) -> String {
        serialize([(name, [("r", Int64(standing.remaining)), ("t", standing.nextQuotaMicros.wholeSecondsRoundedUp)])])
    }

    /// The headers of a response to an admitted request: the tightest policy's standing.
    static func admitted(_ verdict: QuotaVerdict) -> [HTTPHeader] {
        guard let (policy, standing) = verdict.reported else { return [] }
        return [HTTPHeader(name: "RateLimit-Policy", value: policy.policyItem),
                HTTPHeader(name: "RateLimit", value: standingItem(name: policy.name, standing: standing))]
    }

    /// The headers of a 429: every refusing policy, and when to come back.
    static func refused(_ verdict: QuotaVerdict) -> [HTTPHeader] {
        var headers = [HTTPHeader(name: "Retry-After", value: String(verdict.retryAfterMicros.wholeSecondsRoundedUp))]
        headers.append(HTTPHeader(name: "RateLimit-Policy", value: verdict.violated.map(\.policyItem).joined(separator: ", ")))
        if let (policy, standing) = verdict.reported {
            headers.append(HTTPHeader(name: "RateLimit", value: standingItem(name: policy.name, standing: standing)))
        }
        return headers
    }

    private static func serialize(_ items: [(name: String, parameters: [(String, Int64)])]) -> String {
        var list: [ItemOrInnerList] = []
        list.reserveCapacity(items.count)
        for (name, parameters) in items {
            var map = OrderedMap<String, RFC9651BareItem>()
            for (key, value) in parameters { map[key] = .integer(value) }
            list.append(.item(Item(bareItem: .string(name), parameters: map)))
        }
        var serializer = StructuredFieldValueSerializer()
        // Names are checked by the config loader (token characters) and numbers are bounded, so the
        // serializer cannot refuse them; an empty field is still safer than a crash.
        guard let bytes = try? serializer.writeListFieldValue(list) else { return "" }
        return String(decoding: bytes, as: UTF8.self)
    }
}
