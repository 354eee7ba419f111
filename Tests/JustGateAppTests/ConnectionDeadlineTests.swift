#if canImport(Glibc)
import Glibc
#endif
import Foundation
import JustGateHTTP
import JustGateReactor
import JustGateServer
import Testing

/// A connection's head and body deadlines survive a slow reader: while a large answer backs up, the write
/// deadline stands in for the phase's, and once the answer is out the phase's deadline runs again. A client
/// that read a large answer slowly, with the next request's head begun, used to be left with no deadline at
/// all (a connection held until the process stops).
@Suite(.serialized)
struct ConnectionDeadlineTests {
    /// Answers `/big` with `bigBytes` bytes, anything else with 204.
    final class BigAnswers: HTTPHandler {
        static let bigBytes = 4 << 20

        func handle(_ request: ServerRequest, screened: AnyObject?, responder: Responder) {
            guard request.head.path == "/big" else {
                responder.respond(HTTPResponse(status: 204, headers: [], body: []))
                return
            }
            responder.respond(HTTPResponse(status: 200, headers: [], body: [UInt8](repeating: 0x61, count: Self.bigBytes)))
        }

        func serverAnswered(_ answer: ServerAnswer) {}
    }

    /// A client with a 4 KiB receive buffer, so the server's writes block and resume many times.
    static func connectWithSmallWindow(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(fd >= 0)
        var small: Int32 = 4096
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if connected != 0 { close(fd) }
        try #require(connected == 0)
        return fd
    }

    /// Reads until `count` bytes came, slowly (the server's socket fills between reads); false on EOF or timeout.
    static func read(_ fd: Int32, count: Int, into received: inout [UInt8]) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while received.count < count {
            let got = recv(fd, &chunk, min(chunk.count, count - received.count), 0)
            guard got > 0 else { return false }
            received.append(contentsOf: chunk[0..<got])
            usleep(200)
        }
        return true
    }

    /// The body deadline: the next request's head asks for `100 Continue`, which queues behind the large
    /// answer and so waits for the socket too. This one failed before the fix (no 408 within 5 s).
    @Test func aBodyInvitedWhileALargeAnswerIsReadSlowlyStillTimesOut() throws {
        try expect408(after: "POST /small HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n")
    }

    /// The head deadline, with the next request's head begun while the large answer is read.
    @Test func aHeadBegunWhileALargeAnswerIsReadSlowlyStillTimesOut() throws {
        try expect408(after: "GET /small HTTP/1.1\r\nHo")
    }

    /// Sends `GET /big` and `next` together, reads the large answer slowly, and expects the next request to be
    /// answered 408 by its deadline (300 ms) once the large answer is out.
    func expect408(after next: String) throws {
        let configuration = ServerConfiguration(address: try #require(SocketAddress(host: "127.0.0.1", port: 0)),
                                                workers: 1, headerTimeoutMs: 300, bodyTimeoutMs: 300, idleTimeoutMs: 10_000)
        let server = HTTPServer(configuration: configuration) { _ in BigAnswers() }
        let port = try server.start().port
        defer { server.stop() }
        let fd = try Self.connectWithSmallWindow(port: port)
        defer { close(fd) }

        let sent = Array(("GET /big HTTP/1.1\r\nHost: a\r\n\r\n" + next).utf8)
        try #require(send(fd, sent, sent.count, 0) == sent.count)
        var received: [UInt8] = []
        try #require(Self.read(fd, count: BigAnswers.bigBytes, into: &received))
        // The whole answer is out; the next head is still incomplete. Its deadline must end it with a 408.
        let started = Date()
        var rest: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let got = recv(fd, &chunk, chunk.count, 0)
            if got <= 0 { break }
            rest.append(contentsOf: chunk[0..<got])
        }
        let answered408 = String(decoding: received + rest, as: UTF8.self).contains("HTTP/1.1 408")
        #expect(answered408, "no 408 after the large answer (\(rest.count) more bytes)")
        #expect(Date().timeIntervalSince(started) < 3)
    }
}
