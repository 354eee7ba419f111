/// A block of addresses written as CIDR (`10.0.0.0/8`, `fd00::/8`) or a single address (`10.0.0.5`).
///
/// It exists for `server.trusted_proxies`: the peers whose `X-Forwarded-For` the gateway believes. Matching is
/// two masked 64-bit comparisons, cheap enough to run on every request.
public struct IPNetwork: Sendable, Hashable, CustomStringConvertible {
    /// The first address of the block (host bits zero).
    public let address: IPAddress
    /// Leading bits that must match, counted in the 128-bit space (an IPv4 /8 is 104 here).
    public let prefixLength: Int

    /// Why a text is not a network, in words the config loader shows next to the line.
    public enum ParseError: Error, Equatable {
        /// Not an IPv4 or IPv6 address before the `/`.
        case notAnAddress
        /// The prefix is not a number from 0 to `maximum` (32 for IPv4, 128 for IPv6).
        case badPrefix(maximum: Int)
        /// Bits after the prefix are set, e.g. `10.1.2.3/8`: the author may have meant a host, or another block.
        case hostBitsSet(network: String)
    }

    /// Parses `address` or `address/prefix`; a bare address is a block of one.
    public static func parse(_ text: String) -> Result<IPNetwork, ParseError> {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(parts[0]) else { return .failure(.notAnAddress) }
        let offset = address.isIPv4 && !parts[0].contains(":") ? 96 : 0
        let maximum = 128 - offset
        var prefix = maximum
        if parts.count == 2 {
            let digits = parts[1]
            guard (1...3).contains(digits.utf8.count), digits.utf8.allSatisfy({ ASCIIDigit.decimal($0) != nil }),
                  let value = Int(digits), value <= maximum,
                  digits.utf8.count == 1 || digits.utf8.first != 0x30
            else { return .failure(.badPrefix(maximum: maximum)) }
            prefix = value
        }
        let network = IPNetwork(unchecked: address, prefixLength: prefix + offset)
        guard network.address == address else {
            return .failure(.hostBitsSet(network: network.description))
        }
        return .success(network)
    }

    /// The block of `prefixLength` leading bits of `address` (host bits are cleared).
    init(unchecked address: IPAddress, prefixLength: Int) {
        let mask = IPNetwork.mask(prefixLength)
        self.address = IPAddress(high: address.high & mask.high, low: address.low & mask.low)
        self.prefixLength = prefixLength
    }

    /// Whether `candidate` lies in the block.
    @inline(__always)
    public func contains(_ candidate: IPAddress) -> Bool {
        let mask = IPNetwork.mask(prefixLength)
        return candidate.high & mask.high == address.high && candidate.low & mask.low == address.low
    }

    /// `10.0.0.0/8` for IPv4 blocks, `fd00::/8` for IPv6 ones; a block of one without the prefix.
    public var description: String {
        let isIPv4 = address.isIPv4 && prefixLength >= 96
        let prefix = isIPv4 ? prefixLength - 96 : prefixLength
        let single = isIPv4 ? 32 : 128
        return prefix == single ? address.description : "\(address)/\(prefix)"
    }

    /// Whether every address is in the block (`0.0.0.0/0` or `::/0`, or `::ffff:0:0/96`): then any peer
    /// could claim any client address, which the config loader warns about.
    public var isEverything: Bool {
        prefixLength == 0 || (prefixLength == 96 && address == IPAddress(ipv4: 0))
    }

    private static func mask(_ length: Int) -> (high: UInt64, low: UInt64) {
        let high: UInt64 = length >= 64 ? ~0 : (length == 0 ? 0 : ~0 << UInt64(64 - length))
        let low: UInt64 = length <= 64 ? 0 : (length == 128 ? ~0 : ~0 << UInt64(128 - length))
        return (high, low)
    }
}
