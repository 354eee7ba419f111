#if canImport(Glibc)
import Glibc
#endif
import JustGateHTTP
import JustGateReactor

/// One client connection: its bytes in, its responses out, and the HTTP/1.1 state between them.
///
/// Requests on a connection are handled strictly one at a time: while a request waits for its
/// answer, later pipelined bytes stay in the buffer, so answers go out in request order and each
/// exactly once. The connection is confined to its event loop's thread.
final class Connection {
    enum Phase: Equatable {
        /// Between requests: no byte of the next request has arrived.
        case idle
        case readingHead
        case readingBody
        case awaitingResponse
        /// A final response is being written; the connection closes once it is out.
        case closing
        /// Write side shut, draining what the client still sends so our last answer is not lost to a reset.
        case lingering
        case closed
    }

    enum Deadline { case none, firstByte, idle, header, body, write, linger }

    let fd: Int32
    unowned let loop: ServerLoop
    private let peer: sockaddr_storage
    private var peerText: String?
    /// The order connections were accepted in on this loop, so eviction can pick the oldest.
    let serial: UInt64
    /// The peer's address when the loop counts connections per peer (`maxConnectionsPerPeer`).
    let peerKey: String?

    private(set) var phase: Phase = .idle
    /// Bumped for every request so a `Responder` can tell whether it still belongs to the live request.
    private(set) var generation: UInt64 = 0
    var cancelHandler: (() -> Void)?

    private var input: [UInt8] = []
    private var inputStart = 0
    private var parser: HTTPRequestHeadParser
    private var head: HTTPRequestHead?
    /// The client of the request whose head was parsed last (`ClientAddress`): the peer, unless the peer is a
    /// trusted proxy.
    private var client = ""
    private var body: [UInt8] = []
    /// What the handler's screen carried for the request whose body is being read (`HTTPHandler.handle`'s `screened`).
    private var screened: AnyObject?
    private var chunkedDecoder: ChunkedBodyDecoder?
    private var requestStartNanos: UInt64 = 0
    private var keepAlive = true
    /// The request being answered is a HEAD: its answer states the body's length but carries no body, or a
    /// keep-alive client would read that body as the next response (RFC 9110 §9.3.2). Every answer path
    /// (handler, screen, server-made error) writes through `write(_:keepAlive:)`, which reads it.
    private var answeringHead = false

    private var output: [UInt8] = []
    private var outputStart = 0
    private var processing = false
    /// Set when we answer an error mid-stream: the client may still be sending, so linger before closing.
    private var lingerOnClose = false
    private var peerGone = false

    /// When the current phase times out (on the loop's clock); nil when nothing is timed.
    private(set) var deadline: MonotonicInstant?
    private(set) var deadlineKind: Deadline = .none
    private var interest: IOEvents = .readable
    /// What epoll currently has for this socket, so unchanged interest costs no `epoll_ctl`.
    private var registered: IOEvents = .readable

    init(fd: Int32, peer: sockaddr_storage, loop: ServerLoop, serial: UInt64 = 0, peerKey: String? = nil) {
        self.fd = fd
        self.peer = peer
        self.loop = loop
        self.serial = serial
        self.peerKey = peerKey
        self.peerText = peerKey
        self.parser = HTTPRequestHeadParser(limits: loop.configuration.limits)
        setDeadline(loop.configuration.firstByteTimeoutMs != nil ? .firstByte : .idle)
    }

    var isAwaitingResponse: Bool { phase == .awaitingResponse }

    /// No request is in progress: nothing read since the last answer, or a head not yet complete, and no
    /// answer still being written. Such a connection may be closed to make room
    /// (`ServerConfiguration.evictIdleWhenFull`) without losing an answer.
    var isEvictable: Bool { (phase == .idle || phase == .readingHead) && outputStart == output.count }

    var remoteAddress: String {
        if let peerText { return peerText }
        let text = SocketAddress(storage: peer, length: socklen_t(MemoryLayout<sockaddr_storage>.size)).host
        peerText = text
        return text
    }

    // MARK: - Reading

    /// Reads what the socket has and acts on it.
    func readable() {
        while phase != .closed {
            let count = read(fd, loop.scratch.baseAddress, loop.scratch.count)
            if count > 0 {
                if phase == .lingering { continue }
                input.append(contentsOf: UnsafeRawBufferPointer(rebasing: loop.scratch[0..<count]))
                if count < loop.scratch.count || input.count - inputStart >= loop.maxBufferedInput { break }
            } else if count == 0 {
                peerClosed()
                return
            } else {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { break }
                close()
                return
            }
        }
        process()
        updateInterest()
    }

    private func peerClosed() {
        switch phase {
        case .closing where outputStart < output.count:
            // Keep writing the last answer; reading is over.
            peerGone = true
            interest.remove(.readable)
            updateInterest()
        default:
            close()
        }
    }

