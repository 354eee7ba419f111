#if canImport(Glibc)
import Glibc
#endif
import JustGateCore

/// One HTTP/1.1 request to a running gateway's admin listener over a plain TCP socket, for the commands
/// that ask the gateway itself (`justgate health`). A container image has no curl, and libcurl's easy API
/// cannot be called from Swift without a shim: the admin listener speaks plain HTTP/1.1 on loopback or a
/// private network, so a blocking socket with a deadline is all it takes.
struct AdminRequest {
    /// The admin listener's answer: its status code and its body as text.
    struct Answer {
        var status: Int
        var body: String
    }

    /// Why there is no answer, in words an operator can act on.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    var address: ListenAddress
    var method = "GET"
    var path: String
    /// Sent as `Authorization: Bearer <token>` when the config sets `admin_token_sha256`.
    var token: String?
    var timeoutMs = 2000

    /// Where to connect for a listener address: a wildcard listener (`0.0.0.0`, `::`) answers on loopback.
    static func connectHost(for address: ListenAddress) -> String {
        switch address.host {
        case "0.0.0.0", "localhost": return "127.0.0.1"
        case "::": return "::1"
        default: return address.host
        }
    }

    /// Connects, sends the request with `Connection: close`, and reads the answer to its end.
    func send() -> Result<Answer, Failure> {
        let host = AdminRequest.connectHost(for: address)
        let shown = ListenAddress(host: host, port: address.port).description
        let fd = socket(host.contains(":") ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(Failure(description: "cannot open a socket (\(AdminRequest.errnoText()))")) }
        defer { close(fd) }
        // On Linux SO_SNDTIMEO bounds connect() too, and SO_RCVTIMEO each read.
        var timeout = timeval(tv_sec: timeoutMs / 1000, tv_usec: (timeoutMs % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard AdminRequest.connect(fd, host: host, port: address.port) else {
            return .failure(Failure(description: """
                cannot connect to the admin listener at \(shown) (\(AdminRequest.errnoText())): is justgate running \
                with this config's admin_listen?
                """))
        }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(shown)\r\nConnection: close\r\nContent-Length: 0\r\n"
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        let request = Array((head + "\r\n").utf8)
        let sent = request.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == request.count else {
            return .failure(Failure(description: "cannot send to \(shown) (\(AdminRequest.errnoText()))"))
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while bytes.count < 1_048_576 {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                bytes.append(contentsOf: chunk[..<count])
            } else if count == 0 {
                break
            } else if errno != EINTR {
                return .failure(Failure(description: """
                    no answer from \(shown) within \(timeoutMs) ms (\(AdminRequest.errnoText())); the gateway may be \
                    overloaded or stuck
                    """))
            }
        }
        return AdminRequest.parse(bytes).map { .success($0) }
            ?? .failure(Failure(description: "\(shown) did not answer with HTTP/1.1 (is it justgate's admin listener?)"))
    }

    /// The status code and body of a complete `Connection: close` answer.
    static func parse(_ bytes: [UInt8]) -> Answer? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard text.hasPrefix("HTTP/1."), let headEnd = text.range(of: "\r\n\r\n") else { return nil }
        let statusLine = text[..<(text.range(of: "\r\n")?.lowerBound ?? headEnd.lowerBound)]
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, let status = Int(parts[1]) else { return nil }
        return Answer(status: status, body: String(text[headEnd.upperBound...]))
    }

    private static func connect(_ fd: Int32, host: String, port: Int) -> Bool {
        if host.contains(":") {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = UInt16(port).bigEndian
            guard inet_pton(AF_INET6, host, &address.sin6_addr) == 1 else { return false }
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) == 0
                }
            }
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return false }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    private static func errnoText() -> String {
        String(cString: strerror(errno))
    }
}
