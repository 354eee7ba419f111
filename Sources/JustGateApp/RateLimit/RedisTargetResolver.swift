#if canImport(Glibc)
import Glibc
#endif
import JustGateCore
import JustGateRedis
import JustGateReactor

/// Turns the configured Redis endpoint into an address the loops connect to without DNS: names
/// are resolved here, at start-up or reload, off the event loops.
enum RedisTargetResolver {
    static func resolve(_ endpoint: RedisEndpoint, setting: String = "rate_limit.redis_url") throws(GatewayStartError) -> RedisTarget {
        switch endpoint.location {
        case .unix(let path):
            return .unix(path: path)
        case .tcp(let host, let port):
            if let numeric = SocketAddress(host: host, port: port) { return .inet(numeric) }
            var hints = addrinfo()
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
            var results: UnsafeMutablePointer<addrinfo>?
            let status = getaddrinfo(host, String(port), &hints, &results)
            defer { if let results { freeaddrinfo(results) } }
            var entry = results
            while status == 0, let current = entry {
                if let address = current.pointee.ai_addr,
                   let text = numericHost(address, length: current.pointee.ai_addrlen),
                   let resolved = SocketAddress(host: text, port: port) {
                    return .inet(resolved)
                }
                entry = current.pointee.ai_next
            }
            throw GatewayStartError("\(setting): cannot resolve the host '\(host)'; use an IP address or a name this machine resolves")
        }
    }

    private static func numericHost(_ address: UnsafeMutablePointer<sockaddr>, length: socklen_t) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(NI_MAXHOST))
        guard getnameinfo(address, length, &buffer, socklen_t(buffer.count), nil, 0, NI_NUMERICHOST) == 0 else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
