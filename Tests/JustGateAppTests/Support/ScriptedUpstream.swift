#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A test upstream on 127.0.0.1 whose behaviour the test sets and changes while it runs: answer
/// with a status, reset the connection after reading the request, or read it and never answer.
/// It counts every complete request it receives, so tests can prove how often the gateway
/// called (a retry is a second request here, a fail-fast is none).
final class ScriptedUpstream: @unchecked Sendable {
    // @unchecked: `behaviour` and `received` are only touched under `lock`; each connection
    // thread owns its descriptor.
    enum Behaviour {
        /// Answer every request with this status and body.
        case answer(Int, String)
        /// Read the request, then close with RST (SO_LINGER 0): "sent, then the connection failed".
        case reset
        /// Read the request and never answer: a hung upstream.
        case silent
        /// Read the request, wait this many milliseconds, then answer with the status and body: a slow upstream.
        case delayed(Int, Int, String)
        /// Read the request, send these bytes as they are (a broken or cut-short answer, or none), then close.
        case raw(String)
    }

    let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var current: Behaviour
    private var received = 0
    private var texts: [String] = []
    private var stopped = false

    var url: String { "http://127.0.0.1:\(port)" }

    init(_ behaviour: Behaviour) throws {
        current = behaviour
        let (listener, port) = try LoopbackListener.open(backlog: 64, reuseAddress: true)
        self.listener = listener
        self.port = port
        LoopbackListener.serveEach(listener, owner: self) { owner, connection in owner.serve(connection) }
    }

    deinit { stop() }

    func stop() {
        let wasStopped = lock.withLock { () -> Bool in
            defer { stopped = true }
            return stopped
        }
        guard !wasStopped else { return }
        LoopbackListener.stop(listener)
    }

    /// What the next requests get.
    var behaviour: Behaviour {
        get { lock.withLock { current } }
        set { lock.withLock { current = newValue } }
    }

    /// Every complete request received so far (head and body as text), in arrival order.
    var requests: [String] { lock.withLock { texts } }

    /// Complete requests received so far.
    var requestCount: Int { lock.withLock { received } }

    /// Waits until `count` requests have arrived (or `timeoutSeconds` pass); returns the count.
    @discardableResult
    func waitForRequests(_ count: Int, timeoutSeconds: Double = 5) -> Int {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while requestCount < count && Date() < deadline { usleep(5_000) }
        return requestCount
    }

    private func serve(_ connection: Int32) {
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        var closed = false
        defer { if !closed { close(connection) } }
        while true {
            while let length = ScriptedUpstream.requestLength(in: buffer) {
                let text = String(decoding: buffer[..<length], as: UTF8.self)
                buffer.removeFirst(length)
                let behaviour = lock.withLock { () -> Behaviour in
                    received += 1
                    texts.append(text)
                    return current
                }
                switch behaviour {
                case .answer(let status, let body):
                    let answer = Array("HTTP/1.1 \(status) X\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
                    _ = answer.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                case .delayed(let milliseconds, let status, let body):
                    usleep(useconds_t(milliseconds * 1000))
                    let answer = Array("HTTP/1.1 \(status) X\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
                    _ = answer.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                case .reset:
                    var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                    setsockopt(connection, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                    close(connection)
                    closed = true
                    return
                case .raw(let bytes):
                    let answer = Array(bytes.utf8)
                    _ = answer.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    return
                case .silent:
                    // Hold the connection until the gateway gives up on it.
                    while recv(connection, &chunk, chunk.count, 0) > 0 {}
                    return
                }
            }
            let count = chunk.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return }
            buffer.append(contentsOf: chunk[..<count])
        }
    }

    /// The length of the first complete request in `buffer` (head and Content-Length body), if any.
    private static func requestLength(in buffer: [UInt8]) -> Int? {
        guard buffer.count >= 4 else { return nil }
        guard let end = (0...(buffer.count - 4)).first(where: {
            buffer[$0] == 13 && buffer[$0 + 1] == 10 && buffer[$0 + 2] == 13 && buffer[$0 + 3] == 10
        }) else { return nil }
        let head = String(decoding: buffer[..<end], as: UTF8.self).lowercased()
        var bodyLength = 0
        for line in head.components(separatedBy: "\r\n") where line.hasPrefix("content-length:") {
            bodyLength = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) ?? 0
        }
        let total = end + 4 + bodyLength
        return buffer.count >= total ? total : nil
    }
}
