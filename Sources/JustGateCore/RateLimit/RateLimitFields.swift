import RawStructuredFieldValues

/// The items of draft-ietf-httpapi-ratelimit-headers-10, as RFC 9651 structured field lists:
/// `RateLimit-Policy: "name";q=3;w=3600` and `RateLimit: "name";r=0;t=1200`.
///
/// `RateLimit-Policy` items are serialised through swift-http-structured-headers, once per policy when
/// the config is loaded. The `RateLimit` item is written on every limited response, and through the
/// library it cost 1.1 µs and 9 allocations (`make micro-bench`, ratelimit.header.*), over the issue's
/// 0.5 µs bar; so it is written by hand. That is safe because policy names are checked by the config
/// loader to `[a-z0-9][a-z0-9._-]*` (nothing to escape in an sf-string) and the parameters are
/// non-negative integers; a test checks the two writers agree.
public enum RateLimitFields {
    /// One policy's `RateLimit-Policy` item: `q` is the burst, `w` the seconds it takes to come back whole.
    public static func policyItem(name: String, quota: Int, windowSeconds: Int64) -> String {
        serialize(name, [("q", Int64(quota)), ("w", windowSeconds)])
    }

    /// One policy's `RateLimit` item: `r` requests pass now, `t` seconds until more quota.
    public static func standingItem(name: String, standing: GCRAStanding) -> String {
        "\"\(name)\";r=\(max(0, standing.remaining));t=\(standing.nextQuotaMicros.wholeSecondsRoundedUp)"
    }

    /// The same item through swift-http-structured-headers: the reference `standingItem` is tested against.
    public static func standingItemSerialised(name: String, standing: GCRAStanding) -> String {
        serialize(name, [("r", Int64(standing.remaining)), ("t", standing.nextQuotaMicros.wholeSecondsRoundedUp)])
    }

    private static func serialize(_ name: String, _ parameters: [(String, Int64)]) -> String {
        var map = OrderedMap<String, RFC9651BareItem>()
        for (key, value) in parameters { map[key] = .integer(value) }
        var serializer = StructuredFieldValueSerializer()
        // Names are checked by the config loader (token characters) and numbers are bounded, so the
        // serializer cannot refuse them; an empty field is still safer than a crash.
        guard let bytes = try? serializer.writeListFieldValue([.item(Item(bareItem: .string(name), parameters: map))]) else {
            return ""
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
