/// An IP address as 128 bits, parsed strictly from its text without allocating.
///
/// It exists so the server can tell whether a peer (or an address a proxy forwarded) is a trusted proxy
/// (`ClientAddress`, `IPNetwork`) on every request without a syscall or a heap allocation. IPv4 is held as
/// IPv4-mapped IPv6 (`::ffff:a.b.c.d`), so one comparison serves both families and a dual-stack socket's
/// `::ffff:10.0.0.1` peer is the same address as `10.0.0.1`.
public struct IPAddress: Sendable, Hashable, CustomStringConvertible {
    /// The first 64 bits, network byte order as a number.
    public var high: UInt64
    /// The last 64 bits.
    public var low: UInt64

    /// Builds an address from its two halves.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// Builds the IPv4-mapped form of a 32-bit IPv4 address.
    public init(ipv4: UInt32) {
        self.init(high: 0, low: 0xFFFF_0000_0000 | UInt64(ipv4))
    }

    /// Parses a dotted quad (`10.0.0.1`, no leading zeros: some parsers read them as octal) or an IPv6 literal
    /// (`2001:db8::1`, `::ffff:10.0.0.1`; no brackets, no zone id, no port). Nil for anything else.
    public init?<Text: StringProtocol>(_ text: Text) {
        let parsed = text.utf8.withContiguousStorageIfAvailable { IPAddress.parse($0) }
            ?? IPAddress.parse(Array(text.utf8)[...])
        guard let parsed else { return nil }
        self = parsed
    }

    /// Whether this is an IPv4 address (held as `::ffff:a.b.c.d`).
    public var isIPv4: Bool { high == 0 && low >> 32 == 0xFFFF }

    /// `10.0.0.1` for IPv4, the RFC 5952 form (lower case, longest zero run as `::`) for IPv6.
    public var description: String {
        if isIPv4 {
            let value = UInt32(truncatingIfNeeded: low)
            return "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
        }
        let groups = (0..<8).map { index -> UInt16 in
            let half = index < 4 ? high : low
            return UInt16(truncatingIfNeeded: half >> (UInt64(3 - index % 4) * 16))
        }
        // The longest run of two or more zero groups, the first one on a tie.
        var best = (start: -1, length: 1)
        var index = 0
        while index < 8 {
            guard groups[index] == 0 else { index += 1; continue }
            let start = index
            while index < 8 && groups[index] == 0 { index += 1 }
            if index - start > best.length { best = (start, index - start) }
        }
        let hex = { (slice: ArraySlice<UInt16>) in slice.map { String($0, radix: 16) }.joined(separator: ":") }
        guard best.start >= 0 else { return hex(groups[...]) }
        return hex(groups[..<best.start]) + "::" + hex(groups[(best.start + best.length)...])
    }

    // MARK: - Parsing

    static func parse<Bytes: RandomAccessCollection>(_ bytes: Bytes) -> IPAddress?
    where Bytes.Element == UInt8, Bytes.Index == Int {
        if bytes.contains(0x3A) { return parseIPv6(bytes) }
        return parseIPv4(bytes).map { IPAddress(ipv4: $0) }
    }

    /// Four decimal octets, 1–3 digits each, no leading zeros.
    static func parseIPv4<Bytes: RandomAccessCollection>(_ bytes: Bytes) -> UInt32?
    where Bytes.Element == UInt8, Bytes.Index == Int {
        var value: UInt32 = 0
        var octets = 0
        var index = bytes.startIndex
        while true {
            let start = index
            var octet: UInt32 = 0
            while index < bytes.endIndex, let digit = ASCIIDigit.decimal(bytes[index]) {
                guard index - start < 3 else { return nil }
                octet = octet * 10 + UInt32(digit)
                index += 1
            }
            let length = index - start
            guard length > 0, octet <= 255, length == 1 || bytes[start] != 0x30 else { return nil }
            value = value << 8 | octet
            octets += 1
            if index == bytes.endIndex { break }
            guard octets < 4, bytes[index] == 0x2E else { return nil }
            index += 1
        }
        return octets == 4 ? value : nil
    }

    /// Eight groups of 1–4 hex digits, at most one `::`, optionally ending in a dotted quad.
    static func parseIPv6<Bytes: RandomAccessCollection>(_ bytes: Bytes) -> IPAddress?
    where Bytes.Element == UInt8, Bytes.Index == Int {
        var groups = SIMD8<UInt16>()
        var count = 0
        var gap = -1
        var index = bytes.startIndex
        guard index < bytes.endIndex else { return nil }
        if bytes[index] == 0x3A {
            guard bytes.count >= 2, bytes[index + 1] == 0x3A else { return nil }
            gap = 0
            index += 2
        }
        while index < bytes.endIndex {
            guard count < 8 else { return nil }
            let start = index
            var group: UInt16 = 0
            while index < bytes.endIndex, let digit = ASCIIDigit.hex(bytes[index]) {
                guard index - start < 4 else { return nil }
                group = group << 4 | UInt16(digit)
                index += 1
            }
            if index < bytes.endIndex, bytes[index] == 0x2E {
                // The last 32 bits as a dotted quad: ::ffff:10.0.0.1.
                guard count <= 6, let ipv4 = parseIPv4(bytes[start...]) else { return nil }
                groups[count] = UInt16(ipv4 >> 16)
                groups[count + 1] = UInt16(ipv4 & 0xFFFF)
                count += 2
                index = bytes.endIndex
                break
            }
            guard index > start else { return nil }
            groups[count] = group
            count += 1
            if index == bytes.endIndex { break }
            guard bytes[index] == 0x3A else { return nil }
            index += 1
            if index < bytes.endIndex, bytes[index] == 0x3A {
                guard gap < 0 else { return nil }
                gap = count
                index += 1
            } else if index == bytes.endIndex {
                return nil
            }
        }
        if gap >= 0 {
            guard count <= 7 else { return nil }
            let shift = 8 - count
            var moved = SIMD8<UInt16>()
            for position in 0..<count { moved[position < gap ? position : position + shift] = groups[position] }
            groups = moved
        } else {
            guard count == 8 else { return nil }
        }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for position in 0..<4 {
            high = high << 16 | UInt64(groups[position])
            low = low << 16 | UInt64(groups[position + 4])
        }
        return IPAddress(high: high, low: low)
    }
}

/// Digit values of ASCII bytes, for the address parsers.
enum ASCIIDigit {
    static func decimal(_ byte: UInt8) -> UInt8? {
        byte >= 0x30 && byte <= 0x39 ? byte - 0x30 : nil
    }

    static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: byte - 0x30
        case 0x41...0x46: byte - 0x41 + 10
        case 0x61...0x66: byte - 0x61 + 10
        default: nil
        }
    }
}
