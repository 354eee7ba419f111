import Foundation
import Glibc

/// One keep-alive HTTP/1.1 connection to 127.0.0.1 for the bench's client threads: sends a request, reads the
/// answer's head and its `Content-Length` body, returns the status. Blocking on purpose: each client thread
/// owns one, and the gateway under test is what is measured.
public final class KeepAliveClient {
    private var fd: Int32 = -1
    private let port: Int
    /// A call unanswered for this long counts as failed rather than hanging the pass.
    private let receiveTimeoutSeconds: Int

    public init(port: Int, receiveTimeoutSeconds: Int) {
        self.port = port
        self.receiveTimeoutSeconds = receiveTimeoutSeconds
    }

    private func connect() -> Bool {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var patience = timeval(tv_sec: receiveTimeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &patience, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if connected != 0 { close(); return false }
        return true
    }

    public func close() {
        if fd >= 0 { _ = Glibc.close(fd) }
        fd = -1
    }

    /// The answer's status, or nil when the exchange failed (the connection is then closed; the next call
    /// connects again).
    public func exchange(_ request: [UInt8]) -> Int? {
        if fd < 0 && !connect() { return nil }
        let sent = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == request.count else { close(); return nil }
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let got = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard got > 0 else { close(); return nil }
            buffer.append(contentsOf: chunk[0..<got])
            guard let end = buffer.indices.dropLast(3).first(where: {
                buffer[$0] == 13 && buffer[$0 + 1] == 10 && buffer[$0 + 2] == 13 && buffer[$0 + 3] == 10
            }) else { continue }
            let head = String(decoding: buffer[0..<end], as: UTF8.self).lowercased()
            let length = head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                .flatMap { Int($0.dropFirst(15).trimmingCharacters(in: .whitespaces)) } ?? 0
            if buffer.count - end - 4 < length { continue }
            let status = Int(head.split(separator: " ").dropFirst().first ?? "")
            if head.contains("connection: close") { close() }
            return status
        }
    }
}
