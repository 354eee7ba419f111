#if canImport(Glibc)
import Glibc
#endif

/// A resolved IPv4 or IPv6 socket address.
///
/// The server binds numeric addresses only: resolving host names at start-up would make the
/// listener depend on DNS, and a gateway config names the interface it serves on anyway.
public struct SocketAddress: Sendable, Equatable, CustomStringConvertible {
    /// The storage handed to `bind(2)`; `length` says how much of it is meaningful.
    var storage: sockaddr_storage
    var length: socklen_t

    /// Parses a numeric host ("127.0.0.1", "::1", "localhost" as a convenience) and a port.
    public init?(host: String, port: Int) {
        guard (0...65535).contains(port) else { return nil }
        let numericHost = host == "localhost" ? "127.0.0.1" : host
        var v4 = sockaddr_in()
        if inet_pton(AF_INET, numericHost, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = in_port_t(UInt16(port).bigEndian)
            (storage, length) = SocketAddress.stored(v4)
            return
        }
        var v6 = sockaddr_in6()
        if inet_pton(AF_INET6, numericHost, &v6.sin6_addr) == 1 {
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = in_port_t(UInt16(port).bigEndian)
            (storage, length) = SocketAddress.stored(v6)
            return
        }
        return nil
    }

    /// Copies a concrete `sockaddr_in`/`sockaddr_in6` into family-independent storage.
    private static func stored<Address>(_ address: Address) -> (sockaddr_storage, socklen_t) {
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { raw in
            withUnsafeBytes(of: address) { raw.copyMemory(from: $0) }
        }
        return (storage, socklen_t(MemoryLayout<Address>.size))
    }

    /// Wraps an address the kernel filled in (`accept4`, `getsockname`).
    public init(storage: sockaddr_storage, length: socklen_t) {
        self.storage = storage
        self.length = length
    }

    public static func == (lhs: SocketAddress, rhs: SocketAddress) -> Bool {
        lhs.description == rhs.description
    }

    /// The address family, for `socket(2)`.
    var family: Int32 { Int32(storage.ss_family) }

    /// The port in host byte order.
    public var port: Int {
        withUnsafeBytes(of: storage) { raw in
            if family == AF_INET {
                return Int(UInt16(bigEndian: raw.load(as: sockaddr_in.self).sin_port))
            }
            return Int(UInt16(bigEndian: raw.load(as: sockaddr_in6.self).sin6_port))
        }
    }

    /// The numeric host, without brackets or port.
    public var host: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        return withUnsafeBytes(of: storage) { raw -> String in
            if family == AF_INET {
                var address = raw.load(as: sockaddr_in.self).sin_addr
                guard inet_ntop(AF_INET, &address, &buffer, socklen_t(buffer.count)) != nil else { return "?" }
            } else {
                var address = raw.load(as: sockaddr_in6.self).sin6_addr
                guard inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count)) != nil else { return "?" }
            }
            return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// "host:port", with IPv6 hosts in brackets.
    public var description: String {
        family == AF_INET6 ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Hands the address to a socket call such as `connect(2)`, for clients that live on a loop
    /// (the Redis limiter) and connect to numeric addresses like the server binds.
    public func withSockaddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
        withUnsafePointer(to: storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }

    /// `AF_INET` or `AF_INET6`, for `socket(2)`.
    public var addressFamily: Int32 { family }
}
