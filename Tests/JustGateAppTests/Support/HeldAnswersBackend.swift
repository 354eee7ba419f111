#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A plain HTTP upstream on 127.0.0.1 (put behind `NginxTLSUpstream`) that holds every answer until
/// `count` requests are waiting at once, then answers them all with `[35,36]`. Calls sent together are
/// then provably in flight together, however slowly a loaded machine delivers them, where a fixed
/// delay only makes that likely.
///
/// If `count` is not reached within `holdSeconds` of the first request, it answers those waiting and
/// every later one at once, and `mostHeld` says how many were ever waiting together: a gateway that
/// does not send the calls concurrently fails the test's assertion instead of hanging it.
final class HeldAnswersBackend: @unchecked Sendable {
    // @unchecked: `held`, `most`, `released` and `deadline` are only touched under `condition`; each
    // connection thread owns its descriptor.
    let port: Int
    let count: Int
    let holdSeconds: Double
    private let listener: Int32
    private let condition = NSCondition()
    private var held = 0
    private var most = 0
    private var released = false
    private var deadline: Date?

    init(count: Int, holdSeconds: Double = 5) throws {
        self.count = count
        self.holdSeconds = holdSeconds
        let (listener, port) = try LoopbackListener.open(backlog: 128, reuseAddress: true)
        self.listener = listener
        self.port = port
        LoopbackListener.serveEach(listener, owner: self) { owner, connection in owner.serve(connection) }
    }

    func stop() {
        LoopbackListener.stop(listener)
    }

    /// The most requests that were waiting for their answers at one moment.
    var mostHeld: Int {
        condition.lock()
        defer { condition.unlock() }
        return most
    }

    private func serve(_ connection: Int32) {
        defer { close(connection) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        // nginx sends a GET without a body: the request ends at the blank line.
        var request: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while !request.suffix(4).elementsEqual([13, 10, 13, 10]) {
            let received = chunk.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            guard received > 0 else { return }
            request.append(contentsOf: chunk[..<received])
        }
        waitForTheOthers()
        let body = "[35,36]"
        let answer = Array("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)".utf8)
        _ = answer.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Returns once `count` requests are waiting (or the hold ran out).
    private func waitForTheOthers() {
        condition.lock()
        defer { condition.unlock() }
        held += 1
        most = max(most, held)
        let until = deadline ?? Date().addingTimeInterval(holdSeconds)
        deadline = until
        if held >= count { released = true }
        while !released && condition.wait(until: until) {}
        released = true
        held -= 1
        condition.broadcast()
    }
}
