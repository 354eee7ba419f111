#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A minimal keep-alive HTTP/1.1 upstream on 127.0.0.1 that records the raw head and body of
/// every request and answers `200 ok`, for asserting the exact bytes libcurl put on the wire.
final class CapturingUpstream: @unchecked Sendable {
    // @unchecked: `captured` is only touched under `lock`; the listener and connection threads
    // own their descriptors.
    struct Captured {
        var head: String
        var body: [UInt8]

        /// Header values by lowercased name (the last one wins).
        var headers: [String: String] {
            var result: [String: String] = [:]
            for line in head.components(separatedBy: "\r\n").dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                result[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            return result
        }
    }

    let port: Int
    /// Close each connection right after answering (without saying so), as an upstream whose
    /// keep-alive timeout is very short does: the gateway must notice and use a fresh connection.
    let closesAfterEachAnswer: Bool
    /// With `closesAfterEachAnswer`, say `Connection: close` first, so libcurl closes its socket as
    /// soon as the answer is read, while the event loop still has it registered.
    let announcesClose: Bool
    private let listener: Int32
    private let lock = NSLock()
    private var captured: [Captured] = []
    private var accepted = 0

    /// Milliseconds to wait before each answer, for an upstream that is slow.
    let answerDelayMs: Int
    /// The status line's code and the body of each answer; `200 ok` when nil.
    let answer: (@Sendable (Captured) -> (status: Int, body: String))?
    /// Each answer's `Content-Type`; `text/plain` when nil (an upstream that echoes into it sets this).
    let contentType: (@Sendable (Captured) -> String)?

    init(closesAfterEachAnswer: Bool = false, announcesClose: Bool = false, answerDelayMs: Int = 0,
         answer: (@Sendable (Captured) -> (status: Int, body: String))? = nil,
         contentType: (@Sendable (Captured) -> String)? = nil) throws {
        self.answerDelayMs = answerDelayMs
        self.contentType = contentType
        self.closesAfterEachAnswer = closesAfterEachAnswer
        self.announcesClose = announcesClose
        self.answer = answer
        let (listener, port) = try LoopbackListener.open(backlog: 16)
        self.listener = listener
        self.port = port
        LoopbackListener.serveEach(listener, owner: self) { owner, connection in owner.serve(connection) }
    }

    func stop() {
        LoopbackListener.stop(listener)
    }

    var requests: [Captured] { lock.withLock { captured } }

    /// Connections accepted so far.
    var connectionsAccepted: Int { lock.withLock { accepted } }

    private func serve(_ connection: Int32) {
        defer { close(connection) }
        lock.withLock { accepted += 1 }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            while let request = takeRequest(from: &buffer) {
                lock.withLock { captured.append(request) }
                if answerDelayMs > 0 { usleep(UInt32(answerDelayMs) * 1000) }
                let connectionHeader = announcesClose ? "Connection: close\r\n" : ""
                let (status, body) = self.answer?(request) ?? (200, "ok")
                let type = self.contentType?(request) ?? "text/plain"
                let answer = Array(("HTTP/1.1 \(status) Whatever\r\nContent-Type: \(type)\r\n\(connectionHeader)"
                    + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)").utf8)
                _ = answer.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if closesAfterEachAnswer { return }
            }
            let count = chunk.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return }
            buffer.append(contentsOf: chunk[..<count])
        }
    }

    private func takeRequest(from buffer: inout [UInt8]) -> Captured? {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = buffer.indices.dropLast(3).first(where: { Array(buffer[$0..<($0 + 4)]) == separator }) else { return nil }
        let head = String(decoding: buffer[..<end], as: UTF8.self)
        let length = Captured(head: head, body: []).headers["content-length"].flatMap { Int($0) } ?? 0
        let total = end + 4 + length
        guard buffer.count >= total else { return nil }
        let request = Captured(head: head, body: Array(buffer[(end + 4)..<total]))
        buffer.removeFirst(total)
        return request
    }
}