    /// Parses and dispatches as many buffered requests as the current state allows.
    private func process() {
        guard !processing else { return }
        processing = true
        defer { processing = false }
        while true {
            if output.count - outputStart > loop.maxPendingOutput { return }
            switch phase {
            case .idle, .readingHead:
                guard inputStart < input.count else {
                    compactInput()
                    return
                }
                if phase == .idle {
                    phase = .readingHead
                    answeringHead = false
                    requestStartNanos = MonotonicInstant.now().nanoseconds
                    setDeadline(.header)
                }
                guard parseHead() else { return }
            case .readingBody:
                guard readBody() else { return }
            case .awaitingResponse, .closing, .lingering, .closed:
                return
            }
        }
    }

    /// Returns true when a head was parsed and the state moved on.
    private func parseHead() -> Bool {
        let start = inputStart
        let parsedHead: (head: HTTPRequestHead, consumed: Int)?
        do {
            parsedHead = try input.withBytes { raw throws(HTTPParseError) in
                try parser.parse(UnsafeRawBufferPointer(rebasing: raw[start...]))
            }
        } catch {
            fail(status: error.status, detail: error.reason)
            return false
        }
        guard let (parsed, consumed) = parsedHead else { return false }
        inputStart += consumed
        parser.reset()
        head = parsed
        client = ClientAddress.resolve(peer: remoteAddress, head: parsed, trusted: loop.configuration.trustedProxies)
        keepAlive = parsed.keepAlive
        answeringHead = parsed.method == "HEAD"
        body = []
        screened = nil
        switch parsed.framing {
        case .none:
            dispatch()
        case .contentLength(let length):
            if length == 0 { dispatch(); return true }
            if answeredFromHead(parsed) { return true }
            body.reserveCapacity(length)
            beginBody(parsed)
        case .chunked:
            if answeredFromHead(parsed) { return true }
            chunkedDecoder = ChunkedBodyDecoder(maxBodyBytes: loop.configuration.limits.maxBodyBytes)
            beginBody(parsed)
        }
        return true
    }

    /// Lets the handler answer a request from its head alone (`HTTPHandler.screen`). The body is
    /// then neither invited nor read: the answer goes out with `Connection: close` and the
    /// connection lingers, discarding what the client still sends, so the answer is not lost to a reset.
    private func answeredFromHead(_ parsed: HTTPRequestHead) -> Bool {
        let response: HTTPResponse
        switch loop.screen(parsed, remoteAddress: client, receivedAtNanos: requestStartNanos) {
        case .proceed(let carrying):
            screened = carrying
            return false
        case .answer(let answer):
            response = answer
        }
        head = nil
        phase = .awaitingResponse
        generation &+= 1
        setDeadline(.none)
        keepAlive = false
        lingerOnClose = true
        complete(response)
        return true
    }

    private func beginBody(_ head: HTTPRequestHead) {
        phase = .readingBody
        setDeadline(.body)
        if head.expectsContinue && head.versionMinor >= 1 && inputStart == input.count {
            output.append(contentsOf: HTTPResponseWriter.continueResponse)
            flush()
        }
    }

    /// Returns true when the body is complete and the request was dispatched.
    private func readBody() -> Bool {
        guard let head else { return false }
        switch head.framing {
        case .contentLength(let length):
            let available = input.count - inputStart
            guard available >= length else { return false }
            body.append(contentsOf: input[inputStart..<(inputStart + length)])
            inputStart += length
        case .chunked:
            guard var decoder = chunkedDecoder else { return false }
            let start = inputStart
            var decoded = body
            body = []
            let step: (consumed: Int, done: Bool)
            do {
                step = try input.withBytes { raw throws(HTTPParseError) in
                    try decoder.decode(UnsafeRawBufferPointer(rebasing: raw[start...]), into: &decoded)
                }
                body = decoded
            } catch {
                fail(status: error.status, detail: error.reason)
                return false
            }
            chunkedDecoder = decoder
            inputStart += step.consumed
            guard step.done else { return false }
            chunkedDecoder = nil
        case .none:
            break
        }
        dispatch()
        return true
    }

    private func dispatch() {
        guard let head else { return }
        self.head = nil
        phase = .awaitingResponse
        generation &+= 1
        setDeadline(.none)
        if loop.isDraining { keepAlive = false }
        let request = ServerRequest(head: head, body: body, remoteAddress: client, receivedAtNanos: requestStartNanos)
        let carried = screened
        body = []
        screened = nil
        loop.handle(request, screened: carried, responder: Responder(connection: self, generation: generation))
    }

    private func compactInput() {
        if inputStart == input.count {
            input.removeAll(keepingCapacity: input.capacity <= 65536)
            inputStart = 0
        }
    }

    // MARK: - Writing

    /// Called through `Responder` with the answer to the request in flight.
    func complete(_ response: HTTPResponse) {
        guard phase == .awaitingResponse else { return }
        cancelHandler = nil
        // An answer finished while the server drains is the connection's last: the drain waits for
        // connections to close, not for idle keep-alive ones to time out.
        if loop.isDraining { keepAlive = false }
        write(response, keepAlive: keepAlive)
        if keepAlive {
            phase = .idle
            setDeadline(.idle)
        } else {
            phase = .closing
        }
        flush()
        guard phase != .closed else { return }
        if inputStart > 0 && inputStart == input.count { compactInput() }
        process()
        updateInterest()
    }

