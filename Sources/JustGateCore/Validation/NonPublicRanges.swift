import JustGateHTTP

/// The address ranges refused when a site opts into `reject_non_public_ip`.
///
/// A client IP forwarded upstream is used for fraud scoring and geolocation; a private or documentation
/// address there means a misconfigured proxy on the site, which the site wants to hear about. Each range
/// carries a name so the error can say why an address was refused.
enum NonPublicRanges {
    struct V4Range {
        var base: UInt32
        var prefix: Int
        var name: String
    }

    struct V6Range {
        var high: UInt64
        var low: UInt64
        var prefix: Int
        var name: String
    }

    static let v4: [V4Range] = [
        V4Range(base: 0x0000_0000, prefix: 8, name: "unspecified (\"this network\") 0.0.0.0/8"),
        V4Range(base: 0x0A00_0000, prefix: 8, name: "private 10.0.0.0/8"),
        V4Range(base: 0x6440_0000, prefix: 10, name: "carrier-grade NAT 100.64.0.0/10"),
        V4Range(base: 0x7F00_0000, prefix: 8, name: "loopback 127.0.0.0/8"),
        V4Range(base: 0xA9FE_0000, prefix: 16, name: "link-local 169.254.0.0/16"),
        V4Range(base: 0xAC10_0000, prefix: 12, name: "private 172.16.0.0/12"),
        V4Range(base: 0xC000_0000, prefix: 24, name: "IETF protocol assignments 192.0.0.0/24"),
        V4Range(base: 0xC000_0200, prefix: 24, name: "documentation 192.0.2.0/24"),
        V4Range(base: 0xC0A8_0000, prefix: 16, name: "private 192.168.0.0/16"),
        V4Range(base: 0xC612_0000, prefix: 15, name: "benchmarking 198.18.0.0/15"),
        V4Range(base: 0xC633_6400, prefix: 24, name: "documentation 198.51.100.0/24"),
        V4Range(base: 0xCB00_7100, prefix: 24, name: "documentation 203.0.113.0/24"),
        V4Range(base: 0xE000_0000, prefix: 4, name: "multicast 224.0.0.0/4"),
        V4Range(base: 0xF000_0000, prefix: 4, name: "reserved and broadcast 240.0.0.0/4"),
    ]

    static let v6: [V6Range] = [
        V6Range(high: 0, low: 0, prefix: 128, name: "unspecified ::/128"),
        V6Range(high: 0, low: 1, prefix: 128, name: "loopback ::1/128"),
        V6Range(high: 0x0100_0000_0000_0000, low: 0, prefix: 64, name: "discard-only 100::/64"),
        V6Range(high: 0x2001_0DB8_0000_0000, low: 0, prefix: 32, name: "documentation 2001:db8::/32"),
        V6Range(high: 0x3FFF_0000_0000_0000, low: 0, prefix: 20, name: "documentation 3fff::/20"),
        V6Range(high: 0xFC00_0000_0000_0000, low: 0, prefix: 7, name: "unique local (private) fc00::/7"),
        V6Range(high: 0xFE80_0000_0000_0000, low: 0, prefix: 10, name: "link-local fe80::/10"),
        V6Range(high: 0xFEC0_0000_0000_0000, low: 0, prefix: 10, name: "deprecated site-local fec0::/10"),
        V6Range(high: 0xFF00_0000_0000_0000, low: 0, prefix: 8, name: "multicast ff00::/8"),
    ]

    /// The name of the non-public range holding `address`, or nil for a public address.
    static func range(containing address: IPAddress) -> String? {
        if let value = address.ipv4Value {
            return v4.first { range in
                let mask: UInt32 = range.prefix == 0 ? 0 : ~0 << (32 - range.prefix)
                return value & mask == range.base
            }?.name
        }
        let (high, low) = (address.high, address.low)
        return v6.first { range in
            let highMask: UInt64 = range.prefix >= 64 ? ~0 : (range.prefix == 0 ? 0 : ~0 << (64 - range.prefix))
            let lowMask: UInt64 = range.prefix <= 64 ? 0 : (range.prefix == 128 ? ~0 : ~0 << (128 - range.prefix))
            return high & highMask == range.high && low & lowMask == range.low
        }?.name
    }
}
