import JustGateCore

/// `justgate_site_key_expiry_seconds{site,key}`: for every configured site key that has an expiry, the seconds
/// until the gateway refuses it (negative once it has), so an alert can fire a week before a site's old key
/// stops working. `key` is the key's fingerprint (the first 12 hex digits of its SHA-256, as in `justgate sites`
/// and the 401 problem), never the key or its full hash.
///
/// Written at scrape time from the current `GatewayContext` rather than kept in the registry: a reload adds and
/// removes keys, and a registry keeps every series it ever made, so a removed key would go on being reported.
/// The series are exactly the configured expiring keys, so their number is bounded by the config.
enum SiteKeyExpiryMetric {
    static let name = "justgate_site_key_expiry_seconds"

    /// Appends the family (HELP, TYPE and one sample per expiring key) to an exposition.
    static func append(sites: [SiteConfig], now: Int64, into buffer: inout [UInt8]) {
        buffer.append(contentsOf: "# HELP \(name) \(MetricHelp.text(name))\n# TYPE \(name) gauge\n".utf8)
        for site in sites {
            for key in site.allKeys {
                guard let expiry = key.expiry else { continue }
                buffer.append(contentsOf: "\(name){site=\"".utf8)
                appendEscaped(site.id, into: &buffer)
                buffer.append(contentsOf: "\",key=\"\(key.fingerprint)\"} \(expiry.unixSeconds - now)\n".utf8)
            }
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
