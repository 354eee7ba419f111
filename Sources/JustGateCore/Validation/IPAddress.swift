// Glibc (Darwin on macOS) is imported only for inet_pton: it is the parser the kernel, curl and every
// server on the machine agree on, so an address accepted here means the same thing everywhere else.
// Formatting is done in Swift (see `canonicalText`) because inet_ntop's output differs between libcs.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An IPv4 or IPv6 address as numbers, so ranges can be tested and text written canonically.
enum IPAddress: Equatable {
    /// An IPv4 address in host byte order.
    case v4(UInt32)
    /// An IPv6 address as its high and low 64 bits.
    case v6(high: UInt64, low: UInt64)

    /// Parses with inet_pton, trying IPv4 first. Refuses NUL bytes, which would cut the C string short.
    init?(parsing text: Substring) {
        guard text.utf8.count <= 64, !text.utf8.contains(0) else { return nil }
        let parsed: IPAddress? = String(text).withCString { pointer in
            var v4 = in_addr()
            if inet_pton(AF_INET, pointer, &v4) == 1 {
                return withUnsafeBytes(of: &v4) { bytes in .v4(Self.bigEndianInteger(bytes, from: 0, count: 4)) }
            }
            var v6 = in6_addr()
            if inet_pton(AF_INET6, pointer, &v6) == 1 {
                return withUnsafeBytes(of: &v6) { bytes in
                    .v6(high: Self.bigEndianInteger(bytes, from: 0, count: 8), low: Self.bigEndianInteger(bytes, from: 8, count: 8))
                }
            }
            return nil
        }
        guard let parsed else { return nil }
        self = parsed
    }

    private static func bigEndianInteger<T: FixedWidthInteger>(_ bytes: UnsafeRawBufferPointer, from start: Int, count: Int) -> T {
        var value: T = 0
        for index in start..<(start + count) {
            value = value << 8 | T(bytes[index])
        }
        return value
    }

    /// IPv4-mapped IPv6 (`::ffff:a.b.c.d`) as the IPv4 address it stands for; anything else unchanged.
    var unmapped: IPAddress {
        if case .v6(let high, let low) = self, high == 0, low >> 32 == 0xFFFF {
            return .v4(UInt32(truncatingIfNeeded: low))
        }
        return self
    }

    /// The eight 16-bit groups of an IPv6 address, most significant first.
    static func groups(high: UInt64, low: UInt64) -> [UInt16] {
        (0..<8).map { index in
            let half = index < 4 ? high : low
            return UInt16(truncatingIfNeeded: half >> (48 - 16 * UInt64(index % 4)))
        }
    }

    /// Dotted decimal for IPv4; RFC 5952 for IPv6: lowercase hex without leading zeros, the longest run of
    /// two or more zero groups (the leftmost on a tie) written as `::`, a single zero group written `0`.
    var canonicalText: String {
        switch self {
        case .v4(let value):
            return "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
        case .v6(let high, let low):
            let groups = Self.groups(high: high, low: low)
            var bestStart = -1
            var bestLength = 1
            var runStart = 0
            while runStart < 8 {
                guard groups[runStart] == 0 else {
                    runStart += 1
                    continue
                }
                var runEnd = runStart
                while runEnd < 8 && groups[runEnd] == 0 { runEnd += 1 }
                if runEnd - runStart > bestLength {
                    bestStart = runStart
                    bestLength = runEnd - runStart
                }
                runStart = runEnd
            }
            var out = ""
            var index = 0
            while index < 8 {
                if index == bestStart {
                    out += "::"
                    index += bestLength
                    continue
                }
                if !out.isEmpty && !out.hasSuffix(":") { out += ":" }
                out += String(groups[index], radix: 16)
                index += 1
            }
            return out
        }
    }
}