    /// Answers an error the server found itself and closes: after a framing error nothing that
    /// follows on this connection can be trusted.
    func fail(status: Int, detail: String) {
        guard phase != .closed, phase != .closing, phase != .lingering else { return }
        cancelHandler = nil
        lingerOnClose = true
        let response = loop.configuration.errorResponse(status, detail)
        write(response, keepAlive: false)
        // A request screened before its body failed here is recorded from what the server knows; the screen's
        // state for it is dropped.
        screened = nil
        loop.handler?.serverAnswered(ServerAnswer(
            response: response, method: head?.method, path: head.map { String($0.path) }, remoteAddress: head == nil ? remoteAddress : client,
            receivedAtNanos: requestStartNanos != 0 ? requestStartNanos : MonotonicInstant.now().nanoseconds))
        phase = .closing
        flush()
        updateInterest()
    }

    /// Queues one answer; the only place answers are serialised, so a HEAD's answer is bodiless on every path.
    private func write(_ response: HTTPResponse, keepAlive: Bool) {
        HTTPResponseWriter.write(response, keepAlive: keepAlive, extraHeaders: loop.commonHeaders,
                                 omitBody: answeringHead, into: &output)
    }

    /// Writes pending output; parks on `.writable` when the socket is full.
    func flush() {
        while outputStart < output.count {
            let written = output.withUnsafeBytes { raw in
                send(fd, raw.baseAddress.map { $0 + outputStart }, raw.count - outputStart, Int32(MSG_NOSIGNAL))
            }
            if written > 0 {
                outputStart += written
            } else if written < 0 && errno == EINTR {
                continue
            } else if written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                interest.insert(.writable)
                setDeadline(.write)
                return
            } else {
                close()
                return
            }
        }
        output.removeAll(keepingCapacity: output.capacity <= 65536)
        outputStart = 0
        interest.remove(.writable)
        if deadlineKind == .write { setDeadline(phase == .idle ? .idle : .none) }
        if phase == .closing { finishClosing() }
    }

    func writable() {
        flush()
        if phase != .closed {
            process()
            updateInterest()
        }
    }

    /// Half-closes and drains briefly instead of closing outright: closing with unread input makes
    /// the kernel send a reset, which can destroy the error response before the client reads it.
    private func finishClosing() {
        if peerGone || (!lingerOnClose && inputStart == input.count) {
            close()
            return
        }
        shutdown(fd, Int32(SHUT_WR))
        phase = .lingering
        input.removeAll()
        inputStart = 0
        interest = .readable
        setDeadline(.linger)
    }

    // MARK: - Lifecycle

    func updateInterest() {
        guard phase != .closed else { return }
        var wanted = interest
        let backlog = input.count - inputStart
        if phase != .lingering && backlog >= loop.maxBufferedInput { wanted.remove(.readable) }
        guard wanted != registered else { return }
        registered = wanted
        if !loop.setInterest(self, wanted) { close() }
    }

    private func setDeadline(_ kind: Deadline) {
        deadlineKind = kind
        let timeout: Int
        switch kind {
        case .none: deadline = nil; return
        case .firstByte: timeout = loop.configuration.firstByteTimeoutMs ?? loop.configuration.idleTimeoutMs
        case .idle: timeout = loop.configuration.idleTimeoutMs
        case .header: timeout = loop.configuration.headerTimeoutMs
        case .body: timeout = loop.configuration.bodyTimeoutMs
        case .write: timeout = loop.configuration.idleTimeoutMs
        case .linger: timeout = 2_000
        }
        deadline = loop.now.advanced(byMilliseconds: max(1, timeout))
    }

    /// Called by the loop's sweep when `deadline` has passed.
    func deadlineExpired() {
        switch deadlineKind {
        case .header:
            fail(status: 408, detail: "The request head was not complete within the header timeout; send the whole request promptly.")
        case .body:
            fail(status: 408, detail: "The request body was not complete within the body timeout; send the whole body promptly.")
        case .firstByte, .idle, .write, .linger:
            close()
        case .none:
            break
        }
    }

    /// Used when draining: closes a connection that is between requests (its client opens a new one, to
    /// whichever process listens then). A connection that has not sent its first request yet is kept: it
    /// was accepted for a request that is on its way, and closing it would fail that request (in a hand-over,
    /// one the replacing process would have served). It gets that one request, answered with
    /// `Connection: close`, and otherwise waits out its deadline or the drain's, whichever comes first.
    func closeIfIdle() {
        if phase == .idle && generation > 0 { close() }
    }

    func close() {
        guard phase != .closed else { return }
        let wasAwaiting = phase == .awaitingResponse
        phase = .closed
        loop.remove(self)
        _ = Glibc.close(fd)
        if wasAwaiting, let cancel = cancelHandler {
            cancelHandler = nil
            cancel()
        }
    }
}
