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
    ///
    /// Written byte by byte into the string's own storage (string interpolation cost ~1.1k instructions per
    /// item, on every admitted request of a limited operation).
    public static func standingItem(name: String, standing: GCRAStanding) -> String {
        var name = name
        let remaining = UInt64(max(0, standing.remaining))
        let seconds = UInt64(max(0, standing.nextQuotaMicros.wholeSecondsRoundedUp))
        return name.withUTF8 { nameBytes in
            // `"` name `";r=` digits `;t=` digits: at most 20 digits each.
            String(unsafeUninitializedCapacity: nameBytes.count + 9 + 40) { out in
                var position = 0
                func putByte(_ byte: UInt8) { out[position] = byte; position += 1 }
                func putNumber(_ number: UInt64) {
                    var divisor: UInt64 = 1
                    while number / divisor >= 10 { divisor *= 10 }
                    repeat {
                        putByte(UInt8(truncatingIfNeeded: 0x30 &+ number / divisor % 10))
                        divisor /= 10
                    } while divisor > 0
                }
                putByte(0x22)
                for byte in nameBytes { putByte(byte) }
                putByte(0x22); putByte(0x3B); putByte(0x72); putByte(0x3D)  // ";r=
                putNumber(remaining)
                putByte(0x3B); putByte(0x74); putByte(0x3D)  // ;t=
                putNumber(seconds)
                return position
            }
        }
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
