import JustGateHTTP

/// How personal values are cut down before they reach the audit log: enough to tell records apart and to
/// answer "was this the user who complained?", not enough to contact or locate anyone.
public enum AuditMasking {
    /// `e***@example.com`: the first character of the local part and the whole domain.
    public static func email(_ value: String) -> String {
        guard let at = value.lastIndex(of: "@"), at != value.startIndex else { return "***" }
        let first = value[value.startIndex]
        return "\(first)***\(value[at...])"
    }

    /// `7912*****89`: country and operator code, the last two digits, a star for every digit in between.
    /// Numbers shorter than 8 digits keep only their last two.
    public static func phone(_ value: String) -> String {
        var value = value
        return value.withUTF8 { digits in
            String(unsafeUninitializedCapacity: digits.count) { out in
                phone(digits, into: out)
                return digits.count
            }
        }
    }

    /// `phone` of ASCII `digits` (what the phone rule keeps), into the first `digits.count` bytes of `out`: the
    /// audit writer masks straight from a record's packet into the record. Other text goes through `phone(_:)`,
    /// whose `String` repairs a multi-byte character the stars cut through.
    public static func phone(_ digits: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>) {
        let count = digits.count
        precondition(out.count >= count, "AuditMasking.phone: less room than digits")
        let kept = count >= 8 ? 4 : 0
        for index in 0..<count {
            out[index] = count > 2 && (index < kept || index >= count - 2) ? digits[index] : UInt8(ascii: "*")
        }
    }

    /// The network an address is in: `203.0.113.0/24` for IPv4 (also when written as `::ffff:a.b.c.d`),
    /// `2001:db8:1::/48` for IPv6. Text that is not an address gives `nil`, never the text itself.
    public static func ip(_ value: String) -> String? {
        guard let address = IPAddress(value) else { return nil }
        if let bits = address.ipv4Value {
            return IPAddress(ipv4: bits & 0xFFFF_FF00).description + "/24"
        }
        return IPAddress(high: address.high & 0xFFFF_FFFF_FFFF_0000, low: 0).description + "/48"
    }
}
