import JustGateCore

/// The per-key gauges, `{site,key}` where `key` is the key's fingerprint (the first 12 hex digits of its SHA-256,
/// as in `justgate sites` and the 401 problem), never the key or its full hash:
/// - `justgate_site_key_expiry_seconds`: for every configured key that has an expiry, the seconds until the
///   gateway refuses it (negative once it has), so an alert can fire a week before a site's old key stops working;
/// - `justgate_site_key_last_used_timestamp_seconds`: when each configured key last authenticated a request
///   (0: not since start), so an operator sees when a site has moved to its new key.
///
/// Written at scrape time from the current `GatewayContext` rather than kept in the registry: a reload adds and
/// removes keys, and a registry keeps every series it ever made, so a removed key would go on being reported.
/// The series are exactly the configured keys, so their number is bounded by the config.
enum SiteKeyMetrics {
    static let expiry = "justgate_site_key_expiry_seconds"
    static let lastUsed = "justgate_site_key_last_used_timestamp_seconds"

    /// Appends the expiry family (HELP, TYPE and one sample per expiring key) to an exposition.
    static func appendExpiry(sites: [SiteConfig], now: Int64, into buffer: inout [UInt8]) {
        var samples: [(site: String, key: String, value: Int64)] = []
        for site in sites {
            for key in site.allKeys {
                if let expiry = key.expiry { samples.append((site.id, key.fingerprint, expiry.unixSeconds - now)) }
            }
        }
        append(expiry, samples, into: &buffer)
    }

    /// Appends the last-used family, one sample per configured key.
    static func appendLastUsed(_ uses: [(site: String, key: String, unixSeconds: Int64)], into buffer: inout [UInt8]) {
        append(lastUsed, uses.map { ($0.site, $0.key, $0.unixSeconds) }, into: &buffer)
    }

    private static func append(_ name: String, _ samples: [(site: String, key: String, value: Int64)], into buffer: inout [UInt8]) {
        MetricHelp.appendGaugeHeader(name, into: &buffer)
        for sample in samples {
            buffer.append(contentsOf: "\(name){site=\"".utf8)
            appendEscaped(sample.site, into: &buffer)
            buffer.append(contentsOf: "\",key=\"".utf8)
            appendEscaped(sample.key, into: &buffer)
            buffer.append(contentsOf: "\"} \(sample.value)\n".utf8)
        }
    }

    /// A label value as the text format needs it: backslash, double quote and line feed escaped. Site ids are
    /// `[a-z0-9._-]` today; this keeps the exposition valid should that rule ever loosen.
    private static func appendEscaped(_ value: String, into buffer: inout [UInt8]) {
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): buffer.append(contentsOf: #"\\"#.utf8)
            case UInt8(ascii: "\""): buffer.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\n"): buffer.append(contentsOf: #"\n"#.utf8)
            default: buffer.append(byte)
            }
        }
    }
}
